/* anycast-probe: probes one anycast target over UDP and TCP with DNS
 * identity queries and the identity echo, records which node answered every
 * probe (probes.csv, connections.csv), shows live progress and summarises. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/esc.h"
#include "ah/log.h"
#include "probe.h"
#include "prom_http.h"

/* --once names the query on its DNS lines when --query auto chose another
 * than the usual hostname.bind: the rcode that then comes with it is no
 * surprise. */
static const char *once_query_note(const struct probe_ctx *ctx, int s)
{
    static char note[320];

    if (s != AH_SVC_DNS || !ctx->o->query_auto || strcmp(ctx->o->query_spec, "hostname.bind") == 0)
        return "";
    snprintf(note, sizeof(note), " (query %s, auto)", ctx->o->query_spec);
    return note;
}

/* --once: one line per (transport, service) on stdout, "udp dns ams 0.153 ms"
 * or "tcp echo - refused ECONNREFUSED" (the result, then the detail: errno
 * name, rcode or reason); true if every probe got an ok answer. */
static bool print_once(struct probe_ctx *ctx)
{
    bool all = true;

    for (int t = 0; t < AH_TR_COUNT; t++) {
        for (int s = 0; s < AH_SVC_COUNT; s++) {
            const struct ah_group_stats *g = record_group(ctx, t, s);
            if (!ctx->o->transport[t] || !ctx->o->service[s])
                continue;
            if (g->result[AH_RES_OK] > 0 && g->nodes.n > 0) {
                /* The identity is the server's bytes: escaped, so a control
                 * character or a newline in it cannot act on the terminal or
                 * forge a line of ours. */
                char node[AH_ESC_TERM_MAX(AH_NODE_NAME_MAX)];
                ah_esc_term(node, sizeof(node), g->nodes.name[0], strlen(g->nodes.name[0]));
                printf("%s %s %s %.3f ms%s\n", ah_transport_name(t), ah_service_name(s), node,
                       (double)g->rtt.max / 1e6, once_query_note(ctx, s));
                continue;
            }
            const char *why = "timeout";
            for (int r = 1; r < AH_RES_COUNT; r++) {
                if (g->result[r])
                    why = ah_result_name(r);
            }
            const char *raw = record_last_detail(ctx, t, s);
            char detail[AH_ESC_TERM_MAX(32)];
            ah_esc_term(detail, sizeof(detail), raw, strlen(raw));
            printf("%s %s - %s%s%s\n", ah_transport_name(t), ah_service_name(s), why,
                   detail[0] ? " " : "", detail);
            all = false;
        }
    }
    fflush(stdout);
    return all;
}

/* Fails early, before any probe is sent, when --summary-json cannot be
 * written: finding out only after a long run would lose its summary. A file
 * made only for the test is removed again; the real one is written at the
 * end. */
static int check_summary_path(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);

    if (fd >= 0) {
        close(fd);
        unlink(path);
        return 0;
    }
    /* An existing file is checked as it will be written: never through a
     * symlink. */
    if (errno == EEXIST)
        fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    close(fd);
    return 0;
}

/* The run's outputs before it starts: the record files, the metrics
 * endpoint, and a check that the JSON summary can be written. Returns 0 or
 * a negative errno (logged). */
static int start_outputs(struct probe_ctx *ctx)
{
    const struct probe_opts *o = ctx->o;
    int rc = record_open(ctx);
    if (rc == 0 && o->has_metrics) {
        char err[128], where[AH_ADDR_STRLEN + 8];
        ah_addr_format(&o->metrics, true, where, sizeof where);
        /* Its thread starts with SIGINT and SIGTERM blocked (main): they
         * stay the loop's. */
        rc = prom_http_start(&ctx->metrics, &o->metrics, err, sizeof err);
        if (rc < 0)
            ah_log_error("--metrics %s: %s", where, err);
        else
            ah_log_info("metrics at http://%s/metrics", where);
    }
    /* After record_open: the summary may go into the --out directory. */
    if (rc == 0 && o->summary_json && strcmp(o->summary_json, "-") != 0 &&
        (rc = check_summary_path(o->summary_json)) < 0)
        ah_log_error("--summary-json %s: %s", o->summary_json, strerror(-rc));
    return rc;
}

/* The run's answer: the --once lines or the summary, and the JSON summary.
 * Returns 0, or -1 when the run failed its --once check or the JSON could
 * not be written. */
static int report_results(struct probe_ctx *ctx)
{
    const struct probe_opts *o = ctx->o;
    int rc = 0;
    if (o->once) {
        if (!print_once(ctx))
            rc = -1;
    } else if (!o->quiet) {
        /* The summary is the run's answer: stdout, unless the JSON summary
         * goes there. */
        bool json_out = o->summary_json && strcmp(o->summary_json, "-") == 0;
        summary_print(ctx, json_out ? stderr : stdout);
    }
    if (o->summary_json) {
        int jr = summary_write_json(ctx, o->summary_json);
        if (jr < 0) {
            ah_log_error("--summary-json %s: %s", o->summary_json, strerror(-jr));
            rc = -1;
        }
    }
    return rc;
}

int main(int argc, char **argv)
{
    struct probe_opts o;
    struct probe_ctx ctx;
    uv_loop_t loop;
    int rc, exit_code = 0;

    sigset_t stop_sigs;

    /* SIGINT/SIGTERM wait until run_probe's handlers are in place (it
     * unblocks them): a signal at start-up then stops the run cleanly, with
     * its files written, instead of killing the process. */
    sigemptyset(&stop_sigs);
    sigaddset(&stop_sigs, SIGINT);
    sigaddset(&stop_sigs, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop_sigs, NULL);
    ah_log_init("anycast-probe", AH_LOG_INFO);
    rc = opts_parse(argc, argv, &o);
    if (rc == 1)
        return 0;
    if (rc < 0)
        return 2;
    /* A closed pipe must not kill the run before its rows are written. */
    signal(SIGPIPE, SIG_IGN);
    if (o.clock_echo) {
        /* No files to save: a signal may end the echo at once. */
        sigprocmask(SIG_UNBLOCK, &stop_sigs, NULL);
        return clock_echo_run(STDIN_FILENO, STDOUT_FILENO) < 0 ? 1 : 0;
    }
    srandom((unsigned)(ah_clock_realtime_ns() ^ (uint64_t)getpid()));
    if (o.nmembers > 0)
        return fleet_run(&o);
    /* Before the run: the chosen query then holds from its first probe on. */
    if (o.query_auto && o.service[AH_SVC_DNS] && query_pick(&o) < 0)
        return 1;

    memset(&ctx, 0, sizeof(ctx));
    ctx.o = &o;
    ctx.loop = &loop;
    ctx.progress_on = o.progress == 1 || (o.progress == -1 && !o.once && ah_log_live());
    rc = uv_loop_init(&loop);
    if (rc < 0) {
        ah_log_error("event loop: %s", uv_strerror(rc));
        return 1;
    }
    rc = start_outputs(&ctx);
    if (rc == 0)
        rc = run_probe(&ctx);
    else
        exit_code = 1;
    if (rc < 0 || ctx.exit_code)
        exit_code = 1;
    if (record_flush(&ctx) < 0)
        exit_code = 1;
    if (ctx.rec != NULL && rc == 0 && report_results(&ctx) < 0)
        exit_code = 1;
    prom_http_stop(ctx.metrics);
    if (ctx.rec != NULL && rc == 0 && !o.once && summary_check_loss(&ctx) > 0)
        exit_code = 1;
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
