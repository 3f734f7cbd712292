/* UDP probing, the sending half (udp_rx.c receives): one unconnected socket
 * per (flow, service), each with a fixed source port so a flow follows one
 * path; probes leave on an exact absolute schedule driven by a timerfd, each
 * flow's due probes in one sendmmsg, and with kernel timestamps on, the
 * kernel's transmit stamp of every datagram is its send time. */
#include <errno.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/log.h"
#include "ah/udp_gro.h"
#include "probe.h"
#include "sched.h"
#include "tstamp.h"
#include "udp_int.h"

/* At most this many probes leave per timer callback, so replies are read
 * between bursts when the loop falls behind; the rest follow at once. */
#define SEND_BATCH 512
/* Above 10k probes/s the timer is not armed for every probe but every
 * BATCH_PROBES probes' worth of time (100 us to 1 ms): the probes due in
 * between leave together, and their CSV rows show their real send times. A
 * wake-up per probe costs more than the probe itself (timer reprogramming,
 * epoll), and each batch also wakes the responder's core: measured here,
 * batches of 32 cut the probe's CPU by 15-40% at 100k/s, and 128 instead of
 * 32 about a third more at 200k/s (docs/bench.md, "The probe benchmark"). */
#define BATCH_RATE_MILLI (10000ull * SCHED_RATE_SCALE)
#define BATCH_PROBES     128ull
#define GAP_MIN_NS       100000ull
#define GAP_MAX_NS       AH_NS_PER_MS
/* The sweep that times out unanswered probes runs every tenth of the
 * timeout, within these bounds: a timeout row comes at most that much after
 * its time (an answer later than the timeout is a timeout anyway, see
 * udp_rx.c), and hundreds of probes on one machine (anycast-lab) are not
 * woken a hundred times a second each for it. */
#define SWEEP_MIN_MS 10
#define SWEEP_MAX_MS 100

/* The datagrams of one sendmmsg: every flow's batch is built here in turn. */
static struct tx_area {
    struct mmsghdr msg[UDP_MMSG];
    struct iovec iov[UDP_MMSG];
    struct udp_slot *slot[UDP_MMSG];
    uint8_t pkt[UDP_MMSG][WIRE_DNS_MAX];
} tx;

/* Places probe seq of flow f in tx slot i: its payload, its ring slot and
 * its user-space send times (one reading for the batch). */
static void build_one(struct udp_engine *e, struct udp_flow *f, unsigned i, uint64_t real,
                      uint64_t mono)
{
    uint64_t seq = ++f->last_seq;
    struct udp_slot *s = &f->ring[seq & f->mask];
    size_t len;

    if (s->seq != 0) {
        /* The ring is sized for 1.5 timeouts of probes; a probe still here
         * a whole ring later is overdue anyway. */
        e->collisions++;
        udp_rx_finalize(f, s, AH_RES_TIMEOUT, NULL, NULL, 0);
    }
    if (f->svc == AH_SVC_DNS) {
        len = wire_dns_query(&e->tpl, (uint16_t)(f->id_base + seq), tx.pkt[i]);
    } else {
        int n = wire_echo_line(f->port, seq, (char *)tx.pkt[i], WIRE_DNS_MAX);
        len = n > 0 ? (size_t)n : 0;
    }
    *s = (struct udp_slot){.seq = seq, .real_ns = real, .mono_ns = mono};
    tx.slot[i] = s;
    tx.iov[i] = (struct iovec){tx.pkt[i], len};
    tx.msg[i].msg_hdr = (struct msghdr){
        .msg_name = &f->dst.ss,
        .msg_namelen = f->dst.len,
        .msg_iov = &tx.iov[i],
        .msg_iovlen = 1,
    };
    e->ctx->sent[AH_TR_UDP]++;
    e->ctx->outstanding++;
}

/* The kernel numbers the datagrams a socket sends for their transmit stamps;
 * after a failed send it is not certain whether the failed datagram took a
 * number, so the stamps already queued are read and the count restarts. */
static void resync_keys(struct udp_flow *f)
{
    udp_rx_errqueue(f);
    if (tstamp_enable(f->fd, true) < 0) {
        f->e->kernel_ts = false;
        ah_log_warn("udp: kernel timestamps off: %s", strerror(errno));
    }
    f->tx_next = 0;
    f->tx_epoch = f->tx_epoch == UINT32_MAX ? 1 : f->tx_epoch + 1;
}

/* Gives tx slots [from, to) the next transmit-stamp key, recorded under
 * the first one's seq (on_tx_stamp in udp_rx.c walks on from there). */
static void give_key(struct udp_flow *f, unsigned from, unsigned to)
{
    uint32_t key = f->tx_next++;

    for (unsigned j = from; j < to; j++) {
        tx.slot[j]->txkey = key;
        tx.slot[j]->txepoch = f->tx_epoch;
    }
    f->txseq[key & f->mask] = tx.slot[from]->seq;
}

/* The kernel refuses UDP_SEGMENT sockets on some routes (IPsec) with EIO,
 * single datagrams included: the flow goes back to plain sends. */
static void gso_off(struct udp_flow *f)
{
    int off = 0;

    setsockopt(f->fd, SOL_UDP, UDP_SEGMENT, &off, sizeof(off));
    f->gso_size = 0;
    ah_log_debug("udp: no GSO on the route to the target, sending one by one");
}

/* Sends tx slots [0, m) of a DNS flow as one UDP GSO send: the kernel cuts
 * the buffer into gso_size datagrams, walking the stack once for the batch,
 * and stamps the batch once (its datagrams leave together). Returns 0 when
 * done (sent, or every probe ended with the error), or -EIO when the route's
 * device cannot segment: GSO is then turned off for the flow and the caller
 * sends the datagrams one by one. */
static int send_gso(struct udp_engine *e, struct udp_flow *f, unsigned m)
{
    struct msghdr mh = {
        .msg_name = &f->dst.ss,
        .msg_namelen = f->dst.len,
        .msg_iov = tx.iov,
        .msg_iovlen = m,
    };
    ssize_t r;

    do
        r = sendmsg(f->fd, &mh, MSG_DONTWAIT);
    while (r < 0 && errno == EINTR);
    if (r >= 0) {
        give_key(f, 0, m);
        return 0;
    }
    int err = -errno;
    if (err == -EIO) {
        gso_off(f);
        return err;
    }
    for (unsigned j = 0; j < m; j++)
        udp_rx_finalize(f, tx.slot[j], ah_result_from_errno(err), NULL, ah_errno_name(err), 0);
    if (e->kernel_ts)
        resync_keys(f);
    return 0;
}

/* Sends tx slots [0, m) on flow f; a datagram the kernel refuses ends its
 * probe with the error and the rest still leave. */
static void flush_flow(struct udp_engine *e, struct udp_flow *f, unsigned m)
{
    unsigned off = 0;

    if (f->gso_size != 0 && m > 1 && send_gso(e, f, m) == 0)
        off = m;
    while (off < m) {
        int r = sendmmsg(f->fd, tx.msg + off, m - off, MSG_DONTWAIT);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EIO && f->gso_size != 0) {
            gso_off(f);
            continue;
        }
        if (r < 0) {
            int err = -errno;
            udp_rx_finalize(f, tx.slot[off], ah_result_from_errno(err), NULL, ah_errno_name(err),
                            0);
            off++;
            if (e->kernel_ts)
                resync_keys(f);
            continue;
        }
        for (unsigned j = off; j < off + (unsigned)r; j++)
            give_key(f, j, j + 1);
        off += (unsigned)r;
    }
    /* The stamps are queued while the datagrams are handed to the device,
     * so they are read at once, before any answer can need them. */
    if (e->kernel_ts)
        udp_rx_errqueue(f);
}

/* Sends probes [k0, k0 + count) of the schedule: probe k belongs to flow
 * k % n, and each flow's share leaves in one send (GSO or sendmmsg). Only
 * the flows with a probe due are visited: thousands of flows at a low rate
 * cost one flow per probe, not a sweep over all of them. */
static void send_due(struct udp_engine *e, uint64_t k0, uint64_t count)
{
    uint64_t busy = count < e->n ? count : e->n;

    for (uint64_t j = 0; j < busy; j++) {
        struct udp_flow *f = &e->flows[(k0 + j) % e->n];
        uint64_t real = ah_clock_realtime_ns(), mono = ah_clock_mono_ns();
        unsigned m = 0;

        for (uint64_t k = k0 + j; k < k0 + count; k += e->n) {
            build_one(e, f, m++, real, mono);
            if (m == UDP_MMSG) {
                flush_flow(e, f, m);
                m = 0;
                real = ah_clock_realtime_ns();
                mono = ah_clock_mono_ns();
            }
        }
        if (m > 0)
            flush_flow(e, f, m);
    }
}

static void arm(struct udp_engine *e, uint64_t at)
{
    struct itimerspec its = {0};

    if (at == 0)
        at = 1; /* 0 would disarm */
    its.it_value.tv_sec = (time_t)(at / 1000000000ull);
    its.it_value.tv_nsec = (long)(at % 1000000000ull);
    timerfd_settime(e->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void stop_timer(struct udp_engine *e)
{
    struct itimerspec its = {0};
    timerfd_settime(e->tfd, 0, &its, NULL);
}

static void on_tick(uv_poll_t *p, int status, int events)
{
    struct udp_engine *e = p->data;
    struct probe_ctx *ctx = e->ctx;
    uint64_t exp, now, due, next, count;

    (void)status;
    (void)events;
    if (read(e->tfd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
        ah_log_debug("timerfd read: %s", strerror(errno));
    if (!e->sending)
        return;
    now = ah_clock_mono_ns();
    due = sched_due(ctx->start_mono, ctx->o->rate_milli, now);
    if (due > e->total)
        due = e->total;
    count = due > e->k ? due - e->k : 0;
    if (count > SEND_BATCH)
        count = SEND_BATCH;
    send_due(e, e->k, count);
    e->k += count;
    if (e->k >= e->total) {
        udp_stop_sending(ctx);
        run_done_sending(ctx, AH_TR_UDP);
        return;
    }
    if (e->k < due) {
        arm(e, now); /* more is due: continue after the loop polls */
        return;
    }
    next = sched_deadline(ctx->start_mono, ctx->o->rate_milli, e->k);
    if (next < now + e->min_gap)
        next = now + e->min_gap;
    arm(e, next);
}

static void on_sweep(uv_timer_t *t)
{
    struct udp_engine *e = t->data;
    uint64_t now = ah_clock_mono_ns();

    for (unsigned i = 0; i < e->n; i++)
        udp_rx_sweep(&e->flows[i], now, e->ctx->o->timeout_ns, false);
    run_check_idle(e->ctx);
}

static void engine_free(struct udp_engine *e)
{
    if (e->tfd >= 0)
        close(e->tfd);
    for (unsigned i = 0; i < e->n; i++) {
        if (e->flows[i].fd >= 0)
            close(e->flows[i].fd);
        free(e->flows[i].ring);
        free(e->flows[i].txseq);
    }
    free(e->flows);
    free(e);
}

static void on_closed(uv_handle_t *h)
{
    struct udp_engine *e = h->data;
    if (--e->open_handles == 0)
        engine_free(e);
}

static void on_flow_closed(uv_handle_t *h)
{
    struct udp_flow *f = h->data;
    struct udp_engine *e = f->e;

    close(f->fd);
    f->fd = -1;
    if (--e->open_handles == 0)
        engine_free(e);
}

/* A bound, non-blocking socket with ICMP errors queued (IP_RECVERR), a
 * large receive buffer, and kernel timestamps when asked for. */
static int flow_socket(struct udp_engine *e, int family)
{
    const struct probe_opts *o = e->ctx->o;
    struct ah_addr src;
    char name[AH_ADDR_STRLEN];
    int fd, on = 1, bufsz = 4 << 20, rc;

    fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        ah_log_error("udp socket: %s", strerror(errno));
        return rc;
    }
    if (family == AF_INET)
        setsockopt(fd, SOL_IP, IP_RECVERR, &on, sizeof(on));
    else
        setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &on, sizeof(on));
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
    if (e->kernel_ts && (rc = tstamp_enable(fd, false)) < 0) {
        ah_log_warn("udp: no kernel timestamps (%s): RTT from user-space clocks", strerror(-rc));
        e->kernel_ts = false;
    }
    if (o->has_source) {
        src = o->source;
    } else {
        memset(&src, 0, sizeof(src));
        ah_addr_parse_ip(family == AF_INET ? "0.0.0.0" : "::", &src);
    }
    ah_addr_set_port(&src, 0);
    if (bind(fd, (const struct sockaddr *)&src.ss, src.len) < 0) {
        rc = -errno;
        ah_addr_format(&src, false, name, sizeof(name));
        ah_log_error("bind %s/udp: %s", name, strerror(errno));
        close(fd);
        return rc;
    }
    return fd;
}

static int open_flow(struct udp_engine *e, struct udp_flow *f, enum ah_service svc, uint32_t ring)
{
    const struct probe_opts *o = e->ctx->o;
    int family = ah_addr_family(&o->target), rc;
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);

    f->svc = svc;
    f->oldest = 1;
    f->mask = ring - 1;
    f->tx_epoch = 1;
    f->id_base = (uint16_t)random();
    f->ring = calloc(ring, sizeof(*f->ring));
    f->txseq = calloc(ring, sizeof(*f->txseq));
    if (f->ring == NULL || f->txseq == NULL)
        return -ENOMEM;
    rc = flow_socket(e, family);
    if (rc < 0)
        return rc;
    f->fd = rc;
    if (getsockname(f->fd, (struct sockaddr *)&ss, &sslen) < 0)
        return -errno;
    f->port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                      : ((struct sockaddr_in6 *)&ss)->sin6_port);
    /* Not connected: a connect() would fail for good while the target has
     * no route, and replies from another source (a wildcard-bound server)
     * are worth reporting rather than dropping. */
    f->dst = o->target;
    ah_addr_set_port(&f->dst, o->port[svc]);
    /* Every query of a DNS flow has the template's length: batches can go
     * as one GSO send. Echo lines differ in length and go by sendmmsg. */
    int seg = (int)e->tpl.len;
    if (svc == AH_SVC_DNS && seg > 0 &&
        setsockopt(f->fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg)) == 0)
        f->gso_size = (uint16_t)seg;
    /* Answers the responder sends as one UDP GSO message then arrive as one
     * buffer instead of being split into a packet each on the way in
     * (udp_rx.c splits them); a kernel without UDP_GRO (before 5.0) reads
     * them one by one as before. */
    if (o->udp_gro && ah_udp_gro_enable(f->fd) == 0)
        f->gro = true;
    rc = uv_poll_init_socket(e->ctx->loop, &f->h, f->fd);
    if (rc < 0) {
        ah_log_error("udp poll: %s", uv_strerror(rc));
        return rc;
    }
    f->h.data = f;
    f->e = e;
    e->open_handles++;
    rc = uv_poll_start(&f->h, UV_READABLE, udp_rx_on_poll);
    if (rc < 0)
        ah_log_error("udp poll: %s", uv_strerror(rc));
    return rc;
}

int udp_start(struct probe_ctx *ctx)
{
    const struct probe_opts *o = ctx->o;
    struct udp_engine *e;
    unsigned nsvc = 0;
    uint32_t ring;
    int rc;

    for (int s = 0; s < AH_SVC_COUNT; s++)
        nsvc += o->service[s];
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        return -ENOMEM;
    e->ctx = ctx;
    e->tfd = -1;
    ctx->udp = e;
    e->n = o->flows * nsvc;
    e->flows = calloc(e->n, sizeof(*e->flows));
    if (e->flows == NULL)
        return -ENOMEM;
    for (unsigned i = 0; i < e->n; i++)
        e->flows[i].fd = -1;
    e->kernel_ts = o->timestamps_kernel;
    e->total = UINT64_MAX;
    if (o->count)
        e->total = o->count;
    if (o->duration_ns) {
        uint64_t t = sched_total(o->rate_milli, o->duration_ns);
        if (t < e->total)
            e->total = t;
    }
    if (o->once)
        e->total = nsvc;
    if (o->rate_milli > BATCH_RATE_MILLI) {
        e->min_gap = BATCH_PROBES * AH_NS_PER_S * SCHED_RATE_SCALE / o->rate_milli;
        if (e->min_gap < GAP_MIN_NS)
            e->min_gap = GAP_MIN_NS;
        if (e->min_gap > GAP_MAX_NS)
            e->min_gap = GAP_MAX_NS;
    }
    if (o->service[AH_SVC_DNS]) {
        rc = wire_dns_template(&o->query, &e->tpl);
        if (rc < 0) {
            ah_log_error("cannot build the DNS query: %s", strerror(-rc));
            return rc;
        }
    }
    ring = sched_ring_size(o->rate_milli / e->n + 1, o->timeout_ns);
    /* Flow-major order: probe k goes to flow (k / nsvc) % flows and the
     * services take turns within a flow. */
    for (unsigned fl = 0, i = 0; fl < o->flows; fl++) {
        for (int s = 0; s < AH_SVC_COUNT; s++) {
            if (!o->service[s])
                continue;
            rc = open_flow(e, &e->flows[i++], (enum ah_service)s, ring);
            if (rc < 0)
                return rc;
        }
    }
    e->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (e->tfd < 0) {
        rc = -errno;
        ah_log_error("timerfd: %s", strerror(errno));
        return rc;
    }
    rc = uv_poll_init(ctx->loop, &e->tpoll, e->tfd);
    if (rc < 0)
        return rc;
    e->tpoll.data = e;
    e->open_handles++;
    uv_timer_init(ctx->loop, &e->sweep);
    e->sweep.data = e;
    e->open_handles++;
    uv_poll_start(&e->tpoll, UV_READABLE, on_tick);
    uint64_t sweep_ms = ctx->o->timeout_ns / 10 / 1000000;
    sweep_ms = sweep_ms < SWEEP_MIN_MS   ? SWEEP_MIN_MS
               : sweep_ms > SWEEP_MAX_MS ? SWEEP_MAX_MS
                                         : sweep_ms;
    uv_timer_start(&e->sweep, on_sweep, sweep_ms, sweep_ms);
    e->sending = true;
    arm(e, ctx->start_mono);
    return 0;
}

void udp_stop_sending(struct probe_ctx *ctx)
{
    struct udp_engine *e = ctx->udp;
    if (e == NULL || !e->sending)
        return;
    e->sending = false;
    if (e->tfd >= 0)
        stop_timer(e);
}

void udp_finish(struct probe_ctx *ctx)
{
    struct udp_engine *e = ctx->udp;
    uint64_t now = ah_clock_mono_ns();

    if (e == NULL)
        return;
    udp_stop_sending(ctx);
    ctx->udp = NULL;
    if (e->stray || e->collisions)
        ah_log_debug("udp: %llu stray replies, %llu ring collisions", (unsigned long long)e->stray,
                     (unsigned long long)e->collisions);
    ah_log_debug("udp: %llu answers read in %llu buffers", (unsigned long long)e->rx_dgrams,
                 (unsigned long long)e->rx_bufs);
    for (unsigned i = 0; i < e->n; i++) {
        struct udp_flow *f = &e->flows[i];
        if (f->ring != NULL && f->e != NULL) {
            udp_rx_errqueue(f);
            udp_rx_sweep(f, now, 0, true);
        }
        if (f->e != NULL && !uv_is_closing((uv_handle_t *)&f->h))
            uv_close((uv_handle_t *)&f->h, on_flow_closed);
    }
    if (e->tpoll.data == e)
        uv_close((uv_handle_t *)&e->tpoll, on_closed);
    if (e->sweep.data == e)
        uv_close((uv_handle_t *)&e->sweep, on_closed);
    if (e->open_handles == 0)
        engine_free(e); /* nothing was ever opened (start failed early) */
}
