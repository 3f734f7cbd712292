/* The live status line anycast-probe keeps on stderr (on a terminal, or with
 * --progress always): elapsed time, probes sent, ok share, which nodes answer,
 * TCP connections up and broken, and the current send rate, redrawn in place. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/esc.h"
#include "probe.h"

/* Node shares over every (transport, service), biggest first. */
static size_t node_shares(struct probe_ctx *ctx, char *buf, size_t cap)
{
    const char *name[AH_NODES_MAX * 4];
    uint64_t cnt[AH_NODES_MAX * 4], total = 0;
    unsigned n = 0;
    size_t len = 0;

    for (int t = 0; t < AH_TR_COUNT; t++) {
        for (int s = 0; s < AH_SVC_COUNT; s++) {
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
        /* At most 12 characters of a name, escaped: an identity is the
         * server's bytes and this line goes to a terminal. */
        char shown_name[13];
        ah_esc_term(shown_name, sizeof(shown_name), name[best], strlen(name[best]));
        int w = snprintf(buf + len, cap - len, " %s %u%%", shown_name,
                         (unsigned)(cnt[best] * 100 / total));
        if (w < 0 || (size_t)w >= cap - len)
            break;
        len += (size_t)w;
        cnt[best] = UINT64_MAX;
    }
    return len;
}

/* The send rate over about the last second: a ring of the last samples
 * (progress is drawn every 250 ms), so a rate of 10/s reads 10/s and not
 * 8 or 12 as single 250 ms windows would. */
#define RATE_SAMPLES 5

void progress_update(struct probe_ctx *ctx, bool final)
{
    static uint64_t ring_mono[RATE_SAMPLES], ring_sent[RATE_SAMPLES];
    static unsigned ring_n, ring_at;
    static int last_len, tty = -1;
    uint64_t now = ah_clock_mono_ns();
    uint64_t sent = ctx->sent[AH_TR_UDP] + ctx->sent[AH_TR_TCP], ok = 0, done = 0;
    char line[256], nodes[128];
    double rate = 0;
    int len;

    if (tty < 0)
        tty = isatty(STDERR_FILENO);
    for (int t = 0; t < AH_TR_COUNT; t++) {
        for (int s = 0; s < AH_SVC_COUNT; s++) {
            const struct ah_group_stats *g = record_group(ctx, t, s);
            ok += g->result[AH_RES_OK];
            done += g->probes;
        }
    }
    node_shares(ctx, nodes, sizeof(nodes));
    if (final) {
        /* The last line shows the whole run's average rate. */
        if (now > ctx->start_mono)
            rate = (double)sent * 1e9 / (double)(now - ctx->start_mono);
    } else {
        unsigned oldest = ring_n < RATE_SAMPLES ? 0 : ring_at;
        uint64_t t0 = ring_n ? ring_mono[oldest] : ctx->start_mono;
        uint64_t s0 = ring_n ? ring_sent[oldest] : 0;
        if (now > t0)
            rate = (double)(sent - s0) * 1e9 / (double)(now - t0);
        ring_mono[ring_at] = now;
        ring_sent[ring_at] = sent;
        ring_at = (ring_at + 1) % RATE_SAMPLES;
        if (ring_n < RATE_SAMPLES)
            ring_n++;
    }
    len = snprintf(line, sizeof(line), "%7.1fs sent %llu ok %.1f%% |%s",
                   (double)(now - ctx->start_mono) / 1e9, (unsigned long long)sent,
                   done ? 100.0 * (double)ok / (double)done : 0.0, nodes[0] ? nodes : " -");
    if (ctx->o->transport[AH_TR_TCP] && len > 0 && (size_t)len < sizeof(line))
        len += snprintf(line + len, sizeof(line) - (size_t)len, " | tcp up %u broken %u",
                        ctx->tcp_up, ctx->tcp_broken);
    if (len > 0 && (size_t)len < sizeof(line))
        len += snprintf(line + len, sizeof(line) - (size_t)len, " | %.0f/s", rate);
    if (len < 0 || (size_t)len >= sizeof(line))
        len = (int)strlen(line);
    /* One line redrawn in place with \r. A terminal clears the rest of the
     * old line with an escape; a file or pipe gets no escapes, so spaces
     * cover what a shorter line leaves of the longer one. The last redraw
     * ends with a newline: the summary then starts on a line of its own and
     * the final status stays readable. */
    if (tty)
        fprintf(stderr, "\r%s\033[K", line);
    else
        fprintf(stderr, "\r%s%*s", line, last_len > len ? last_len - len : 0, "");
    last_len = len;
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}
