/* TCP DNS and echo connections for one worker; see tcp.h.
 *
 * Slow and idle clients cannot hold the server (docs/security.md): a message whose
 * first byte arrived must be complete within --tcp-io-timeout; the read
 * buffers of all connections of a worker share its part of
 * --tcp-buffer-budget, and over it the connections whose partial messages
 * are oldest are closed; over --max-tcp-clients a new connection closes the
 * worker's least recently read one (preferring one with no answer in flight)
 * instead of being refused.
 *
 * Answers a client does not read count in the same budget, and their
 * queue has a deadline, --tcp-write-timeout. The lists, the budget, the
 * sweep and eviction are in tcp_budget.c.
 *
 * A connection holds no read buffer while nothing is buffered: reads land in
 * the worker's tcp_in, complete messages are answered from there, and only
 * the start of an incomplete one is copied to a buffer of the connection,
 * sized to it (at least 1 KiB) and doubled while the message stays
 * incomplete, up to one maximal DNS message (2 + 65535 bytes) or one echo
 * line. Queued output beyond TCP_WQ_HIGH stops reading until the client
 * drains it. */
#include "tcp_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ah/echo.h"
#include "ah/log.h"

#define TCP_RBUF_MIN 1024
#define TCP_RBUF_MAX WORKER_TCP_IN
#define TCP_WQ_HIGH  (256 * 1024)
#define TCP_WQ_LOW   (64 * 1024)
#define TCP_DNS_MAX  65535

struct tcp_listener {
    uv_tcp_t h;
    struct worker *w;
    enum ah_service svc;
};

struct tcp_wreq {
    uv_write_t req;
    struct tcp_conn *c;
    uv_buf_t buf;
    uint32_t charge; /* bytes of the budget this request holds */
    uint8_t data[];
};

/* The buffer for an incomplete message of need bytes: at least 1 KiB (one
 * echo line for echo), doubled until it fits, at most one maximal message. */
static size_t rbuf_size(size_t need, enum ah_service svc)
{
    size_t cap = svc == AH_SVC_ECHO ? AH_ECHO_MAX_LINE : TCP_RBUF_MIN;
    size_t max = svc == AH_SVC_ECHO ? AH_ECHO_MAX_LINE : TCP_RBUF_MAX;
    while (cap < need && cap < max)
        cap *= 2;
    return cap > max ? max : cap;
}

static void conn_drop_buffer(struct tcp_conn *c)
{
    tcp_conn_uncharge(c);
    free(c->rbuf);
    c->rbuf = NULL;
    c->rcap = 0;
    c->rlen = 0;
}

static void conn_free(struct tcp_conn *c)
{
    free(c->rbuf);
    free(c);
}

static void conn_on_closed(uv_handle_t *h)
{
    struct tcp_conn *c = h->data;
    c->closed = true;
    if (c->delayed == 0)
        conn_free(c);
}

/* Closes c; with reset, by RST (SO_LINGER 0), which drops the unsent
 * answers in the kernel at once instead of leaving an orphan socket that
 * holds them for minutes while probing a shut window. */
static void conn_close_how(struct tcp_conn *c, bool reset)
{
    struct worker *w = c->w;
    if (c->closing)
        return;
    c->closing = true;
    tcp_conn_uncharge(c);
    tcp_write_unwatch(c);
    if (c->linked) {
        tcp_list_unlink(&c->link);
        c->linked = false;
        w->nconns--;
        stats_add(&w->stats, AH_TR_TCP, c->svc, ST_TCP_OPEN, -1);
        atomic_fetch_sub(&w->r->tcp_clients, 1);
    }
    if (!reset || uv_tcp_close_reset(&c->h, conn_on_closed) < 0)
        uv_close((uv_handle_t *)&c->h, conn_on_closed);
}

static void conn_close(struct tcp_conn *c)
{
    conn_close_how(c, false);
}

/* Closes a connection no caller up the stack is reading from (not the one
 * being read), freeing its buffer now rather than in the close callback:
 * the budget may close hundreds in one loop iteration, and their memory
 * must not outlive it. */
void tcp_conn_close_other(struct tcp_conn *c, bool reset)
{
    conn_close_how(c, reset);
    free(c->rbuf);
    c->rbuf = NULL;
    c->rcap = 0;
    c->rlen = 0;
}

/* Keeps the start of an incomplete message, read into the worker's buffer,
 * in a buffer of c's own. */
static int conn_keep(struct tcp_conn *c, const uint8_t *data, size_t len, uint64_t now)
{
    size_t cap = rbuf_size(len, c->svc);
    int rc;
    if (cap < len)
        return -EMSGSIZE; /* cannot happen: a longer one is complete or overlong */
    rc = tcp_budget_charge(c, cap);
    if (rc < 0)
        return rc;
    c->rbuf = malloc(cap);
    if (c->rbuf == NULL) {
        tcp_conn_uncharge(c);
        return -ENOMEM;
    }
    memcpy(c->rbuf, data, len);
    c->rcap = (uint32_t)cap;
    c->rlen = (uint32_t)len;
    tcp_partial_restart(c, now);
    return 0;
}

/* Resizes c's buffer to cap bytes (>= rlen), within the budget. */
static int conn_resize(struct tcp_conn *c, size_t cap)
{
    uint8_t *n;
    int rc;
    if (cap > c->rcap) {
        rc = tcp_budget_charge(c, cap - c->rcap);
        if (rc < 0)
            return rc;
    }
    n = realloc(c->rbuf, cap);
    if (n == NULL) {
        if (cap > c->rcap) {
            c->w->tcp_buffered -= cap - c->rcap;
            c->charged -= (uint32_t)(cap - c->rcap);
        }
        return -ENOMEM;
    }
    if (cap < c->rcap) {
        c->w->tcp_buffered -= c->rcap - cap;
        c->charged -= (uint32_t)(c->rcap - cap);
    }
    c->rbuf = n;
    c->rcap = (uint32_t)cap;
    return 0;
}

/* In draining mode, closes once nothing is left to write. */
static void conn_check_drained(struct tcp_conn *c)
{
    if (c->draining && !c->closing && c->delayed == 0 && tcp_write_queue(c) == 0)
        conn_close(c);
}

static void conn_drain(struct tcp_conn *c)
{
    if (c->closing)
        return;
    c->draining = true;
    uv_read_stop((uv_stream_t *)&c->h);
    conn_check_drained(c);
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void conn_on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);
static void conn_process_buffer(struct tcp_conn *c, uint64_t now);

/* The client read enough of its answers: first answer the complete messages
 * left in our buffer when reading stopped, then read again (unless those
 * answers filled the queue once more). */
static void conn_resume(struct tcp_conn *c)
{
    uint64_t now = uv_now(&c->w->loop);
    c->backpressure = false;
    if (c->rlen > 0)
        conn_process_buffer(c, now);
    if (c->closing || c->draining || c->backpressure)
        return;
    /* The io timeout was paused while we did not read: it restarts. */
    if (c->rlen > 0)
        tcp_partial_restart(c, now);
    if (uv_read_start((uv_stream_t *)&c->h, conn_alloc, conn_on_read) < 0)
        conn_close(c);
}

static void conn_on_write(uv_write_t *req, int status)
{
    struct tcp_wreq *wr = (struct tcp_wreq *)req;
    struct tcp_conn *c = wr->c;
    c->w->tcp_buffered -= wr->charge;
    c->wcharged -= wr->charge;
    free(wr);
    if (c->closing)
        return;
    if (c->wcharged == 0)
        tcp_write_done(c);
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (c->backpressure && !c->draining && tcp_write_queue(c) < TCP_WQ_LOW)
        conn_resume(c);
    conn_check_drained(c);
}

/* Hands n framed answers to the kernel, queueing what it does not take at
 * once within the budget (over it, c is reset when its queue is the one to
 * go). Answers are counted here, failures as dropped. */
static void conn_write(struct tcp_conn *c, const uint8_t *data, size_t len, unsigned n)
{
    struct worker *w = c->w;
    uv_stream_t *st = (uv_stream_t *)&c->h;
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    struct tcp_wreq *wr;
    size_t charge;
    int r;

    if (c->closing) {
        stats_add(&w->stats, AH_TR_TCP, c->svc, ST_DROPPED, n);
        return;
    }
    r = uv_try_write(st, &b, 1);
    if (r == UV_EAGAIN || r == UV_ENOSYS)
        r = 0;
    if (r < 0)
        goto fail;
    c->wtotal += (size_t)r;
    if ((size_t)r < len) {
        charge = sizeof *wr + len - (size_t)r;
        if (tcp_budget_room(c, charge) < 0) {
            stats_add(&w->stats, AH_TR_TCP, c->svc, ST_TCP_OVER_BUDGET, 1);
            stats_add(&w->stats, AH_TR_TCP, c->svc, ST_DROPPED, n);
            conn_close_how(c, true);
            return;
        }
        wr = malloc(charge);
        if (wr == NULL) {
            r = -ENOMEM;
            goto fail;
        }
        wr->c = c;
        wr->charge = (uint32_t)charge;
        memcpy(wr->data, data + r, len - (size_t)r);
        wr->buf = uv_buf_init((char *)wr->data, (unsigned)(len - (size_t)r));
        if (uv_write(&wr->req, st, &wr->buf, 1, conn_on_write) < 0) {
            free(wr);
            goto fail;
        }
        c->wtotal += len - (size_t)r;
        w->tcp_buffered += charge;
        c->wcharged += (uint32_t)charge;
        if (!c->wlinked)
            tcp_write_moved(c, uv_now(&w->loop), tcp_write_progress(c));
        if (!c->backpressure && tcp_write_queue(c) > TCP_WQ_HIGH) {
            c->backpressure = true;
            uv_read_stop(st);
            tcp_partial_restart(c, 0); /* takes c off the partial list */
        }
    }
    stats_add(&w->stats, AH_TR_TCP, c->svc, ST_ANSWERS, n);
    return;

fail:
    stats_add(&w->stats, AH_TR_TCP, c->svc, ST_DROPPED, n);
    conn_close(c);
}

static void conn_send_delayed(struct delay_item *it)
{
    struct tcp_conn *c = it->owner;
    c->delayed--;
    if (c->closing) {
        stats_add(&c->w->stats, AH_TR_TCP, c->svc, ST_DROPPED, it->n);
        if (c->closed && c->delayed == 0)
            conn_free(c);
        return;
    }
    conn_write(c, it->data, it->len, it->n);
    conn_check_drained(c);
}

/* Sends a batch of n answers now or, under "delay MS" or while earlier
 * answers of this connection still wait, through the delay queue (FIFO, so
 * pipelined answers keep their order). */
static void conn_emit(struct tcp_conn *c, const uint8_t *data, size_t len, unsigned n)
{
    struct worker *w = c->w;
    unsigned ms = worker_delay_ms(w);
    if (ms == 0 && c->delayed == 0) {
        conn_write(c, data, len, n);
        return;
    }
    if (delay_push(&w->delay, ms, conn_send_delayed, c, c->svc, n, NULL, 0, data, len) < 0) {
        stats_add(&w->stats, AH_TR_TCP, c->svc, ST_DROPPED, n);
        return;
    }
    c->delayed++;
}

/* Answers every complete length-framed message in data; returns the bytes
 * used. */
static size_t process_dns(struct tcp_conn *c, const uint8_t *data, size_t len)
{
    struct worker *w = c->w;
    uint8_t *out = w->scratch;
    size_t off = 0, olen = 0;
    unsigned nans = 0;

    /* Answers stop with reading once the client is TCP_WQ_HIGH behind: the
     * rest waits in c's buffer (conn_resume). */
    while (!c->closing && !c->draining && !c->backpressure && len - off >= 2) {
        size_t mlen = (size_t)data[off] << 8 | data[off + 1];
        int alen;
        if (mlen == 0) {
            /* Not even a header: nothing to answer and no way to resync. */
            stats_add(&w->stats, AH_TR_TCP, AH_SVC_DNS, ST_REQUESTS, 1);
            stats_add(&w->stats, AH_TR_TCP, AH_SVC_DNS, ST_DROPPED, 1);
            conn_drain(c);
            break;
        }
        if (len - off < 2 + mlen)
            break;
        if (WORKER_TCP_OUT - olen < 2 + TCP_DNS_MAX) {
            conn_emit(c, out, olen, nans);
            olen = 0;
            nans = 0;
        }
        alen = worker_answer(w, AH_TR_TCP, AH_SVC_DNS, data + off + 2, mlen, out + olen + 2,
                             TCP_DNS_MAX);
        off += 2 + mlen;
        if (alen > 0) {
            out[olen] = (uint8_t)(alen >> 8);
            out[olen + 1] = (uint8_t)alen;
            olen += 2 + (size_t)alen;
            nans++;
        }
    }
    if (olen > 0)
        conn_emit(c, out, olen, nans);
    return off;
}

/* Answers every complete line in data; an over-long one ends the
 * connection (after the answers to the lines before it). Returns the bytes
 * used. */
static size_t process_echo(struct tcp_conn *c, const uint8_t *data, size_t len)
{
    struct worker *w = c->w;
    uint8_t *out = w->scratch;
    size_t off = 0, olen = 0;
    unsigned nans = 0;

    while (!c->closing && !c->draining && !c->backpressure) {
        int n = ah_echo_find_line(data + off, len - off);
        int alen;
        if (n == 0)
            break;
        if (n < 0) {
            stats_add(&w->stats, AH_TR_TCP, AH_SVC_ECHO, ST_REQUESTS, 1);
            stats_add(&w->stats, AH_TR_TCP, AH_SVC_ECHO, ST_OVERLONG, 1);
            stats_add(&w->stats, AH_TR_TCP, AH_SVC_ECHO, ST_DROPPED, 1);
            if (olen > 0)
                conn_emit(c, out, olen, nans);
            olen = 0;
            conn_drain(c);
            off = len;
            break;
        }
        if (WORKER_TCP_OUT - olen < 2 * AH_ECHO_MAX_LINE + RESPONDER_IDENTITY_MAX) {
            conn_emit(c, out, olen, nans);
            olen = 0;
            nans = 0;
        }
        alen = worker_answer(w, AH_TR_TCP, AH_SVC_ECHO, data + off, (size_t)n, out + olen,
                             WORKER_TCP_OUT - olen);
        off += (size_t)n;
        if (alen > 0) {
            olen += (size_t)alen;
            nans++;
        }
    }
    if (olen > 0)
        conn_emit(c, out, olen, nans);
    return off;
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct tcp_conn *c = h->data;
    int rc;
    (void)suggested;
    if (c->rlen == 0) {
        /* Nothing buffered: the worker's buffer, copied from only for an
         * incomplete message. */
        *buf = uv_buf_init((char *)c->w->tcp_in, WORKER_TCP_IN);
        return;
    }
    if (c->rlen == c->rcap) {
        /* The incomplete message fills the buffer: grow, bounded. */
        rc = conn_resize(c, rbuf_size((size_t)c->rcap + 1, c->svc));
        if (rc == -ENOBUFS)
            stats_add(&c->w->stats, AH_TR_TCP, c->svc, ST_TCP_OVER_BUDGET, 1);
        if (rc < 0 || c->rlen == c->rcap) {
            /* A zero-length buffer makes libuv report UV_ENOBUFS: we close. */
            *buf = uv_buf_init(NULL, 0);
            return;
        }
    }
    *buf = uv_buf_init((char *)c->rbuf + c->rlen, c->rcap - c->rlen);
}

static void conn_on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct tcp_conn *c = st->data;
    struct worker *w = c->w;
    uint64_t now;
    size_t used;
    int rc;

    if (nread < 0) {
        /* EOF or error. After EOF the client may still wait for answers
         * to what it sent (half-close), so drain rather than drop. */
        if (nread == UV_EOF)
            conn_drain(c);
        else /* UV_ENOBUFS: over the budget (conn_alloc), reset */
            conn_close_how(c, nread == UV_ENOBUFS);
        return;
    }
    if (nread == 0)
        return;
    now = uv_now(&w->loop);
    c->last_ms = now;
    if (c->linked) {
        /* Most recently read last: the idle sweep and eviction take the
         * head. */
        tcp_list_unlink(&c->link);
        tcp_list_append(&w->conns, &c->link);
    }
    if (buf->base == (char *)w->tcp_in) {
        used = c->svc == AH_SVC_DNS ? process_dns(c, w->tcp_in, (size_t)nread)
                                    : process_echo(c, w->tcp_in, (size_t)nread);
        if (used == (size_t)nread || c->closing || c->draining)
            return;
        rc = conn_keep(c, w->tcp_in + used, (size_t)nread - used, now);
        if (rc == -ENOBUFS)
            stats_add(&w->stats, AH_TR_TCP, c->svc, ST_TCP_OVER_BUDGET, 1);
        /* Closed for a limit, it is reset: what the kernel still holds for
         * it goes at once. */
        if (rc < 0)
            conn_close_how(c, rc == -ENOBUFS);
        return;
    }
    c->rlen += (uint32_t)nread;
    conn_process_buffer(c, now);
}

static void conn_process_buffer(struct tcp_conn *c, uint64_t now)
{
    size_t used =
        c->svc == AH_SVC_DNS ? process_dns(c, c->rbuf, c->rlen) : process_echo(c, c->rbuf, c->rlen);
    if (c->closing)
        return;
    if (used == c->rlen || c->draining) {
        conn_drop_buffer(c);
        return;
    }
    if (used > 0) {
        memmove(c->rbuf, c->rbuf + used, c->rlen - used);
        c->rlen -= (uint32_t)used;
        /* A message completed now, so the rest begins now. */
        tcp_partial_restart(c, now);
        /* Keep the buffer sized to what it holds (shrinking cannot fail
         * the connection: on error the larger buffer stays). */
        if (rbuf_size(c->rlen, c->svc) * 2 <= c->rcap)
            (void)conn_resize(c, rbuf_size(c->rlen, c->svc));
    }
}

static void reject_on_closed(uv_handle_t *h)
{
    free(h);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct tcp_listener *l = server->data;
    struct worker *w = l->w;
    struct tcp_conn *c;
    unsigned open;

    if (status < 0) {
        ah_log_debug("worker %u: accept: %s", w->id, uv_strerror(status));
        return;
    }
    c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    c->w = w;
    c->svc = l->svc;
    uv_tcp_init(&w->loop, &c->h);
    c->h.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->h) < 0) {
        uv_close((uv_handle_t *)&c->h, reject_on_closed);
        return;
    }
    /* Over the cap, the new client is served rather than an idle one (as
     * NSD and Knot do): the victim's close gives its slot back. */
    open = atomic_fetch_add(&w->r->tcp_clients, 1);
    if (w->stopping || (open >= w->r->cfg->max_tcp_clients && tcp_evict(w) < 0)) {
        atomic_fetch_sub(&w->r->tcp_clients, 1);
        stats_add(&w->stats, AH_TR_TCP, l->svc, ST_TCP_REJECTED, 1);
        uv_close((uv_handle_t *)&c->h, reject_on_closed);
        return;
    }
    c->linked = true;
    tcp_list_append(&w->conns, &c->link);
    w->nconns++;
    stats_add(&w->stats, AH_TR_TCP, l->svc, ST_TCP_OPEN, 1);
    stats_add(&w->stats, AH_TR_TCP, l->svc, ST_TCP_TOTAL, 1);
    c->last_ms = uv_now(&w->loop);
    uv_tcp_nodelay(&c->h, 1);
    if (uv_read_start((uv_stream_t *)&c->h, conn_alloc, conn_on_read) < 0)
        conn_close(c);
}

static void listener_on_closed(uv_handle_t *h)
{
    free(h->data);
}

int tcp_listener_open(struct worker *w, int fd, enum ah_service svc, struct tcp_listener **out)
{
    struct tcp_listener *l = calloc(1, sizeof *l);
    int rc;
    if (l == NULL) {
        close(fd);
        return -ENOMEM;
    }
    l->w = w;
    l->svc = svc;
    uv_tcp_init(&w->loop, &l->h);
    l->h.data = l;
    rc = uv_tcp_open(&l->h, fd);
    if (rc < 0) {
        close(fd);
        uv_close((uv_handle_t *)&l->h, listener_on_closed);
        return rc;
    }
    /* The socket already listens (listen.c); uv_listen only registers it. */
    rc = uv_listen((uv_stream_t *)&l->h, 1024, on_connection);
    if (rc < 0) {
        uv_close((uv_handle_t *)&l->h, listener_on_closed);
        return rc;
    }
    *out = l;
    return 0;
}

void tcp_listener_close(struct tcp_listener *l)
{
    if (!uv_is_closing((uv_handle_t *)&l->h))
        uv_close((uv_handle_t *)&l->h, listener_on_closed);
}

void tcp_drain_all(struct worker *w)
{
    struct conn_link *p = w->conns.next;
    while (p != &w->conns) {
        struct tcp_conn *c = TCP_CONN_OF(p);
        p = p->next;
        conn_drain(c);
    }
}

void tcp_close_all(struct worker *w)
{
    while (w->conns.next != &w->conns)
        conn_close(TCP_CONN_OF(w->conns.next));
}
