/* UDP probing: one unconnected socket per (flow, service), each with a fixed
 * source port so a flow follows one path; probes leave on an exact absolute
 * schedule driven by a timerfd; replies, ICMP errors (IP_RECVERR) and
 * timeouts are matched to the probe they answer through a per-socket ring. */
#include <errno.h>
#include <time.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/log.h"
#include "probe.h"
#include "sched.h"
#include "wire.h"

/* At most this many probes leave per timer callback, so replies are read
 * between bursts when the loop falls behind; the rest follow at once. */
#define SEND_BATCH 512
/* Above 10k probes/s the timer is not armed for every probe but every 32
 * probes' worth of time (100 us to 1 ms): the probes due in between leave
 * together, and their CSV rows show their real send times. A wake-up per
 * probe costs more than the probe itself (timer reprogramming, epoll), and
 * measured here batches cut the probe's CPU by 15-40% at 100k/s. */
#define BATCH_RATE_MILLI (10000ull * SCHED_RATE_SCALE)
#define GAP_MIN_NS       100000ull
#define GAP_MAX_NS       AH_NS_PER_MS
/* The sweep that times out unanswered probes runs every tenth of the
 * timeout, within these bounds: a timeout row comes at most that much after
 * its time (an answer later than the timeout is a timeout anyway, see
 * on_recv), and hundreds of probes on one machine (anycast-lab) are not
 * woken a hundred times a second each for it. */
#define SWEEP_MIN_MS 10
#define SWEEP_MAX_MS 100

struct udp_slot {
    uint64_t seq; /* 0: free */
    uint64_t real_ns;
    uint64_t mono_ns;
};

struct udp_flow {
    uv_udp_t h;
    struct udp_engine *e;
    enum ah_service svc;
    uint16_t port; /* our source port: the "conn" column */
    struct ah_addr dst;
    uint16_t id_base;
    int fd;
    uint64_t last_seq;
    uint64_t oldest;
    uint32_t mask;
    struct udp_slot *ring;
};

struct udp_engine {
    struct probe_ctx *ctx;
    unsigned n;
    struct udp_flow *flows;
    int tfd;
    uv_poll_t tpoll;
    uv_timer_t sweep;
    uint64_t k, total;
    uint64_t min_gap;
    bool sending;
    unsigned open_handles;
    uint64_t stray, collisions;
    struct wire_dns_tpl tpl;
};

/* One receive buffer for every socket: libuv's recvmmsg path splits it into
 * 64 KiB chunks, one datagram each. Callbacks run one at a time. */
static char rbuf[20 * 65536];

static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    (void)h;
    (void)size;
    *buf = uv_buf_init(rbuf, sizeof(rbuf));
}

static void finalize(struct udp_flow *f, struct udp_slot *s, enum ah_result res, const char *node,
                     const char *detail, uint64_t rtt_ns)
{
    struct probe_ctx *ctx = f->e->ctx;
    struct probe_row row = {
        .transport = AH_TR_UDP,
        .service = f->svc,
        .conn = f->port,
        .seq = s->seq,
        .ts_ns = s->real_ns,
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

static void drain_errqueue(struct udp_flow *f)
{
    for (int guard = 0; guard < 4096; guard++) {
        uint8_t data[600];
        union {
            char buf[512];
            struct cmsghdr align;
        } cbuf;
        struct iovec iov = {data, sizeof(data)};
        struct msghdr m = {.msg_iov = &iov,
                           .msg_iovlen = 1,
                           .msg_control = cbuf.buf,
                           .msg_controllen = sizeof(cbuf.buf)};
        ssize_t n = recvmsg(f->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT);
        int err = 0;

        if (n < 0)
            return;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
            if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
                (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
                struct sock_extended_err ee;
                memcpy(&ee, CMSG_DATA(c), sizeof(ee));
                err = (int)ee.ee_errno;
            }
        }
        if (err == 0)
            continue;
        struct udp_slot *s = match(f, data, (size_t)n, false);
        if (s == NULL) {
            f->e->stray++;
            continue;
        }
        finalize(f, s, ah_result_from_errno(err), NULL, ah_errno_name(err), 0);
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

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                    unsigned flags)
{
    struct udp_flow *f = h->data;
    struct probe_ctx *ctx = f->e->ctx;
    struct udp_slot *s;
    struct wire_verdict v;
    uint64_t now, rtt;

    (void)flags;
    if (nread < 0) {
        /* With IP_RECVERR every ICMP error is queued with the datagram it
         * answers; the socket error only announces it. */
        drain_errqueue(f);
        run_check_idle(ctx);
        return;
    }
    if (nread == 0 || addr == NULL)
        return;
    now = ah_clock_mono_ns();
    s = match(f, (const uint8_t *)buf->base, (size_t)nread, true);
    if (s == NULL) {
        f->e->stray++;
        return;
    }
    rtt = now - s->mono_ns;
    if (rtt > ctx->o->timeout_ns) {
        finalize(f, s, AH_RES_TIMEOUT, NULL, NULL, 0);
        return;
    }
    if (!same_addr(addr, &f->dst)) {
        struct ah_addr from = {.len = addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                                                 : sizeof(struct sockaddr_in6)};
        char name[AH_ADDR_STRLEN], detail[AH_ADDR_STRLEN + 8];
        memcpy(&from.ss, addr, from.len);
        ah_addr_format(&from, true, name, sizeof(name));
        snprintf(detail, sizeof(detail), "from %s", name);
        finalize(f, s, AH_RES_BAD_REPLY, NULL, detail, rtt);
        return;
    }
    if (f->svc == AH_SVC_DNS) {
        wire_dns_judge(&ctx->o->query, (const uint8_t *)buf->base, (size_t)nread, &v);
    } else {
        char line[64];
        int ln = wire_echo_line(f->port, s->seq, line, sizeof(line));
        wire_echo_judge((const uint8_t *)buf->base, (size_t)nread, (const uint8_t *)line,
                        ln > 0 ? (size_t)ln : 0, &v);
    }
    finalize(f, s, v.result, v.node, v.detail, rtt);
    run_check_idle(ctx);
}

static void send_one(struct udp_engine *e, struct udp_flow *f)
{
    struct probe_ctx *ctx = e->ctx;
    uint8_t pkt[WIRE_DNS_MAX];
    uv_buf_t b;
    uint64_t seq = ++f->last_seq;
    struct udp_slot *s = &f->ring[seq & f->mask];
    int rc;

    if (s->seq != 0) {
        /* The ring is sized for 1.5 timeouts of probes; a probe still here
         * a whole ring later is overdue anyway. */
        e->collisions++;
        finalize(f, s, AH_RES_TIMEOUT, NULL, NULL, 0);
    }
    if (f->svc == AH_SVC_DNS) {
        b = uv_buf_init((char *)pkt,
                        (unsigned)wire_dns_query(&e->tpl, (uint16_t)(f->id_base + seq), pkt));
    } else {
        int n = wire_echo_line(f->port, seq, (char *)pkt, sizeof(pkt));
        b = uv_buf_init((char *)pkt, n > 0 ? (unsigned)n : 0);
    }
    s->seq = seq;
    s->real_ns = ah_clock_realtime_ns();
    s->mono_ns = ah_clock_mono_ns();
    ctx->sent[AH_TR_UDP]++;
    ctx->outstanding++;
    rc = uv_udp_try_send(&f->h, &b, 1, (const struct sockaddr *)&f->dst.ss);
    if (rc < 0)
        finalize(f, s, ah_result_from_errno(rc), NULL, ah_errno_name(rc), 0);
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
    uint64_t exp, now, due, next;
    unsigned sent = 0;

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
    while (e->k < due && sent < SEND_BATCH) {
        send_one(e, &e->flows[e->k % e->n]);
        e->k++;
        sent++;
    }
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

static void sweep_flow(struct udp_flow *f, uint64_t now, uint64_t timeout, bool all)
{
    while (f->oldest <= f->last_seq) {
        struct udp_slot *s = &f->ring[f->oldest & f->mask];
        if (s->seq == f->oldest) {
            if (!all && now - s->mono_ns < timeout)
                break;
            finalize(f, s, AH_RES_TIMEOUT, NULL, NULL, 0);
        }
        f->oldest++;
    }
}

static void on_sweep(uv_timer_t *t)
{
    struct udp_engine *e = t->data;
    uint64_t now = ah_clock_mono_ns();

    for (unsigned i = 0; i < e->n; i++)
        sweep_flow(&e->flows[i], now, e->ctx->o->timeout_ns, false);
    run_check_idle(e->ctx);
}

static void on_closed(uv_handle_t *h)
{
    struct udp_engine *e = h->data;
    if (h->type == UV_UDP)
        e = ((struct udp_flow *)h->data)->e;
    if (--e->open_handles > 0)
        return;
    if (e->tfd >= 0)
        close(e->tfd);
    for (unsigned i = 0; i < e->n; i++)
        free(e->flows[i].ring);
    free(e->flows);
    free(e);
}

static int open_flow(struct udp_engine *e, struct udp_flow *f, enum ah_service svc, uint32_t ring)
{
    const struct probe_opts *o = e->ctx->o;
    struct ah_addr dst = o->target, src;
    int family = ah_addr_family(&o->target), on = 1, rc;
    char name[AH_ADDR_STRLEN];
    struct sockaddr_storage ss;
    int sslen = sizeof(ss);

    f->svc = svc;
    f->oldest = 1;
    f->mask = ring - 1;
    f->id_base = (uint16_t)random();
    f->ring = calloc(ring, sizeof(*f->ring));
    if (f->ring == NULL)
        return -ENOMEM;
    rc = uv_udp_init_ex(e->ctx->loop, &f->h, (unsigned)family | UV_UDP_RECVMMSG);
    if (rc < 0) {
        ah_log_error("udp socket: %s", uv_strerror(rc));
        return rc;
    }
    f->h.data = f;
    f->e = e;
    e->open_handles++;
    uv_fileno((uv_handle_t *)&f->h, &f->fd);
    if (family == AF_INET)
        setsockopt(f->fd, SOL_IP, IP_RECVERR, &on, sizeof(on));
    else
        setsockopt(f->fd, SOL_IPV6, IPV6_RECVERR, &on, sizeof(on));
    int bufsz = 4 << 20;
    if (setsockopt(f->fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz)) < 0)
        setsockopt(f->fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
    if (o->has_source) {
        src = o->source;
    } else {
        memset(&src, 0, sizeof(src));
        ah_addr_parse_ip(family == AF_INET ? "0.0.0.0" : "::", &src);
    }
    ah_addr_set_port(&src, 0);
    rc = uv_udp_bind(&f->h, (const struct sockaddr *)&src.ss, 0);
    if (rc < 0) {
        ah_addr_format(&src, false, name, sizeof(name));
        ah_log_error("bind %s/udp: %s", name, uv_strerror(rc));
        return rc;
    }
    /* Not connected: a connect() would fail for good while the target has
     * no route, and replies from another source (a wildcard-bound server)
     * are worth reporting rather than dropping. */
    ah_addr_set_port(&dst, o->port[svc]);
    f->dst = dst;
    rc = uv_udp_getsockname(&f->h, (struct sockaddr *)&ss, &sslen);
    if (rc < 0)
        return rc;
    f->port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                      : ((struct sockaddr_in6 *)&ss)->sin6_port);
    rc = uv_udp_recv_start(&f->h, on_alloc, on_recv);
    if (rc < 0)
        ah_log_error("udp recv: %s", uv_strerror(rc));
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
        e->min_gap = 32ull * 1000000000ull * SCHED_RATE_SCALE / o->rate_milli;
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
    for (unsigned i = 0; i < e->n; i++) {
        struct udp_flow *f = &e->flows[i];
        if (f->ring != NULL && f->e != NULL) {
            drain_errqueue(f);
            sweep_flow(f, now, 0, true);
        }
        if (f->e != NULL && !uv_is_closing((uv_handle_t *)&f->h))
            uv_close((uv_handle_t *)&f->h, on_closed);
    }
    if (e->tpoll.data == e)
        uv_close((uv_handle_t *)&e->tpoll, on_closed);
    if (e->sweep.data == e)
        uv_close((uv_handle_t *)&e->sweep, on_closed);
    if (e->open_handles == 0) {
        /* Nothing was ever opened (start failed early). */
        if (e->tfd >= 0)
            close(e->tfd);
        for (unsigned i = 0; i < e->n; i++)
            free(e->flows[i].ring);
        free(e->flows);
        free(e);
    }
}
