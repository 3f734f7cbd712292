/* TCP DNS and echo connections for one worker; see tcp.h.
 *
 * Buffers are bounded per connection: the read buffer starts small and
 * doubles only while a message is incomplete, up to one maximal DNS message
 * (2 + 65535 bytes) or one echo line; queued output beyond TCP_WQ_HIGH stops
 * reading until the client drains it. Over --max-tcp-clients a connection
 * is accepted and closed at once (the client sees EOF), counted as rejected. */
#include "tcp.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ah/echo.h"
#include "ah/log.h"

#define TCP_RBUF_INITIAL 1024
#define TCP_RBUF_MAX     (2 + 65535)
#define TCP_WQ_HIGH      (256 * 1024)
#define TCP_WQ_LOW       (64 * 1024)
#define TCP_DNS_MAX      65535

struct tcp_listener {
    uv_tcp_t h;
    struct worker *w;
    enum service svc;
};

struct tcp_conn {
    uv_tcp_t h;
    struct conn_link link;
    struct worker *w;
    enum service svc;
    uint8_t *rbuf;
    uint32_t rcap;
    uint32_t rlen;
    uint64_t last_ms;
    uint32_t delayed;  /* items in the delay queue that point here */
    bool linked;       /* counted as open, in w->conns */
    bool closing;      /* uv_close() called */
    bool closed;       /* close callback ran */
    bool draining;     /* close once queued output is written */
    bool backpressure; /* reading stopped: too much queued output */
};

struct tcp_wreq {
    uv_write_t req;
    struct tcp_conn *c;
    uv_buf_t buf;
    uint8_t data[];
};

#define CONN_OF(l) ((struct tcp_conn *)((char *)(l)-offsetof(struct tcp_conn, link)))

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

static void conn_close(struct tcp_conn *c)
{
    struct worker *w = c->w;
    if (c->closing)
        return;
    c->closing = true;
    if (c->linked) {
        c->link.prev->next = c->link.next;
        c->link.next->prev = c->link.prev;
        c->linked = false;
        w->nconns--;
        stats_add(&w->stats, TR_TCP, c->svc, ST_TCP_OPEN, -1);
        atomic_fetch_sub(&w->r->tcp_clients, 1);
    }
    uv_close((uv_handle_t *)&c->h, conn_on_closed);
}

static size_t write_queue(const struct tcp_conn *c)
{
    return uv_stream_get_write_queue_size((const uv_stream_t *)&c->h);
}

/* In draining mode, closes once nothing is left to write. */
static void conn_check_drained(struct tcp_conn *c)
{
    if (c->draining && !c->closing && c->delayed == 0 && write_queue(c) == 0)
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

static void conn_on_write(uv_write_t *req, int status)
{
    struct tcp_wreq *wr = (struct tcp_wreq *)req;
    struct tcp_conn *c = wr->c;
    free(wr);
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (c->backpressure && !c->draining && write_queue(c) < TCP_WQ_LOW) {
        c->backpressure = false;
        if (uv_read_start((uv_stream_t *)&c->h, conn_alloc, conn_on_read) < 0)
            conn_close(c);
    }
    conn_check_drained(c);
}

/* Hands n framed answers to the kernel, queueing what it does not take at
 * once. Answers are counted here, failures as dropped. */
static void conn_write(struct tcp_conn *c, const uint8_t *data, size_t len, unsigned n)
{
    struct worker *w = c->w;
    uv_stream_t *st = (uv_stream_t *)&c->h;
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    struct tcp_wreq *wr;
    int r;

    if (c->closing) {
        stats_add(&w->stats, TR_TCP, c->svc, ST_DROPPED, n);
        return;
    }
    r = uv_try_write(st, &b, 1);
    if (r == UV_EAGAIN || r == UV_ENOSYS)
        r = 0;
    if (r < 0)
        goto fail;
    if ((size_t)r < len) {
        wr = malloc(sizeof *wr + len - (size_t)r);
        if (wr == NULL) {
            r = -ENOMEM;
            goto fail;
        }
        wr->c = c;
        memcpy(wr->data, data + r, len - (size_t)r);
        wr->buf = uv_buf_init((char *)wr->data, (unsigned)(len - (size_t)r));
        r = uv_write(&wr->req, st, &wr->buf, 1, conn_on_write);
        if (r < 0) {
            free(wr);
            goto fail;
        }
        if (!c->backpressure && write_queue(c) > TCP_WQ_HIGH) {
            c->backpressure = true;
            uv_read_stop(st);
        }
    }
    stats_add(&w->stats, TR_TCP, c->svc, ST_ANSWERS, n);
    return;

fail:
    stats_add(&w->stats, TR_TCP, c->svc, ST_DROPPED, n);
    conn_close(c);
}

static void conn_send_delayed(struct delay_item *it)
{
    struct tcp_conn *c = it->owner;
    c->delayed--;
    if (c->closing) {
        stats_add(&c->w->stats, TR_TCP, c->svc, ST_DROPPED, it->n);
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
        stats_add(&w->stats, TR_TCP, c->svc, ST_DROPPED, n);
        return;
    }
    c->delayed++;
}

/* Answers every complete length-framed message in the read buffer. */
static size_t process_dns(struct tcp_conn *c)
{
    struct worker *w = c->w;
    uint8_t *out = w->scratch;
    size_t off = 0, olen = 0;
    unsigned nans = 0;

    while (!c->closing && !c->draining && c->rlen - off >= 2) {
        size_t mlen = (size_t)c->rbuf[off] << 8 | c->rbuf[off + 1];
        int alen;
        if (mlen == 0) {
            /* Not even a header: nothing to answer and no way to resync. */
            stats_add(&w->stats, TR_TCP, SVC_DNS, ST_REQUESTS, 1);
            stats_add(&w->stats, TR_TCP, SVC_DNS, ST_DROPPED, 1);
            conn_drain(c);
            break;
        }
        if (c->rlen - off < 2 + mlen)
            break;
        if (WORKER_TCP_OUT - olen < 2 + TCP_DNS_MAX) {
            conn_emit(c, out, olen, nans);
            olen = 0;
            nans = 0;
        }
        alen =
            worker_answer(w, TR_TCP, SVC_DNS, c->rbuf + off + 2, mlen, out + olen + 2, TCP_DNS_MAX);
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

/* Answers every complete line in the read buffer; an over-long one ends
 * the connection (after the answers to the lines before it). */
static size_t process_echo(struct tcp_conn *c)
{
    struct worker *w = c->w;
    uint8_t *out = w->scratch;
    size_t off = 0, olen = 0;
    unsigned nans = 0;

    while (!c->closing && !c->draining) {
        int n = ah_echo_find_line(c->rbuf + off, c->rlen - off);
        int alen;
        if (n == 0)
            break;
        if (n < 0) {
            stats_add(&w->stats, TR_TCP, SVC_ECHO, ST_REQUESTS, 1);
            stats_add(&w->stats, TR_TCP, SVC_ECHO, ST_OVERLONG, 1);
            stats_add(&w->stats, TR_TCP, SVC_ECHO, ST_DROPPED, 1);
            if (olen > 0)
                conn_emit(c, out, olen, nans);
            olen = 0;
            conn_drain(c);
            off = c->rlen;
            break;
        }
        if (WORKER_TCP_OUT - olen < 2 * AH_ECHO_MAX_LINE + RESPONDER_IDENTITY_MAX) {
            conn_emit(c, out, olen, nans);
            olen = 0;
            nans = 0;
        }
        alen = worker_answer(w, TR_TCP, SVC_ECHO, c->rbuf + off, (size_t)n, out + olen,
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
    (void)suggested;
    if (c->rbuf == NULL) {
        c->rcap = c->svc == SVC_ECHO ? AH_ECHO_MAX_LINE : TCP_RBUF_INITIAL;
        c->rbuf = malloc(c->rcap);
        if (c->rbuf == NULL)
            c->rcap = 0;
    } else if (c->rlen == c->rcap && c->svc == SVC_DNS && c->rcap < TCP_RBUF_MAX) {
        /* An incomplete message fills the buffer: grow, bounded. */
        uint32_t ncap = c->rcap * 2 > TCP_RBUF_MAX ? TCP_RBUF_MAX : c->rcap * 2;
        uint8_t *n = realloc(c->rbuf, ncap);
        if (n != NULL) {
            c->rbuf = n;
            c->rcap = ncap;
        }
    }
    /* A zero-length buffer makes libuv report UV_ENOBUFS: we close. */
    *buf = uv_buf_init((char *)c->rbuf + c->rlen, c->rcap - c->rlen);
}

static void conn_on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct tcp_conn *c = st->data;
    size_t used;
    (void)buf;

    if (nread < 0) {
        /* EOF or error. After EOF the client may still wait for answers
         * to what it sent (half-close), so drain rather than drop. */
        if (nread == UV_EOF)
            conn_drain(c);
        else
            conn_close(c);
        return;
    }
    if (nread == 0)
        return;
    c->rlen += (uint32_t)nread;
    c->last_ms = uv_now(&c->w->loop);
    used = c->svc == SVC_DNS ? process_dns(c) : process_echo(c);
    if (used > 0 && !c->closing) {
        memmove(c->rbuf, c->rbuf + used, c->rlen - used);
        c->rlen -= (uint32_t)used;
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
    open = atomic_fetch_add(&w->r->tcp_clients, 1);
    if (open >= w->r->cfg->max_tcp_clients || w->stopping) {
        atomic_fetch_sub(&w->r->tcp_clients, 1);
        stats_add(&w->stats, TR_TCP, l->svc, ST_TCP_REJECTED, 1);
        uv_close((uv_handle_t *)&c->h, reject_on_closed);
        return;
    }
    c->linked = true;
    c->link.next = &w->conns;
    c->link.prev = w->conns.prev;
    w->conns.prev->next = &c->link;
    w->conns.prev = &c->link;
    w->nconns++;
    stats_add(&w->stats, TR_TCP, l->svc, ST_TCP_OPEN, 1);
    stats_add(&w->stats, TR_TCP, l->svc, ST_TCP_TOTAL, 1);
    c->last_ms = uv_now(&w->loop);
    uv_tcp_nodelay(&c->h, 1);
    if (uv_read_start((uv_stream_t *)&c->h, conn_alloc, conn_on_read) < 0)
        conn_close(c);
}

static void listener_on_closed(uv_handle_t *h)
{
    free(h->data);
}

int tcp_listener_open(struct worker *w, int fd, enum service svc, struct tcp_listener **out)
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

void tcp_sweep(struct worker *w)
{
    uint64_t now = uv_now(&w->loop);
    uint64_t idle = w->r->cfg->tcp_idle_ms;
    struct conn_link *p = w->conns.next;
    while (p != &w->conns) {
        struct tcp_conn *c = CONN_OF(p);
        p = p->next; /* conn_close unlinks c */
        if (c->delayed == 0 && now - c->last_ms >= idle)
            conn_close(c);
    }
}

void tcp_drain_all(struct worker *w)
{
    struct conn_link *p = w->conns.next;
    while (p != &w->conns) {
        struct tcp_conn *c = CONN_OF(p);
        p = p->next;
        conn_drain(c);
    }
}

void tcp_close_all(struct worker *w)
{
    while (w->conns.next != &w->conns)
        conn_close(CONN_OF(w->conns.next));
}
