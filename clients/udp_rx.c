/* The receiving half of the UDP engine: answers are read in batches with
 * recvmmsg together with their kernel receive stamps (with UDP GRO, a buffer
 * may hold a run of answers that arrived together), the error queue gives
 * ICMP errors and transmit stamps, and each is matched to its probe through
 * the flow's ring. The RTT is the kernel's receive stamp minus the kernel's
 * transmit stamp when both exist, so time an answer spends queued behind a
 * busy prober is not counted; a missing stamp falls back to the user-space
 * clock and is counted (ctx->ts_user). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ah/clock.h"
#include "ah/log.h"
#include "ah/udp_gro.h"
#include "tstamp.h"
#include "udp_int.h"

/* Receive slot size without UDP GRO: a longer answer is cut (MSG_TRUNC) and
 * judged on what fits, which no identity answer this prober asks for
 * reaches. With GRO a slot holds a whole coalesced buffer (AH_UDP_GRO_BUF);
 * only the pages a read fills are ever touched. */
#define RX_SLOT 4096
/* recvmmsg rounds per wake-up before the loop runs other handles. */
#define RX_ROUNDS 8
/* An ICMP error quotes at most this much of our datagram here. */
#define ERR_DATA 600

/* One set of buffers for every socket: callbacks run one at a time. */
static struct rx_area {
    struct mmsghdr msg[UDP_MMSG];
    struct iovec iov[UDP_MMSG];
    struct sockaddr_storage from[UDP_MMSG];
    union {
        char buf[TSTAMP_CMSG_SPACE + AH_UDP_GRO_CMSG_SPACE];
        struct cmsghdr align;
    } cbuf[UDP_MMSG];
    uint8_t data[UDP_MMSG][AH_UDP_GRO_BUF];
} rx;

static void rx_prepare(size_t slot)
{
    for (unsigned i = 0; i < UDP_MMSG; i++) {
        rx.iov[i].iov_base = rx.data[i];
        rx.iov[i].iov_len = slot;
        rx.msg[i].msg_hdr = (struct msghdr){
            .msg_name = &rx.from[i],
            .msg_namelen = sizeof(rx.from[i]),
            .msg_iov = &rx.iov[i],
            .msg_iovlen = 1,
            .msg_control = rx.cbuf[i].buf,
            .msg_controllen = sizeof(rx.cbuf[i].buf),
        };
        rx.msg[i].msg_len = 0;
    }
}

void udp_rx_finalize(struct udp_flow *f, struct udp_slot *s, enum ah_result res, const char *node,
                     const char *detail, uint64_t rtt_ns)
{
    struct probe_ctx *ctx = f->e->ctx;
    struct probe_row row = {
        .transport = AH_TR_UDP,
        .service = f->svc,
        .conn = f->port,
        .seq = s->seq,
        .ts_ns = s->tx_ns ? s->tx_ns : s->real_ns,
        .rtt_ns = rtt_ns,
        .result = res,
        .node = node,
        .detail = detail,
    };
    record_probe(ctx, &row);
    s->seq = 0;
    ctx->outstanding--;
}

/* The slot of an outstanding probe whose payload (a reply, or our own
 * request quoted back by ICMP) is buf; NULL if none matches. */
static struct udp_slot *match(struct udp_flow *f, const uint8_t *buf, size_t len, bool reply)
{
    struct udp_slot *s;
    uint64_t flow, seq;

    if (f->svc == AH_SVC_DNS) {
        uint16_t id;
        if (wire_dns_id(buf, len, &id) < 0)
            return NULL;
        uint16_t low = (uint16_t)(id - f->id_base);
        s = &f->ring[low & f->mask];
        if (s->seq == 0 || (uint16_t)s->seq != low)
            return NULL;
        return s;
    }
    if ((reply ? wire_echo_reply_parse(buf, len, &flow, &seq)
               : wire_echo_request_parse(buf, len, &flow, &seq)) < 0)
        return NULL;
    if (flow != f->port)
        return NULL;
    s = &f->ring[seq & f->mask];
    return s->seq == seq && seq != 0 ? s : NULL;
}

/* A transmit stamp is for one datagram, or for a GSO batch whose datagrams
 * are consecutive probes sharing the key: txseq names the first. */
static void on_tx_stamp(struct udp_flow *f, uint32_t key, uint64_t ns)
{
    uint64_t seq = f->txseq[key & f->mask];

    for (uint32_t i = 0; seq != 0 && i <= f->mask; i++, seq++) {
        struct udp_slot *s = &f->ring[seq & f->mask];
        if (s->seq != seq || s->txepoch != f->tx_epoch || s->txkey != key)
            break;
        s->tx_ns = ns;
    }
}

static void on_err_msg(struct udp_flow *f, const struct msghdr *m, size_t len)
{
    struct tstamp_err te;
    struct udp_slot *s;

    tstamp_err_parse(m, &te);
    if (te.kind == TSTAMP_TX) {
        on_tx_stamp(f, te.key, te.ns);
        return;
    }
    if (te.kind != TSTAMP_ICMP)
        return;
    s = match(f, m->msg_iov[0].iov_base, len, false);
    if (s == NULL) {
        f->e->stray++;
        return;
    }
    udp_rx_finalize(f, s, ah_result_from_errno(te.err), NULL, ah_errno_name(te.err), 0);
}

void udp_rx_errqueue(struct udp_flow *f)
{
    /* Bounded: the queue holds at most what the receive buffer allows. */
    for (int guard = 0; guard < 4096; guard++) {
        rx_prepare(ERR_DATA);
        int n = recvmmsg(f->fd, rx.msg, UDP_MMSG, MSG_ERRQUEUE | MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        for (int i = 0; i < n; i++)
            on_err_msg(f, &rx.msg[i].msg_hdr, rx.msg[i].msg_len);
        if (n < UDP_MMSG)
            return;
    }
}

static bool same_addr(const struct sockaddr *a, const struct ah_addr *b)
{
    if (a->sa_family != b->ss.ss_family)
        return false;
    if (a->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)&b->ss;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)&b->ss;
    return x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

/* The RTT of the probe in s answered at rx_real (kernel receive stamp, 0 if
 * none) or, as seen in user space, at now_mono. Both kernel stamps are
 * CLOCK_REALTIME; a pair that goes backwards (the clock was stepped) is not
 * used. */
static uint64_t probe_rtt(struct probe_ctx *ctx, enum ah_service svc, const struct udp_slot *s,
                          uint64_t rx_real, uint64_t now_mono)
{
    if (rx_real != 0 && s->tx_ns != 0 && rx_real >= s->tx_ns) {
        ctx->ts_kernel[svc]++;
        return rx_real - s->tx_ns;
    }
    if (ctx->o->timestamps_kernel)
        ctx->ts_user[svc]++;
    if (rx_real != 0 && rx_real >= s->real_ns && s->tx_ns == 0)
        return rx_real - s->real_ns;
    return now_mono - s->mono_ns;
}

static void judge_reply(struct udp_flow *f, struct udp_slot *s, const uint8_t *buf, size_t len,
                        const struct sockaddr *addr, uint64_t rtt)
{
    struct probe_ctx *ctx = f->e->ctx;
    struct wire_verdict v;

    if (!same_addr(addr, &f->dst)) {
        struct ah_addr from = {.len = addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                                                 : sizeof(struct sockaddr_in6)};
        char name[AH_ADDR_STRLEN], detail[AH_ADDR_STRLEN + 8];
        memcpy(&from.ss, addr, from.len);
        ah_addr_format(&from, true, name, sizeof(name));
        snprintf(detail, sizeof(detail), "from %s", name);
        udp_rx_finalize(f, s, AH_RES_BAD_REPLY, NULL, detail, rtt);
        return;
    }
    if (f->svc == AH_SVC_DNS) {
        wire_dns_judge(&ctx->o->query, buf, len, &v);
    } else {
        char line[64];
        int ln = wire_echo_line(f->port, s->seq, line, sizeof(line));
        wire_echo_judge(buf, len, (const uint8_t *)line, ln > 0 ? (size_t)ln : 0, &v);
    }
    udp_rx_finalize(f, s, v.result, v.node, v.detail, rtt);
}

/* One answer of a buffer read at now_mono from addr; rx_real is the
 * buffer's kernel receive stamp (0 if none), which every answer of a
 * coalesced buffer shares: they arrived together. */
static void on_reply(struct udp_flow *f, const uint8_t *buf, size_t len,
                     const struct sockaddr *addr, uint64_t rx_real, uint64_t now_mono)
{
    struct probe_ctx *ctx = f->e->ctx;
    struct udp_slot *s;

    if (len == 0)
        return;
    s = match(f, buf, len, true);
    if (s == NULL) {
        f->e->stray++;
        return;
    }
    uint64_t rtt = probe_rtt(ctx, f->svc, s, rx_real, now_mono);
    if (rtt > ctx->o->timeout_ns) {
        udp_rx_finalize(f, s, AH_RES_TIMEOUT, NULL, NULL, 0);
        return;
    }
    judge_reply(f, s, buf, len, addr, rtt);
}

/* One buffer of recvmmsg: a datagram, or with UDP GRO a run of datagrams of
 * the control message's size (the last may be shorter), each its own answer. */
static void on_buffer(struct udp_flow *f, const struct mmsghdr *mm, size_t slot, uint64_t now_mono)
{
    const struct msghdr *m = &mm->msg_hdr;
    const uint8_t *buf = m->msg_iov[0].iov_base;
    size_t len = mm->msg_len < slot ? mm->msg_len : slot, off = 0;
    size_t seg = f->gro ? ah_udp_gro_size(m) : 0;
    uint64_t rx_real = 0;

    if (len == 0 || m->msg_namelen == 0)
        return;
    if (f->e->kernel_ts && tstamp_rx(m, &rx_real) < 0)
        rx_real = 0;
    f->e->rx_bufs++;
    do {
        size_t n = ah_udp_gro_next(len, seg, off);
        f->e->rx_dgrams++;
        on_reply(f, buf + off, n, (const struct sockaddr *)m->msg_name, rx_real, now_mono);
        off += n;
    } while (off < len);
}

void udp_rx_on_poll(uv_poll_t *p, int status, int events)
{
    struct udp_flow *f = p->data;
    struct probe_ctx *ctx = f->e->ctx;

    (void)events;
    /* A queued ICMP error or transmit stamp raises POLLERR, on which libuv
     * stops the handle and reports UV_EBADF: the queue is read (before the
     * answers, which may need their transmit stamps) and polling goes on.
     * Without POLLERR the queue was empty: the sends read their stamps. */
    if (status < 0) {
        if (!uv_is_closing((uv_handle_t *)p))
            uv_poll_start(p, UV_READABLE, udp_rx_on_poll);
        udp_rx_errqueue(f);
    }
    size_t slot = f->gro ? AH_UDP_GRO_BUF : RX_SLOT;
    for (int round = 0; round < RX_ROUNDS; round++) {
        rx_prepare(slot);
        int n = recvmmsg(f->fd, rx.msg, UDP_MMSG, MSG_DONTWAIT, NULL);
        if (n <= 0) {
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                ah_log_debug("udp recvmmsg: %s", strerror(errno));
            break;
        }
        uint64_t now = ah_clock_mono_ns();
        for (int i = 0; i < n; i++)
            on_buffer(f, &rx.msg[i], slot, now);
        if (n < UDP_MMSG)
            break;
    }
    run_check_idle(ctx);
}

void udp_rx_sweep(struct udp_flow *f, uint64_t now, uint64_t timeout, bool all)
{
    while (f->oldest <= f->last_seq) {
        struct udp_slot *s = &f->ring[f->oldest & f->mask];
        if (s->seq == f->oldest) {
            if (!all && now - s->mono_ns < timeout)
                break;
            udp_rx_finalize(f, s, AH_RES_TIMEOUT, NULL, NULL, 0);
        }
        f->oldest++;
    }
}
