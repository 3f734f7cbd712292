/* The live status line anycast-probe keeps on stderr when it is a terminal:
 * elapsed time, probes sent, ok share, which nodes answer, TCP connections up
 * and broken, and the current send rate, redrawn in place. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ah/clock.h"
#include "probe.h"

/* Node shares over every (transport, service), biggest first. */
static size_t node_shares(struct probe_ctx *ctx, char *buf, size_t cap)
{
    const char *name[AH_NODES_MAX * 4];
    uint64_t cnt[AH_NODES_MAX * 4], total = 0;
    unsigned n = 0;
    size_t len = 0;

    for (int t = 0; t < PT_COUNT; t++) {
        for (int s = 0; s < PS_COUNT; s++) {
            const struct ah_nodes *ns = &record_group(ctx, t, s)->nodes;
            for (unsigned i = 0; i < ns->n; i++) {
                unsigned j;
                for (j = 0; j < n && strcmp(name[j], ns->name[i]) != 0; j++)
                    ;
                if (j == n) {
                    name[n] = ns->name[i];
                    cnt[n++] = 0;
                }
                cnt[j] += ns->count[i];
                total += ns->count[i];
            }
        }
    }
    buf[0] = '\0';
    for (unsigned shown = 0; shown < 4 && total > 0; shown++) {
        unsigned best = n;
        for (unsigned j = 0; j < n; j++) {
            if (cnt[j] != UINT64_MAX && (best == n || cnt[j] > cnt[best]))
                best = j;
        }
        if (best == n)
            break;
        int w = snprintf(buf + len, cap - len, " %.12s %u%%", name[best],
                         (unsigned)(cnt[best] * 100 / total));
        if (w < 0 || (size_t)w >= cap - len)
            break;
        len += (size_t)w;
        cnt[best] = UINT64_MAX;
    }
    return len;
}

void progress_update(struct probe_ctx *ctx, bool final)
{
    static uint64_t last_mono, last_sent;
    uint64_t now = ah_clock_mono_ns();
    uint64_t sent = ctx->sent[PT_UDP] + ctx->sent[PT_TCP], ok = 0, done = 0;
    char line[256], nodes[128];
    int len;

    if (final) {
        fputs("\r\033[K", stderr);
        return;
    }
    for (int t = 0; t < PT_COUNT; t++) {
        for (int s = 0; s < PS_COUNT; s++) {
            const struct ah_group_stats *g = record_group(ctx, t, s);
            ok += g->result[AH_RES_OK];
            done += g->probes;
        }
    }
    node_shares(ctx, nodes, sizeof(nodes));
    if (last_mono == 0)
        last_mono = ctx->start_mono;
    double dt = (double)(now - last_mono) / 1e9;
    double rate = dt > 0 ? (double)(sent - last_sent) / dt : 0;
    last_mono = now;
    last_sent = sent;
    len = snprintf(line, sizeof(line), "\r%7.1fs sent %llu ok %.1f%% |%s",
                   (double)(now - ctx->start_mono) / 1e9, (unsigned long long)sent,
                   done ? 100.0 * (double)ok / (double)done : 0.0, nodes[0] ? nodes : " -");
    if (ctx->o->transport[PT_TCP] && len > 0 && (size_t)len < sizeof(line))
        len += snprintf(line + len, sizeof(line) - (size_t)len, " | tcp up %u broken %u",
                        ctx->tcp_up, ctx->tcp_broken);
    if (len > 0 && (size_t)len < sizeof(line))
        snprintf(line + len, sizeof(line) - (size_t)len, " | %.0f/s\033[K", rate);
    fputs(line, stderr);
    fflush(stderr);
}
