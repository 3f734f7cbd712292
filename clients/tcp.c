/* TCP probing: N connection slots per service, each sending one probe per
 * interval (one outstanding at a time) on a long-lived connection, or on a
 * fresh connection per probe. Every connection's end is classified (reset,
 * eof, timeout, unreachable, refused, error) and the slot reconnects as
 * --reconnect says. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ah/clock.h"
#include "ah/echo.h"
#include "ah/log.h"
#include "probe.h"
#include "sched.h"
#include "wire.h"

#define RBUF_MAX (65535 + 2)

struct tcp_slot;

struct tcp_conn {
    uv_tcp_t h;
    uv_connect_t creq;
    uv_write_t wreq;
    struct tcp_engine *e;
    struct tcp_slot *slot; /* NULL once the connection has ended */
    uint64_t id;
    uint64_t opened_real; /* attempt start; the handshake's end once up */
    bool up, ended, outstanding;
    uint16_t id_base, dns_id;
    uint64_t seq, ok, failed;
    uint64_t sent_real, sent_mono;
    char node[AH_NODE_NAME_MAX];
    size_t wlen, rlen, rcap;
    uint8_t *rb;
    uint8_t wbuf[WIRE_DNS_MAX + 2];
    uint8_t rinline[256];
};

struct tcp_slot {
    struct tcp_engine *e;
    enum ah_service svc;
    uv_timer_t tick;
    uv_timer_t to; /* connect or probe timeout, or the back-off wait */
    struct tcp_conn *c;
    uint64_t base, next_tick;
    uint64_t pend_real;
    bool pending, late, waiting, dead, ticking;
    unsigned fails;
};

struct tcp_engine {
    struct probe_ctx *ctx;
    unsigned n;
    struct tcp_slot *slots;
    uint64_t next_id;
    uint64_t total, used;
    unsigned ticking;
    bool sending, finishing;
    unsigned open_handles;
    uint64_t stray;
    struct wire_dns_tpl tpl;
};

static char rbuf[65536];

static void slot_connect(struct tcp_slot *sl);
static void slot_due(struct tcp_slot *sl, uint64_t now);
static void on_slot_timer(uv_timer_t *t);

static uint64_t ms_until(uint64_t at, uint64_t now)
{
    return at > now ? (at - now + 999999) / 1000000 : 0;
}

static void engine_release(struct tcp_engine *e)
{
    if (--e->open_handles > 0 || !e->finishing)
        return;
    free(e->slots);
    free(e);
}

static void on_handle_closed(uv_handle_t *h)
{
    engine_release(h->data);
}

static void on_conn_closed(uv_handle_t *h)
{
    struct tcp_conn *c = h->data;
    struct tcp_engine *e = c->e;

    if (c->rb != c->rinline)
        free(c->rb);
    free(c);
    engine_release(e);
}

static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    (void)h;
    (void)size;
    *buf = uv_buf_init(rbuf, sizeof(rbuf));
}

static void write_probe_row(struct tcp_conn *c, enum ah_service svc, uint64_t seq, uint64_t ts,
                            enum ah_result res, const char *node, const char *detail, uint64_t rtt)
{
    struct probe_row row = {
        .transport = AH_TR_TCP,
        .service = svc,
        .conn = c->id,
        .seq = seq,
        .ts_ns = ts,
        .rtt_ns = rtt,
        .result = res,
        .node = node,
        .detail = detail,
    };
    record_probe(c->e->ctx, &row);
    if (res == AH_RES_OK)
        c->ok++;
    else
        c->failed++;
    c->e->ctx->outstanding--;
}

/* Ends a connection: fails its outstanding or pending probe with res, writes
 * its connections.csv row, closes the socket and decides what the slot does
 * next. res AH_RES_OK means the prober closed it (reason "end"). */
static void conn_end(struct tcp_conn *c, enum ah_result res, int err)
{
    struct tcp_slot *sl = c->slot;
    struct tcp_engine *e = c->e;
    struct probe_ctx *ctx = e->ctx;
    const char *detail = err ? ah_errno_name(err) : NULL;
    enum ah_reason reason = ah_reason_from_result(res);
    bool was_up = c->up;

    if (c->ended)
        return;
    c->ended = true;
    if (c->outstanding) {
        c->outstanding = false;
        write_probe_row(c, sl->svc, c->seq, c->sent_real, res == AH_RES_OK ? AH_RES_TIMEOUT : res,
                        NULL, detail, 0);
    }
    if (sl->pending) {
        sl->pending = false;
        if (res == AH_RES_OK) {
            /* Stopping before the probe could leave: it was never sent. */
            ctx->outstanding--;
            ctx->sent[AH_TR_TCP]--;
        } else {
            write_probe_row(c, sl->svc, ++c->seq, sl->pend_real, res, NULL, detail, 0);
        }
    }
    struct conn_row row = {
        .conn = c->id,
        .service = sl->svc,
        .opened_ns = c->opened_real,
        .closed_ns = ah_clock_realtime_ns(),
        .node = c->node,
        .reason = reason,
        .probes_ok = c->ok,
        .probes_failed = c->failed,
    };
    record_conn(ctx, &row);
    if (was_up) {
        ctx->tcp_up--;
        if (reason != AH_REASON_END)
            ctx->tcp_broken++;
    }
    uv_timer_stop(&sl->to);
    sl->c = NULL;
    c->slot = NULL;
    uv_close((uv_handle_t *)&c->h, on_conn_closed);

    if (!e->sending || e->finishing || ctx->o->tcp_mode == TCP_PER_QUERY ||
        reason == AH_REASON_END) {
        run_check_idle(ctx);
        return;
    }
    switch (ctx->o->reconnect) {
    case RECONNECT_NEVER:
        sl->dead = true;
        break;
    case RECONNECT_IMMEDIATE:
        /* A broken connection is replaced at once; after a failed attempt
         * the next one waits for the next probe tick. */
        if (was_up)
            slot_connect(sl);
        break;
    case RECONNECT_BACKOFF:
        sl->fails++;
        sl->waiting = true;
        uv_timer_start(&sl->to, on_slot_timer, sched_backoff(sl->fails) / 1000000, 0);
        break;
    }
    run_check_idle(ctx);
}

static void on_write(uv_write_t *req, int status)
{
    struct tcp_conn *c = req->data;
    if (status < 0 && status != UV_ECANCELED && !c->ended)
        conn_end(c, ah_result_from_errno(status), status);
}

static void conn_send(struct tcp_conn *c)
{
    struct tcp_slot *sl = c->slot;
    struct probe_ctx *ctx = c->e->ctx;
    size_t len;
    int rc;

    c->seq++;
    if (sl->svc == AH_SVC_DNS) {
        c->dns_id = (uint16_t)(c->id_base + c->seq);
        len = wire_dns_query(&c->e->tpl, c->dns_id, c->wbuf + 2);
        c->wbuf[0] = (uint8_t)(len >> 8);
        c->wbuf[1] = (uint8_t)len;
        len += 2;
    } else {
        int n = wire_echo_line(c->id, c->seq, (char *)c->wbuf, sizeof(c->wbuf));
        len = n > 0 ? (size_t)n : 0;
    }
    c->wlen = len;
    c->outstanding = true;
    c->sent_real = ah_clock_realtime_ns();
    c->sent_mono = ah_clock_mono_ns();
    uv_buf_t b = uv_buf_init((char *)c->wbuf, (unsigned)len);
    rc = uv_try_write((uv_stream_t *)&c->h, &b, 1);
    if (rc >= 0 && (size_t)rc < len) {
        b = uv_buf_init((char *)c->wbuf + rc, (unsigned)(len - (size_t)rc));
        rc = UV_EAGAIN;
    }
    if (rc == UV_EAGAIN)
        rc = uv_write(&c->wreq, (uv_stream_t *)&c->h, &b, 1, on_write);
    if (rc < 0) {
        conn_end(c, ah_result_from_errno(rc), rc);
        return;
    }
    uv_timer_start(&sl->to, on_slot_timer, ctx->o->timeout_ns / 1000000, 0);
}

static void handle_reply(struct tcp_conn *c, const uint8_t *msg, size_t len)
{
    struct tcp_slot *sl = c->slot;
    struct tcp_engine *e = c->e;
    struct probe_ctx *ctx = e->ctx;
    struct wire_verdict v;
    uint64_t rtt = ah_clock_mono_ns() - c->sent_mono;

    if (!c->outstanding) {
        e->stray++;
        return;
    }
    if (sl->svc == AH_SVC_DNS) {
        uint16_t id;
        if (wire_dns_id(msg, len, &id) == 0 && id != c->dns_id) {
            v.result = AH_RES_BAD_REPLY;
            v.node[0] = '\0';
            snprintf(v.detail, sizeof(v.detail), "id mismatch");
        } else {
            wire_dns_judge(&ctx->o->query, msg, len, &v);
        }
    } else {
        char line[64];
        int n = wire_echo_line(c->id, c->seq, line, sizeof(line));
        wire_echo_judge(msg, len, (const uint8_t *)line, n > 0 ? (size_t)n : 0, &v);
    }
    c->outstanding = false;
    uv_timer_stop(&sl->to);
    write_probe_row(c, sl->svc, c->seq, c->sent_real, v.result, v.node, v.detail, rtt);
    if (v.result == AH_RES_OK) {
        sl->fails = 0;
        if (c->node[0] == '\0')
            snprintf(c->node, sizeof(c->node), "%.*s", (int)sizeof(c->node) - 1, v.node);
    }
    if (ctx->o->tcp_mode == TCP_PER_QUERY || !e->sending) {
        conn_end(c, AH_RES_OK, 0);
        return;
    }
    if (sl->late) {
        sl->late = false;
        slot_due(sl, ah_clock_mono_ns());
    }
    run_check_idle(ctx);
}

/* Splits the byte stream into replies: DNS messages with their 2-byte length
 * (RFC 7766), echo lines. Returns bytes consumed, or -1 if the connection
 * ended while handling them. */
static long parse_stream(struct tcp_conn *c, const uint8_t *p, size_t len)
{
    size_t used = 0;

    while (!c->ended && used < len) {
        const uint8_t *m = p + used;
        size_t left = len - used;
        if (c->slot->svc == AH_SVC_DNS) {
            if (left < 2)
                break;
            size_t ml = (size_t)m[0] << 8 | m[1];
            if (left < 2 + ml)
                break;
            handle_reply(c, m + 2, ml);
            used += 2 + ml;
        } else {
            int n = ah_echo_find_line(m, left);
            if (n == 0)
                break;
            if (n < 0) {
                conn_end(c, AH_RES_BAD_REPLY, 0);
                return -1;
            }
            handle_reply(c, m, (size_t)n);
            used += (size_t)n;
        }
    }
    return c->ended ? -1 : (long)used;
}

/* Makes room for need bytes in the connection's reassembly buffer, keeping
 * what it holds: the inline 256 bytes first, then one largest DNS message. */
static int ensure_cap(struct tcp_conn *c, size_t need)
{
    uint8_t *nb;

    if (need <= c->rcap)
        return 0;
    if (need > RBUF_MAX)
        return -EMSGSIZE;
    nb = malloc(RBUF_MAX);
    if (nb == NULL)
        return -ENOMEM;
    memcpy(nb, c->rb, c->rlen);
    if (c->rb != c->rinline)
        free(c->rb);
    c->rb = nb;
    c->rcap = RBUF_MAX;
    return 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct tcp_conn *c = s->data;
    const uint8_t *p;
    size_t len, rest;
    long used;

    if (c->ended)
        return;
    if (nread < 0) {
        conn_end(c, ah_result_from_errno((int)nread), (int)nread);
        return;
    }
    if (nread == 0)
        return;
    if (c->rlen == 0) {
        /* The common case: whole replies in one read, parsed in place. */
        p = (const uint8_t *)buf->base;
        len = (size_t)nread;
    } else {
        if (ensure_cap(c, c->rlen + (size_t)nread) < 0) {
            conn_end(c, AH_RES_BAD_REPLY, 0);
            return;
        }
        memcpy(c->rb + c->rlen, buf->base, (size_t)nread);
        c->rlen += (size_t)nread;
        p = c->rb;
        len = c->rlen;
    }
    used = parse_stream(c, p, len);
    if (used < 0)
        return;
    rest = len - (size_t)used;
    if (p == c->rb) {
        memmove(c->rb, c->rb + used, rest);
        c->rlen = rest;
        return;
    }
    c->rlen = 0;
    if (ensure_cap(c, rest) < 0) {
        conn_end(c, AH_RES_BAD_REPLY, 0);
        return;
    }
    memcpy(c->rb, p + used, rest);
    c->rlen = rest;
}

static void on_connect(uv_connect_t *req, int status)
{
    struct tcp_conn *c = req->data;
    struct tcp_slot *sl = c->slot;
    struct probe_ctx *ctx = c->e->ctx;
    int rc;

    if (status == UV_ECANCELED || c->ended)
        return;
    if (status < 0) {
        conn_end(c, ah_result_from_errno(status), status);
        return;
    }
    c->up = true;
    c->opened_real = ah_clock_realtime_ns();
    ctx->tcp_up++;
    uv_timer_stop(&sl->to);
    rc = uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read);
    if (rc < 0) {
        conn_end(c, ah_result_from_errno(rc), rc);
        return;
    }
    if (sl->pending) {
        sl->pending = false;
        conn_send(c);
    } else if (!c->e->sending) {
        conn_end(c, AH_RES_OK, 0);
    }
}

static void slot_connect(struct tcp_slot *sl)
{
    struct tcp_engine *e = sl->e;
    struct probe_ctx *ctx = e->ctx;
    const struct probe_opts *o = ctx->o;
    struct tcp_conn *c = calloc(1, sizeof(*c));
    struct ah_addr dst = o->target;
    int family = ah_addr_family(&dst), fd = -1, on = 1, rc;

    if (c == NULL) {
        ah_log_error("tcp: out of memory");
        return;
    }
    c->e = e;
    c->slot = sl;
    c->id = ++e->next_id;
    c->id_base = (uint16_t)random();
    c->rb = c->rinline;
    c->rcap = sizeof(c->rinline);
    c->opened_real = ah_clock_realtime_ns();
    /* In a multi-vantage run the socket belongs to the vantage's namespace
     * and keeps it after the thread returns to its own. */
    rc = fleet_enter(ctx);
    if (rc == 0) {
        rc = uv_tcp_init_ex(ctx->loop, &c->h, (unsigned)family);
        fleet_leave(ctx);
    }
    if (rc < 0) {
        ah_log_error("tcp socket: %s", uv_strerror(rc));
        free(c);
        return;
    }
    c->h.data = c;
    c->creq.data = c;
    c->wreq.data = c;
    e->open_handles++;
    sl->c = c;
    record_conn_opened(ctx, sl->svc);
    uv_fileno((uv_handle_t *)&c->h, &fd);
    if (family == AF_INET)
        setsockopt(fd, SOL_IP, IP_RECVERR, &on, sizeof(on));
    else
        setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &on, sizeof(on));
    if (o->tcp_user_timeout_ns) {
        unsigned ms = (unsigned)(o->tcp_user_timeout_ns / 1000000);
        setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms));
    }
    uv_tcp_nodelay(&c->h, 1);
    if (o->has_source) {
        struct ah_addr src = o->source;
        ah_addr_set_port(&src, 0);
        rc = uv_tcp_bind(&c->h, (const struct sockaddr *)&src.ss, 0);
        if (rc < 0) {
            conn_end(c, ah_result_from_errno(rc), rc);
            return;
        }
    }
    ah_addr_set_port(&dst, o->port[sl->svc]);
    uv_timer_start(&sl->to, on_slot_timer, o->timeout_ns / 1000000, 0);
    rc = uv_tcp_connect(&c->creq, &c->h, (const struct sockaddr *)&dst.ss, on_connect);
    if (rc < 0)
        conn_end(c, ah_result_from_errno(rc), rc);
}

/* A probe is due on this slot: send it, queue it behind the connect, or
 * note that it is late (one outstanding probe per connection). */
static void slot_due(struct tcp_slot *sl, uint64_t now)
{
    struct tcp_engine *e = sl->e;
    struct probe_ctx *ctx = e->ctx;
    struct tcp_conn *c = sl->c;

    if (!e->sending || sl->dead || e->used >= e->total)
        return;
    if (c != NULL && c->outstanding) {
        sl->late = true;
        return;
    }
    if (c == NULL && sl->waiting)
        return;
    if (c != NULL && !c->up && sl->pending)
        return;
    e->used++;
    ctx->sent[AH_TR_TCP]++;
    ctx->outstanding++;
    if (c != NULL && c->up) {
        conn_send(c);
    } else {
        sl->pending = true;
        sl->pend_real = ah_clock_realtime_ns();
        if (c == NULL)
            slot_connect(sl);
    }
    (void)now;
    if (e->used >= e->total) {
        tcp_stop_sending(ctx);
        run_done_sending(ctx, AH_TR_TCP);
    }
}

static void on_slot_timer(uv_timer_t *t)
{
    struct tcp_slot *sl = t->data;
    struct tcp_conn *c = sl->c;

    if (sl->waiting) {
        sl->waiting = false;
        if (sl->e->sending && sl->c == NULL)
            slot_connect(sl);
        return;
    }
    if (c != NULL && (!c->up || c->outstanding))
        conn_end(c, AH_RES_TIMEOUT, 0);
}

static void on_tick(uv_timer_t *t)
{
    struct tcp_slot *sl = t->data;
    struct tcp_engine *e = sl->e;
    struct probe_ctx *ctx = e->ctx;
    uint64_t now = ah_clock_mono_ns(), next;

    if (!e->sending)
        return;
    /* libuv's loop clock is cached and coarse: a timer may fire a little
     * early. Wait for the real tick then. */
    if (now + 200000 < sl->next_tick) {
        uv_timer_start(&sl->tick, on_tick, ms_until(sl->next_tick, now), 0);
        return;
    }
    next =
        sched_next_tick(sl->base, ctx->o->interval_ns, now > sl->next_tick ? now : sl->next_tick);
    if (next < ctx->end_mono && !ctx->o->once) {
        sl->next_tick = next;
        uv_timer_start(&sl->tick, on_tick, ms_until(next, now), 0);
    } else if (sl->ticking) {
        sl->ticking = false;
        if (--e->ticking == 0) {
            slot_due(sl, now);
            tcp_stop_sending(ctx);
            run_done_sending(ctx, AH_TR_TCP);
            return;
        }
    }
    slot_due(sl, now);
}

int tcp_start(struct probe_ctx *ctx)
{
    const struct probe_opts *o = ctx->o;
    struct tcp_engine *e = calloc(1, sizeof(*e));
    unsigned nsvc = 0, per;
    int rc;

    if (e == NULL)
        return -ENOMEM;
    for (int s = 0; s < AH_SVC_COUNT; s++)
        nsvc += o->service[s];
    per = o->once ? 1 : o->connections;
    e->ctx = ctx;
    e->n = per * nsvc;
    e->slots = calloc(e->n, sizeof(*e->slots));
    ctx->tcp = e;
    if (e->slots == NULL) {
        e->n = 0;
        return -ENOMEM;
    }
    e->total = o->count ? o->count : UINT64_MAX;
    if (o->once)
        e->total = nsvc;
    if (o->service[AH_SVC_DNS]) {
        rc = wire_dns_template(&o->query, &e->tpl);
        if (rc < 0) {
            ah_log_error("cannot build the DNS query: %s", strerror(-rc));
            return rc;
        }
    }
    e->sending = true;
    for (unsigned i = 0, k = 0; i < per; i++) {
        for (int s = 0; s < AH_SVC_COUNT; s++) {
            if (!o->service[s])
                continue;
            struct tcp_slot *sl = &e->slots[k];
            sl->e = e;
            sl->svc = (enum ah_service)s;
            uv_timer_init(ctx->loop, &sl->tick);
            uv_timer_init(ctx->loop, &sl->to);
            sl->tick.data = sl->to.data = sl;
            e->open_handles += 2;
            sl->base = ctx->start_mono + (o->once ? 0 : sched_slot_offset(k, e->n, o->interval_ns));
            sl->next_tick = sl->base;
            sl->ticking = true;
            e->ticking++;
            k++;
        }
    }
    for (unsigned i = 0; i < e->n; i++) {
        struct tcp_slot *sl = &e->slots[i];
        uv_timer_start(&sl->tick, on_tick, ms_until(sl->base, ah_clock_mono_ns()), 0);
    }
    return 0;
}

void tcp_stop_sending(struct probe_ctx *ctx)
{
    struct tcp_engine *e = ctx->tcp;

    if (e == NULL || !e->sending)
        return;
    e->sending = false;
    for (unsigned i = 0; i < e->n; i++) {
        struct tcp_slot *sl = &e->slots[i];
        if (sl->e == NULL)
            continue;
        uv_timer_stop(&sl->tick);
        if (sl->waiting) {
            sl->waiting = false;
            uv_timer_stop(&sl->to);
        }
        /* Idle connections close now; busy ones (a probe sent, or waiting
         * for the handshake) after their answer or timeout. */
        if (sl->c != NULL && !sl->c->outstanding && !sl->pending)
            conn_end(sl->c, AH_RES_OK, 0);
    }
}

void tcp_finish(struct probe_ctx *ctx)
{
    struct tcp_engine *e = ctx->tcp;

    if (e == NULL)
        return;
    tcp_stop_sending(ctx);
    e->finishing = true;
    ctx->tcp = NULL;
    if (e->stray)
        ah_log_debug("tcp: %llu unexpected replies", (unsigned long long)e->stray);
    for (unsigned i = 0; i < e->n; i++) {
        struct tcp_slot *sl = &e->slots[i];
        if (sl->e == NULL)
            continue;
        if (sl->c != NULL)
            conn_end(sl->c, sl->c->outstanding ? AH_RES_TIMEOUT : AH_RES_OK, 0);
        uv_close((uv_handle_t *)&sl->tick, on_handle_closed);
        uv_close((uv_handle_t *)&sl->to, on_handle_closed);
    }
    for (unsigned i = 0; i < e->n; i++)
        e->slots[i].tick.data = e->slots[i].to.data = e;
    if (e->open_handles == 0) {
        free(e->slots);
        free(e);
    }
}
