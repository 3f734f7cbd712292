/* The end-of-run summary of anycast-probe, per (transport, service): probes,
 * ok, lost by result, RTT percentiles, nodes seen with counts, flips and TCP
 * connections by end reason; as text on stderr (identities escaped for a
 * terminal) and as JSON for scripts (always valid JSON). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ah/json.h"
#include "ah/log.h"
#include "ah/file.h"
#include "ah/clock.h"
#include "ah/esc.h"
#include "probe.h"
#include "query_auto.h"

static void fmt_ms(char *buf, size_t cap, uint64_t ns)
{
    snprintf(buf, cap, "%.3f", (double)ns / 1e6);
}

static bool group_used(struct probe_ctx *ctx, int t, int s)
{
    return ctx->o->transport[t] && ctx->o->service[s];
}

/* True when a UDP DNS group's answers stopped in the pattern a server's
 * response rate limiting leaves (query_auto.c); *per_s gets the answered
 * rate over the sending window (the duration, or the whole run). */
static bool group_ratelimited(struct probe_ctx *ctx, int t, int s, double *per_s)
{
    const struct ah_group_stats *g = record_group(ctx, t, s);
    uint64_t el = ah_clock_mono_ns() - ctx->start_mono;
    struct qauto_rl_input in = {
        .probes = g->probes,
        .ok = g->result[AH_RES_OK],
        .timeouts = g->result[AH_RES_TIMEOUT],
        .tc = g->result[AH_RES_RATELIMITED],
        .window_ns = ctx->o->duration_ns && ctx->o->duration_ns < el ? ctx->o->duration_ns : el,
    };

    *per_s = 0.0;
    if (t != AH_TR_UDP || s != AH_SVC_DNS)
        return false;
    return qauto_ratelimited(&in, per_s);
}

void summary_print(struct probe_ctx *ctx, FILE *f)
{
    uint64_t el = ah_clock_mono_ns() - ctx->start_mono;

    char vantage[AH_ESC_TERM_MAX(64)];
    ah_esc_term(vantage, sizeof(vantage), ctx->o->vantage, strlen(ctx->o->vantage));
    fprintf(f, "anycast-probe: summary: target %s, vantage %s, %.1f s\n", ctx->o->target_text,
            vantage, (double)el / 1e9);
    if (ctx->o->service[AH_SVC_DNS]) {
        if (ctx->o->query_auto)
            fprintf(f, "  dns query: %s (auto: %s)\n", ctx->o->query_spec, ctx->o->query_why);
        else
            fprintf(f, "  dns query: %s\n", ctx->o->query_spec);
    }
    for (int t = 0; t < AH_TR_COUNT; t++) {
        for (int s = 0; s < AH_SVC_COUNT; s++) {
            const struct ah_group_stats *g = record_group(ctx, t, s);
            char p50[32], p90[32], p99[32], mx[32];

            if (!group_used(ctx, t, s))
                continue;
            fprintf(f, "  %s %-4s: %llu probes, %llu ok, %llu lost", ah_transport_name(t),
                    ah_service_name(s), (unsigned long long)g->probes,
                    (unsigned long long)g->result[AH_RES_OK],
                    (unsigned long long)ah_group_stats_lost(g));
            const char *sep = " (";
            for (int r = 1; r < AH_RES_COUNT; r++) {
                if (g->result[r] == 0)
                    continue;
                fprintf(f, "%s%s %llu", sep, ah_result_name(r), (unsigned long long)g->result[r]);
                sep = ", ";
            }
            if (sep[0] == ',')
                fputc(')', f);
            double per_s;
            if (group_ratelimited(ctx, t, s, &per_s))
                fprintf(f, ", likely rate-limited by the server (%.1f answered/s)", per_s);
            if (g->rtt.count) {
                fmt_ms(p50, sizeof(p50), ah_hist_percentile(&g->rtt, 50));
                fmt_ms(p90, sizeof(p90), ah_hist_percentile(&g->rtt, 90));
                fmt_ms(p99, sizeof(p99), ah_hist_percentile(&g->rtt, 99));
                fmt_ms(mx, sizeof(mx), g->rtt.max);
                fprintf(f, "; rtt ms p50 %s p90 %s p99 %s max %s", p50, p90, p99, mx);
            }
            fprintf(f, "; flips %llu\n", (unsigned long long)g->flips.flips);
            fprintf(f, "            nodes:");
            for (unsigned i = 0; i < g->nodes.n; i++) {
                char name[AH_ESC_TERM_MAX(AH_NODE_NAME_MAX)];
                ah_esc_term(name, sizeof(name), g->nodes.name[i], strlen(g->nodes.name[i]));
                fprintf(f, "%s %s %llu", i ? "," : "", name, (unsigned long long)g->nodes.count[i]);
            }
            fprintf(f, "%s\n", g->nodes.n ? "" : " none");
            if (t == AH_TR_UDP && ctx->o->timestamps_kernel)
                fprintf(f, "            rtt from kernel stamps %llu, user-space clock %llu\n",
                        (unsigned long long)ctx->ts_kernel[s], (unsigned long long)ctx->ts_user[s]);
            if (t == AH_TR_TCP) {
                fprintf(f, "            connections: %llu opened; ended:",
                        (unsigned long long)g->conns_opened);
                const char *sep2 = " ";
                for (int r = 0; r < AH_REASON_COUNT; r++) {
                    if (g->conns_ended[r] == 0)
                        continue;
                    fprintf(f, "%s%s %llu", sep2, ah_reason_name(r),
                            (unsigned long long)g->conns_ended[r]);
                    sep2 = ", ";
                }
                fprintf(f, "%s\n", sep2[0] == ' ' ? " none" : "");
            }
        }
    }
}

unsigned summary_check_loss(struct probe_ctx *ctx)
{
    unsigned over = 0;
    if (ctx->o->max_loss < 0)
        return 0;
    for (int t = 0; t < AH_TR_COUNT; t++) {
        for (int s = 0; s < AH_SVC_COUNT; s++) {
            const struct ah_group_stats *g = record_group(ctx, t, s);
            if (!group_used(ctx, t, s) || g->probes == 0)
                continue;
            double pct = 100.0 * (double)ah_group_stats_lost(g) / (double)g->probes;
            if (pct > ctx->o->max_loss) {
                ah_log_error("%s %s: %.2f %% of %llu probes lost, above --max-loss %g %%",
                             ah_transport_name(t), ah_service_name(s), pct,
                             (unsigned long long)g->probes, ctx->o->max_loss);
                over++;
            }
        }
    }
    return over;
}

int summary_write_json(struct probe_ctx *ctx, const char *path)
{
    bool to_stdout = strcmp(path, "-") == 0;
    FILE *f = to_stdout ? stdout : ah_file_fopen_w(path);
    bool first = true;
    int rc = 0;

    if (f == NULL)
        return -errno;
    fprintf(f, "{\"target\": ");
    ah_json_str(f, ctx->o->target_text);
    fprintf(f, ", \"vantage\": ");
    ah_json_str(f, ctx->o->vantage);
    if (ctx->o->service[AH_SVC_DNS]) {
        fprintf(f, ", \"query\": ");
        ah_json_str(f, ctx->o->query_spec);
        fprintf(f, ", \"query_auto\": %s", ctx->o->query_auto ? "true" : "false");
        if (ctx->o->query_auto) {
            fprintf(f, ", \"query_why\": ");
            ah_json_str(f, ctx->o->query_why);
        }
    }
    fprintf(f, ", \"started_ns\": %llu, \"elapsed_ms\": %llu, \"groups\": [",
            (unsigned long long)ctx->start_real,
            (unsigned long long)((ah_clock_mono_ns() - ctx->start_mono) / 1000000));
    for (int t = 0; t < AH_TR_COUNT; t++) {
        for (int s = 0; s < AH_SVC_COUNT; s++) {
            const struct ah_group_stats *g = record_group(ctx, t, s);
            if (!group_used(ctx, t, s))
                continue;
            fprintf(f,
                    "%s\n  {\"transport\": \"%s\", \"service\": \"%s\", \"probes\": %llu, "
                    "\"ok\": %llu, \"lost\": %llu, \"results\": {",
                    first ? "" : ",", ah_transport_name(t), ah_service_name(s),
                    (unsigned long long)g->probes, (unsigned long long)g->result[AH_RES_OK],
                    (unsigned long long)ah_group_stats_lost(g));
            first = false;
            for (int r = 0; r < AH_RES_COUNT; r++)
                fprintf(f, "%s\"%s\": %llu", r ? ", " : "", ah_result_name(r),
                        (unsigned long long)g->result[r]);
            fprintf(f, "}, \"rtt_us\": ");
            if (g->rtt.count)
                fprintf(f, "{\"p50\": %.1f, \"p90\": %.1f, \"p99\": %.1f, \"max\": %.1f}",
                        (double)ah_hist_percentile(&g->rtt, 50) / 1e3,
                        (double)ah_hist_percentile(&g->rtt, 90) / 1e3,
                        (double)ah_hist_percentile(&g->rtt, 99) / 1e3, (double)g->rtt.max / 1e3);
            else
                fprintf(f, "null");
            fprintf(f, ", \"nodes\": {");
            for (unsigned i = 0; i < g->nodes.n; i++) {
                fprintf(f, "%s", i ? ", " : "");
                ah_json_str(f, g->nodes.name[i]);
                fprintf(f, ": %llu", (unsigned long long)g->nodes.count[i]);
            }
            fprintf(f, "}, \"flips\": %llu", (unsigned long long)g->flips.flips);
            double per_s;
            if (group_ratelimited(ctx, t, s, &per_s))
                fprintf(f, ", \"likely_rate_limited\": {\"answered_per_s\": %.1f}", per_s);
            if (t == AH_TR_UDP)
                fprintf(f, ", \"timestamps\": {\"mode\": \"%s\", \"kernel\": %llu, \"user\": %llu}",
                        ctx->o->timestamps_kernel ? "kernel" : "user",
                        (unsigned long long)ctx->ts_kernel[s], (unsigned long long)ctx->ts_user[s]);
            if (t == AH_TR_TCP) {
                fprintf(f, ", \"connections\": {\"opened\": %llu, \"ended\": {",
                        (unsigned long long)g->conns_opened);
                for (int r = 0; r < AH_REASON_COUNT; r++)
                    fprintf(f, "%s\"%s\": %llu", r ? ", " : "", ah_reason_name(r),
                            (unsigned long long)g->conns_ended[r]);
                fprintf(f, "}}");
            }
            fprintf(f, "}");
        }
    }
    fprintf(f, "\n]}\n");
    if (ferror(f))
        rc = -EIO;
    if (to_stdout ? fflush(f) != 0 : fclose(f) != 0)
        rc = rc ? rc : -errno;
    return rc;
}
