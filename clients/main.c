/* anycast-probe: probes one anycast target over UDP and TCP with DNS
 * identity queries and the identity echo, records which node answered every
 * probe (probes.csv, connections.csv), shows live progress and summarises. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/log.h"
#include "probe.h"

/* --once: one line per (transport, service) on stdout, "udp dns ams 0.153 ms"
 * or "tcp echo - refused"; true if every probe got an ok answer. */
static bool print_once(struct probe_ctx *ctx)
{
    bool all = true;

    for (int t = 0; t < PT_COUNT; t++) {
        for (int s = 0; s < PS_COUNT; s++) {
            const struct ah_group_stats *g = record_group(ctx, t, s);
            if (!ctx->o->transport[t] || !ctx->o->service[s])
                continue;
            if (g->result[AH_RES_OK] > 0 && g->nodes.n > 0) {
                printf("%s %s %s %.3f ms\n", probe_transport_name(t), probe_service_name(s),
                       g->nodes.name[0], (double)g->rtt.max / 1e6);
                continue;
            }
            const char *why = "timeout";
            for (int r = 1; r < AH_RES_COUNT; r++) {
                if (g->result[r])
                    why = ah_result_name(r);
            }
            printf("%s %s - %s\n", probe_transport_name(t), probe_service_name(s), why);
            all = false;
        }
    }
    fflush(stdout);
    return all;
}

int main(int argc, char **argv)
{
    struct probe_opts o;
    struct probe_ctx ctx;
    uv_loop_t loop;
    int rc, exit_code = 0;

    ah_log_init("anycast-probe", AH_LOG_INFO);
    rc = opts_parse(argc, argv, &o);
    if (rc == 1)
        return 0;
    if (rc < 0)
        return 2;
    /* A closed pipe must not kill the run before its rows are written. */
    signal(SIGPIPE, SIG_IGN);
    srandom((unsigned)(ah_clock_realtime_ns() ^ (uint64_t)getpid()));

    memset(&ctx, 0, sizeof(ctx));
    ctx.o = &o;
    ctx.loop = &loop;
    const char *ci = getenv("CI");
    ctx.progress_on =
        o.progress == 1 || (o.progress == -1 && !o.once && isatty(STDERR_FILENO) && (!ci || !*ci));
    rc = uv_loop_init(&loop);
    if (rc < 0) {
        ah_log_error("event loop: %s", uv_strerror(rc));
        return 1;
    }
    rc = record_open(&ctx);
    if (rc == 0)
        rc = run_probe(&ctx);
    else
        exit_code = 1;
    if (rc < 0 || ctx.exit_code)
        exit_code = 1;
    if (record_flush(&ctx) < 0)
        exit_code = 1;
    if (ctx.rec != NULL && rc == 0) {
        if (o.once) {
            if (!print_once(&ctx))
                exit_code = 1;
        } else {
            summary_print(&ctx, stderr);
        }
        if (o.summary_json) {
            int jr = summary_write_json(&ctx, o.summary_json);
            if (jr < 0) {
                ah_log_error("--summary-json %s: %s", o.summary_json, strerror(-jr));
                exit_code = 1;
            }
        }
    }
    if (record_close(&ctx) < 0)
        exit_code = 1;
    rc = uv_loop_close(&loop);
    if (rc != 0) {
        ah_log_error("internal: event loop still has open handles at exit (%s)", uv_strerror(rc));
        uv_print_all_handles(&loop, stderr);
        exit_code = 1;
    }
    return exit_code;
}
