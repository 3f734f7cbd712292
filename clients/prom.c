/* Prometheus text exposition (format 0.0.4) of the probe's statistics: one
 * family per figure, labelled by vantage, target, transport and service, and
 * node or result or reason where they apply (see prom.h). */
#include "prom.h"

#include <errno.h>
#include <string.h>

#include "ah/esc.h"

/* Writes s as a label value: quotes, backslashes and line feeds escaped,
 * bytes that are not part of valid UTF-8 replaced by U+FFFD. */
static void label_value(FILE *f, const char *s)
{
    size_t n = strlen(s);
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        size_t u = ah_utf8_len(s + i, n - i);
        if (u == 0) {
            fputs("\xef\xbf\xbd", f);
            i++;
            continue;
        }
        if (u == 1 && (s[i] == '"' || s[i] == '\\'))
            fprintf(f, "\\%c", s[i]);
        else if (u == 1 && s[i] == '\n')
            fputs("\\n", f);
        else
            fwrite(s + i, 1, u, f);
        i += u;
    }
    fputc('"', f);
}

/* Writes NAME{vantage=...,target=...,transport=...,service=...[,KEY=VAL]}. */
static void sample(FILE *f, const struct prom_input *in, const char *name, int t, int s,
                   const char *key, const char *val)
{
    fprintf(f, "%s{vantage=", name);
    label_value(f, in->vantage);
    fputs(",target=", f);
    label_value(f, in->target);
    fprintf(f, ",transport=\"%s\",service=\"%s\"", ah_transport_name((enum ah_transport)t),
            ah_service_name((enum ah_service)s));
    if (key) {
        fprintf(f, ",%s=", key);
        label_value(f, val);
    }
    fputs("} ", f);
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

#define EACH_GROUP(in, t, s, g)                                                                    \
    for (int t = 0; t < AH_TR_COUNT; t++)                                                          \
        for (int s = 0; s < AH_SVC_COUNT; s++)                                                     \
            for (const struct ah_group_stats *g = (in)->group[t][s]; g; g = NULL)

static const double rtt_bounds[PROM_RTT_BOUNDS] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                   0.0025,  0.005,  0.01,    0.025,  0.05,
                                                   0.1,     0.25,   0.5,     1,      2.5};

/* The histogram's samples at or below le_ns: every bucket that ends there
 * or before, so a count is exact at a bucket edge and at most one bucket
 * (1/64 of a power of two) off elsewhere. */
static uint64_t rtt_at_most(const struct ah_hist *h, uint64_t le_ns)
{
    uint64_t n = 0;
    for (unsigned b = 0; b < AH_HIST_BUCKETS; b++) {
        uint64_t end = b + 1 < AH_HIST_BUCKETS ? ah_hist_bucket_low(b + 1) : UINT64_MAX;
        if (end - 1 > le_ns)
            break;
        n += h->bucket[b];
    }
    return n;
}

static void rtt_histogram(FILE *f, const struct prom_input *in)
{
    family(f, "anycast_probe_rtt_seconds", "histogram",
           "Round-trip time of the probes that got an answer.");
    char le[32];
    EACH_GROUP(in, t, s, g)
    {
        for (int i = 0; i < PROM_RTT_BOUNDS; i++) {
            snprintf(le, sizeof le, "%g", rtt_bounds[i]);
            sample(f, in, "anycast_probe_rtt_seconds_bucket", t, s, "le", le);
            fprintf(f, "%llu\n",
                    (unsigned long long)rtt_at_most(&g->rtt, (uint64_t)(rtt_bounds[i] * 1e9)));
        }
        sample(f, in, "anycast_probe_rtt_seconds_bucket", t, s, "le", "+Inf");
        fprintf(f, "%llu\n", (unsigned long long)g->rtt.count);
        sample(f, in, "anycast_probe_rtt_seconds_sum", t, s, NULL, NULL);
        fprintf(f, "%.9f\n", (double)g->rtt.sum / 1e9);
        sample(f, in, "anycast_probe_rtt_seconds_count", t, s, NULL, NULL);
        fprintf(f, "%llu\n", (unsigned long long)g->rtt.count);
    }
}

int prom_write(FILE *f, const struct prom_input *in)
{
    family(f, "anycast_probe_probes_total", "counter", "Probes whose result is known, by result.");
    EACH_GROUP(in, t, s, g)
    {
        for (int r = 0; r < AH_RES_COUNT; r++) {
            sample(f, in, "anycast_probe_probes_total", t, s, "result",
                   ah_result_name((enum ah_result)r));
            fprintf(f, "%llu\n", (unsigned long long)g->result[r]);
        }
    }
    family(f, "anycast_probe_answers_total", "counter", "Answers by the node that gave them.");
    EACH_GROUP(in, t, s, g)
    {
        for (unsigned i = 0; i < g->nodes.n; i++) {
            sample(f, in, "anycast_probe_answers_total", t, s, "node", g->nodes.name[i]);
            fprintf(f, "%llu\n", (unsigned long long)g->nodes.count[i]);
        }
    }
    family(f, "anycast_probe_lost_total", "counter", "Probes without an answer.");
    EACH_GROUP(in, t, s, g)
    {
        sample(f, in, "anycast_probe_lost_total", t, s, NULL, NULL);
        fprintf(f, "%llu\n", (unsigned long long)ah_group_stats_lost(g));
    }
    family(f, "anycast_probe_flips_total", "counter",
           "Consecutive answers on one flow or connection from different nodes.");
    EACH_GROUP(in, t, s, g)
    {
        sample(f, in, "anycast_probe_flips_total", t, s, NULL, NULL);
        fprintf(f, "%llu\n", (unsigned long long)g->flips.flips);
    }
    rtt_histogram(f, in);
    family(f, "anycast_probe_connections_opened_total", "counter", "TCP connections opened.");
    EACH_GROUP(in, t, s, g)
    {
        if (t != AH_TR_TCP)
            continue;
        sample(f, in, "anycast_probe_connections_opened_total", t, s, NULL, NULL);
        fprintf(f, "%llu\n", (unsigned long long)g->conns_opened);
    }
    family(f, "anycast_probe_connections_ended_total", "counter",
           "TCP connections that ended, by how they ended.");
    EACH_GROUP(in, t, s, g)
    {
        if (t != AH_TR_TCP)
            continue;
        for (int r = 0; r < AH_REASON_COUNT; r++) {
            sample(f, in, "anycast_probe_connections_ended_total", t, s, "reason",
                   ah_reason_name((enum ah_reason)r));
            fprintf(f, "%llu\n", (unsigned long long)g->conns_ended[r]);
        }
    }
    family(f, "anycast_probe_connections_open", "gauge", "TCP connections open now.");
    fputs("anycast_probe_connections_open{vantage=", f);
    label_value(f, in->vantage);
    fputs(",target=", f);
    label_value(f, in->target);
    fprintf(f, "} %u\n", in->tcp_up);
    return ferror(f) ? -EIO : 0;
}
