/* Worker life cycle and the per-request service dispatch; see worker.h. */
#include "worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ah/echo.h"
#include "ah/log.h"
#include "dns_answer.h"
#include "listen.h"
#include "tcp.h"
#include "udp.h"

/* After SIGTERM, connections get this long to take their last answers. */
#define WORKER_DRAIN_MS 2000
#define TCP_BACKLOG     1024

int worker_answer(struct worker *w, enum ah_transport t, enum ah_service svc, const uint8_t *req,
                  size_t len, uint8_t *out, size_t cap)
{
    struct stats *st = &w->stats;
    int n;

    stats_add(st, t, svc, ST_REQUESTS, 1);
    if (svc == AH_SVC_ECHO && len > AH_ECHO_MAX_LINE) {
        stats_add(st, t, svc, ST_OVERLONG, 1);
        stats_add(st, t, svc, ST_DROPPED, 1);
        return 0;
    }
    if (worker_discard(w)) {
        stats_add(st, t, svc, ST_DROPPED, 1);
        return 0;
    }
    if (svc == AH_SVC_DNS) {
        enum dns_verdict v = DNS_DROPPED;
        n = dns_answer(w->r->dns, req, len, t == AH_TR_UDP, out, cap, &v);
        if (n > 0 && v == DNS_REFUSED)
            stats_add(st, t, svc, ST_REFUSED, 1);
        else if (n > 0 && v == DNS_FORMERR)
            stats_add(st, t, svc, ST_FORMERR, 1);
    } else {
        n = ah_echo_build_reply(w->r->cfg->identity, req, len, out, cap);
        if (n == -EMSGSIZE)
            stats_add(st, t, svc, ST_OVERLONG, 1);
    }
    if (n <= 0) {
        stats_add(st, t, svc, ST_DROPPED, 1);
        return 0;
    }
    return n;
}

static void on_sweep(uv_timer_t *t)
{
    tcp_sweep(t->data);
}

/* Closes every handle the worker owns; its loop must then run to let the
 * close callbacks free memory. */
static void close_all(struct worker *w)
{
    /* Delayed answers first, while their sockets are still open. */
    if (!uv_is_closing((uv_handle_t *)&w->delay.timer))
        delay_close(&w->delay);
    for (size_t i = 0; i < w->nudp; i++)
        udp_sock_close(w->udp[i]);
    w->nudp = 0;
    for (size_t i = 0; i < w->ntcp; i++)
        tcp_listener_close(w->tcp[i]);
    w->ntcp = 0;
    tcp_close_all(w);
    if (!uv_is_closing((uv_handle_t *)&w->sweep_timer))
        uv_close((uv_handle_t *)&w->sweep_timer, NULL);
    if (!uv_is_closing((uv_handle_t *)&w->drain_timer))
        uv_close((uv_handle_t *)&w->drain_timer, NULL);
    if (!uv_is_closing((uv_handle_t *)&w->stop_async))
        uv_close((uv_handle_t *)&w->stop_async, NULL);
}

static void on_drain_deadline(uv_timer_t *t)
{
    close_all(t->data);
}

static void on_sweep_while_draining(uv_timer_t *t)
{
    struct worker *w = t->data;
    if (w->nconns == 0)
        close_all(w);
}

/* Stop: no new requests, answers already computed (delayed ones too) go
 * out, connections close once written, everything closes after at most
 * WORKER_DRAIN_MS. */
static void on_stop(uv_async_t *a)
{
    struct worker *w = a->data;
    if (w->stopping)
        return;
    w->stopping = true;
    for (size_t i = 0; i < w->ntcp; i++)
        tcp_listener_close(w->tcp[i]);
    w->ntcp = 0;
    delay_flush(&w->delay);
    for (size_t i = 0; i < w->nudp; i++)
        udp_sock_close(w->udp[i]);
    w->nudp = 0;
    tcp_drain_all(w);
    if (w->nconns == 0) {
        close_all(w);
        return;
    }
    /* Check every 20 ms whether all connections are gone; give up at the
     * deadline. */
    uv_timer_stop(&w->sweep_timer);
    uv_timer_start(&w->sweep_timer, on_sweep_while_draining, 20, 20);
    uv_timer_start(&w->drain_timer, on_drain_deadline, WORKER_DRAIN_MS, 0);
}

static int open_service(struct worker *w, const struct ah_addr *addr, uint16_t port,
                        enum ah_service svc, char *err, size_t errlen)
{
    char what[AH_ADDR_STRLEN + 8];
    int type = SOCK_DGRAM;
    int fd, rc;

    /* The first worker makes sure nobody else holds the port; the others
     * then join its SO_REUSEPORT groups. */
    if (w->id == 0) {
        rc = listen_check_free(addr, port, SOCK_DGRAM, err, errlen);
        if (rc == 0)
            rc = listen_check_free(addr, port, SOCK_STREAM, err, errlen);
        if (rc < 0)
            return rc;
    }
    rc = listen_open(addr, port, SOCK_DGRAM, 0, &fd, err, errlen);
    if (rc < 0)
        return rc;
    rc = udp_sock_open(w, fd, svc, &w->udp[w->nudp]);
    if (rc < 0)
        goto fail_uv;
    w->nudp++;
    type = SOCK_STREAM;
    rc = listen_open(addr, port, SOCK_STREAM, TCP_BACKLOG, &fd, err, errlen);
    if (rc < 0)
        return rc;
    rc = tcp_listener_open(w, fd, svc, &w->tcp[w->ntcp]);
    if (rc < 0)
        goto fail_uv;
    w->ntcp++;
    return 0;

fail_uv:
    listen_describe(addr, port, type, what, sizeof what);
    snprintf(err, errlen, "%s: %s", what, uv_strerror(rc));
    return rc;
}

static int init_handles(struct worker *w, char *err, size_t errlen)
{
    const struct responder_config *cfg = w->r->cfg;
    uint64_t sweep;
    int rc;

    /* Idle connections and stalled messages are found by a sweep rather
     * than one timer per connection: a quarter of the shortest timeout, at
     * most once a second. */
    sweep = cfg->tcp_io_ms < cfg->tcp_idle_ms ? cfg->tcp_io_ms : cfg->tcp_idle_ms;
    if (cfg->tcp_write_ms < sweep)
        sweep = cfg->tcp_write_ms;
    sweep /= 4;
    if (sweep > 1000)
        sweep = 1000;
    if (sweep < 10)
        sweep = 10;
    uv_timer_start(&w->sweep_timer, on_sweep, sweep, sweep);
    uv_unref((uv_handle_t *)&w->sweep_timer);

    for (size_t i = 0; i < cfg->nlisten; i++) {
        if (cfg->dns) {
            rc = open_service(w, &cfg->listen[i], cfg->dns_port, AH_SVC_DNS, err, errlen);
            if (rc < 0)
                return rc;
        }
        if (cfg->echo) {
            rc = open_service(w, &cfg->listen[i], cfg->echo_port, AH_SVC_ECHO, err, errlen);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

int worker_create(struct responder *r, unsigned id, struct worker **out, char *err, size_t errlen)
{
    struct worker *w = calloc(1, sizeof *w);
    int rc;

    if (w == NULL)
        return -ENOMEM;
    w->r = r;
    w->id = id;
    w->conns.next = w->conns.prev = &w->conns;
    w->partial.next = w->partial.prev = &w->partial;
    w->writing.next = w->writing.prev = &w->writing;
    w->tcp_budget = (size_t)(r->cfg->tcp_buffer_budget / (r->cfg->workers ? r->cfg->workers : 1));
    w->scratch = malloc(WORKER_TCP_OUT);
    w->tcp_in = malloc(WORKER_TCP_IN);
    if (w->scratch == NULL || w->tcp_in == NULL) {
        free(w->scratch);
        free(w->tcp_in);
        free(w);
        return -ENOMEM;
    }
    rc = uv_loop_init(&w->loop);
    if (rc < 0) {
        snprintf(err, errlen, "worker %u: uv_loop_init: %s", id, uv_strerror(rc));
        free(w->scratch);
        free(w->tcp_in);
        free(w);
        return rc;
    }
    /* These cannot fail on Linux short of memory corruption; initializing
     * them first keeps close_all() valid on every later error path. */
    rc = uv_async_init(&w->loop, &w->stop_async, on_stop);
    if (rc < 0) {
        snprintf(err, errlen, "worker %u: uv_async_init: %s", id, uv_strerror(rc));
        uv_loop_close(&w->loop);
        free(w->scratch);
        free(w->tcp_in);
        free(w);
        return rc;
    }
    w->stop_async.data = w;
    uv_timer_init(&w->loop, &w->sweep_timer);
    w->sweep_timer.data = w;
    uv_timer_init(&w->loop, &w->drain_timer);
    w->drain_timer.data = w;
    delay_init(&w->loop, &w->delay);
    err[0] = '\0';
    rc = init_handles(w, err, errlen);
    if (rc < 0) {
        if (err[0] == '\0')
            snprintf(err, errlen, "worker %u: %s", id, uv_strerror(rc));
        worker_destroy(w);
        return rc;
    }
    *out = w;
    return 0;
}

int worker_add_senders(struct worker *w, char *err, size_t errlen)
{
    for (size_t i = 0; i < w->nudp; i++) {
        int rc = udp_sock_add_sender(w->udp[i], w->id == 0, w->r->cfg->workers, err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void worker_main(void *arg)
{
    struct worker *w = arg;
    uv_run(&w->loop, UV_RUN_DEFAULT);
}

int worker_start(struct worker *w)
{
    int rc = uv_thread_create(&w->thread, worker_main, w);
    if (rc == 0)
        w->thread_started = true;
    return rc;
}

void worker_stop(struct worker *w)
{
    uv_async_send(&w->stop_async);
}

int worker_destroy(struct worker *w)
{
    int rc;
    if (w->thread_started) {
        uv_thread_join(&w->thread);
    } else {
        /* Never ran (a start-up error): close in this thread. */
        w->stopping = true;
        close_all(w);
        uv_run(&w->loop, UV_RUN_DEFAULT);
    }
    rc = uv_loop_close(&w->loop);
    if (rc < 0) {
        ah_log_error("worker %u: uv_loop_close: %s (handles left open)", w->id, uv_strerror(rc));
    }
    free(w->scratch);
    free(w->tcp_in);
    free(w);
    return rc;
}
