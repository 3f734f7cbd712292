/* The life cycle of one anycast-probe run on a single libuv loop: start the
 * engines, flush rows and refresh progress a few times a second, stop sending
 * on duration/count/signal, wait at most one timeout for outstanding probes,
 * then close every handle so the loop ends by itself. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/log.h"
#include "probe.h"
#include "prom.h"
#include "prom_http.h"

#define HOUSE_MS 250

static void run_finish(struct probe_ctx *ctx);

static void on_closed_noop(uv_handle_t *h)
{
    (void)h;
}

void run_stop(struct probe_ctx *ctx)
{
    if (ctx->stopping)
        return;
    ctx->stopping = true;
    /* The sweep that times out UDP probes runs every 10 to 100 ms (udp.c):
     * allow for it. */
    ctx->drain_deadline = ah_clock_mono_ns() + ctx->o->timeout_ns + 150000000ull;
    udp_stop_sending(ctx);
    tcp_stop_sending(ctx);
    run_check_idle(ctx);
}

void run_done_sending(struct probe_ctx *ctx, enum ah_transport t)
{
    ctx->done_sending[t] = true;
    for (int i = 0; i < AH_TR_COUNT; i++) {
        if (ctx->o->transport[i] && !ctx->done_sending[i])
            return;
    }
    run_stop(ctx);
}

void run_check_idle(struct probe_ctx *ctx)
{
    if (ctx->stopping && !ctx->finishing && ctx->outstanding == 0)
        run_finish(ctx);
}

static void run_finish(struct probe_ctx *ctx)
{
    if (ctx->finishing)
        return;
    ctx->finishing = true;
    udp_finish(ctx);
    tcp_finish(ctx);
    uv_close((uv_handle_t *)&ctx->house, on_closed_noop);
    for (int i = 0; i < 2; i++)
        uv_close((uv_handle_t *)&ctx->sig[i], on_closed_noop);
}

/* --metrics: renders the statistics here, on the loop's thread, and hands
 * the text to the HTTP thread. */
static void publish_metrics(struct probe_ctx *ctx)
{
    if (!ctx->metrics)
        return;
    struct prom_input in = {
        .vantage = ctx->o->vantage, .target = ctx->o->target_text, .tcp_up = ctx->tcp_up};
    for (int t = 0; t < AH_TR_COUNT; t++)
        for (int s = 0; s < AH_SVC_COUNT; s++)
            if (ctx->o->transport[t] && ctx->o->service[s])
                in.group[t][s] = record_group(ctx, (enum ah_transport)t, (enum ah_service)s);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return;
    int rc = prom_write(f, &in);
    if (fclose(f) != 0 || rc < 0) {
        free(text);
        return;
    }
    prom_http_publish(ctx->metrics, text, len);
}

static void on_house(uv_timer_t *t)
{
    struct probe_ctx *ctx = t->data;
    uint64_t now = ah_clock_mono_ns();

    /* The engines end their own schedules at the duration (a UDP schedule
     * that runs late still sends every probe due before the end); this is
     * only the safety net. */
    if (!ctx->stopping && ctx->end_mono != UINT64_MAX && now >= ctx->end_mono + 1000000000ull)
        run_stop(ctx);
    if (ctx->stopping && !ctx->finishing && now >= ctx->drain_deadline)
        run_finish(ctx);
    record_flush(ctx);
    publish_metrics(ctx);
    if (ctx->progress_on && !ctx->finishing)
        progress_update(ctx, false);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct probe_ctx *ctx = s->data;

    if (!ctx->stopping) {
        ah_log_debug("%s: stopping, waiting for outstanding probes",
                     signum == SIGINT ? "SIGINT" : "SIGTERM");
        run_stop(ctx);
    } else {
        /* A second signal: do not wait for the outstanding probes. */
        run_finish(ctx);
    }
}

int run_begin(struct probe_ctx *ctx)
{
    const struct probe_opts *o = ctx->o;
    static const int signums[2] = {SIGINT, SIGTERM};
    int rc = 0;

    ctx->start_mono = ah_clock_mono_ns();
    ctx->start_real = ah_clock_realtime_ns();
    ctx->end_mono = o->duration_ns ? ctx->start_mono + o->duration_ns : UINT64_MAX;
    uv_timer_init(ctx->loop, &ctx->house);
    ctx->house.data = ctx;
    uv_timer_start(&ctx->house, on_house, HOUSE_MS, HOUSE_MS);
    for (int i = 0; i < 2; i++) {
        uv_signal_init(ctx->loop, &ctx->sig[i]);
        ctx->sig[i].data = ctx;
        uv_signal_start(&ctx->sig[i], on_signal, signums[i]);
    }
    if (o->transport[AH_TR_UDP])
        rc = udp_start(ctx);
    if (rc == 0 && o->transport[AH_TR_TCP])
        rc = tcp_start(ctx);
    if (rc < 0) {
        ctx->exit_code = 1;
        ctx->stopping = true;
        run_finish(ctx);
    }
    return rc;
}

void run_unblock_signals(void)
{
    sigset_t stop_sigs;
    sigemptyset(&stop_sigs);
    sigaddset(&stop_sigs, SIGINT);
    sigaddset(&stop_sigs, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &stop_sigs, NULL);
}

void run_end(struct probe_ctx *ctx)
{
    publish_metrics(ctx);
    if (ctx->progress_on)
        progress_update(ctx, true);
}

int run_probe(struct probe_ctx *ctx)
{
    const struct probe_opts *o = ctx->o;
    int rc = run_begin(ctx);

    /* main() blocked them until now; the parent may have too. A signal that
     * came meanwhile is delivered here, to the handlers run_begin installed,
     * and stops the run at its start. */
    run_unblock_signals();
    if (rc == 0 && o->ready_fd >= 0) {
        /* The engines are started (sockets open, schedules armed): tell the
         * lab, which starts its drill clock when every probe has. */
        if (write(o->ready_fd, "r", 1) != 1)
            ah_log_debug("--ready-fd %d: %s", o->ready_fd, strerror(errno));
        close(o->ready_fd);
    }
    uv_run(ctx->loop, UV_RUN_DEFAULT);
    run_end(ctx);
    return rc;
}
