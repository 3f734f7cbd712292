/* Generates a synthetic run directory for bench/report.sh: probes.csv with N
 * rows in send-time order (UDP flows and TCP connections of V vantages,
 * answered by each vantage's preferred node, with failures and moves around
 * withdraw/announce events), connections.csv and events.csv. The numbers
 * are made up but shaped like a lab run, so that `anycast-lab report` does
 * its real work on them.
 * Usage: gen_probes DIR [ROWS (default 10000000, at most 100000000)] [VANTAGES (4)] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ah/clock.h"
#include "ah/csv.h"
#include "ah/schema.h"
#include "ah/stats.h"

#define RATE      100000ULL /* probes per second over all vantages */
#define T0        (1795777000ULL * AH_NS_PER_S)
#define NODES     4
#define FLOWS     8  /* UDP flows per vantage */
#define CONNS     50 /* TCP connections per vantage */
#define EVERY_S   10 /* a withdraw every 10 s, the announce 5 s later */
#define GAP_MS    20 /* answers missing after a move */
#define MAX_CONNS 2000000

struct conn {
    uint64_t id, opened, closed;
    unsigned vantage, node;
    enum ah_reason reason;
    uint64_t ok;
};

static char node_name[NODES][8];
static char vantage_name[64][8];

/* Which node answers vantage v at time t (ns from T0): its preferred node,
 * or the next one while that is withdrawn (5 s of every 10 s window, for
 * the node whose turn it is). */
static unsigned answering(unsigned v, uint64_t t, bool *gap)
{
    unsigned pref = v % NODES;
    uint64_t s = t / AH_NS_PER_S, in = t % (EVERY_S * AH_NS_PER_S);
    unsigned withdrawn = (unsigned)(s / EVERY_S) % NODES;
    bool down = s >= EVERY_S && in < 5 * AH_NS_PER_S;
    uint64_t since = down ? in : in - 5 * AH_NS_PER_S;
    *gap = s >= EVERY_S && withdrawn == pref && since < GAP_MS * AH_NS_PER_MS;
    if (down && withdrawn == pref)
        return (pref + 1) % NODES;
    return pref;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: gen_probes DIR [ROWS] [VANTAGES]\n");
        return 2;
    }
    uint64_t rows = argc > 2 ? strtoull(argv[2], NULL, 10) : 10000000ULL;
    unsigned nv = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 4;
    if (rows == 0 || rows > 100000000ULL || nv == 0 || nv > 64) {
        fprintf(stderr, "gen_probes: ROWS in 1..100000000, VANTAGES in 1..64\n");
        return 2;
    }
    for (unsigned i = 0; i < NODES; i++)
        snprintf(node_name[i], sizeof node_name[i], "n%u", i);
    for (unsigned i = 0; i < nv; i++)
        snprintf(vantage_name[i], sizeof vantage_name[i], "v%u", i);
    mkdir(argv[1], 0755);
    char path[4096];
    struct ah_csv *pw = NULL, *cw = NULL, *ew = NULL;
    snprintf(path, sizeof path, "%s/probes.csv", argv[1]);
    int rc = ah_csv_open(&pw, path, ah_schema_probes_cols, AH_SCHEMA_PROBES_COLS);
    snprintf(path, sizeof path, "%s/connections.csv", argv[1]);
    if (rc == 0)
        rc = ah_csv_open(&cw, path, ah_schema_connections_cols, AH_SCHEMA_CONNECTIONS_COLS);
    snprintf(path, sizeof path, "%s/events.csv", argv[1]);
    if (rc == 0)
        rc = ah_csv_open(&ew, path, ah_schema_events_cols, AH_SCHEMA_EVENTS_COLS);
    struct conn *conns = calloc(MAX_CONNS, sizeof *conns);
    size_t nconns = 0;
    size_t *cur = calloc((size_t)nv * CONNS, sizeof *cur);
    if (rc < 0 || !conns || !cur) {
        fprintf(stderr, "gen_probes: %s: %s\n", argv[1], strerror(rc < 0 ? -rc : ENOMEM));
        return 1;
    }
    uint64_t step = AH_NS_PER_S / RATE, dur = rows * step;
    for (uint64_t s = EVERY_S; s * AH_NS_PER_S < dur; s += EVERY_S) {
        unsigned n = (unsigned)(s / EVERY_S) % NODES;
        ah_csv_u64(ew, T0 + s * AH_NS_PER_S);
        ah_csv_str(ew, ah_schema_verb_name(AH_VERB_WITHDRAW));
        ah_csv_str(ew, node_name[n]);
        ah_csv_str(ew, "");
        ah_csv_end_row(ew);
        for (unsigned v = 0; v < nv; v++) {
            if (v % NODES != n)
                continue;
            char d[160];
            snprintf(d, sizeof d, "router=%.7s nexthop=%.7s", vantage_name[v],
                     node_name[(n + 1) % NODES]);
            ah_csv_u64(ew, T0 + s * AH_NS_PER_S + 50000);
            ah_csv_str(ew, ah_schema_event_name(AH_EVENT_ROUTE));
            ah_csv_str(ew, node_name[(n + 1) % NODES]);
            ah_csv_str(ew, d);
            ah_csv_end_row(ew);
        }
        if ((s + 5) * AH_NS_PER_S < dur) {
            ah_csv_u64(ew, T0 + (s + 5) * AH_NS_PER_S);
            ah_csv_str(ew, ah_schema_verb_name(AH_VERB_ANNOUNCE));
            ah_csv_str(ew, node_name[n]);
            ah_csv_str(ew, "");
            ah_csv_end_row(ew);
        }
    }
    for (unsigned v = 0; v < nv; v++) {
        for (unsigned c = 0; c < CONNS; c++) {
            struct conn *k = &conns[nconns];
            k->id = c + 1;
            k->vantage = v;
            k->node = v % NODES;
            k->opened = T0;
            cur[v * CONNS + c] = nconns++;
        }
    }
    uint64_t seq = 0;
    for (uint64_t i = 0; i < rows && rc >= 0; i++) {
        uint64_t t = i * step;
        unsigned v = (unsigned)(i % nv);
        bool tcp = (i / nv) % 3 == 2, gap;
        unsigned node = answering(v, t, &gap);
        uint64_t flow;
        if (tcp) {
            unsigned c = (unsigned)((i / nv / 3) % CONNS);
            struct conn *k = &conns[cur[v * CONNS + c]];
            if (k->node != node && nconns < MAX_CONNS) {
                /* The route moved: this connection resets, a new one opens. */
                k->closed = T0 + t;
                k->reason = AH_REASON_RESET;
                struct conn *n = &conns[nconns];
                n->id = k->id + (uint64_t)CONNS * 1000;
                n->vantage = v;
                n->node = node;
                n->opened = T0 + t + AH_NS_PER_MS;
                cur[v * CONNS + c] = nconns++;
                gap = true;
                k = n;
            }
            flow = k->id;
            if (!gap)
                k->ok++;
        } else {
            flow = 40000 + (i / nv) % FLOWS;
        }
        ah_csv_u64(pw, T0 + t);
        ah_csv_str(pw, vantage_name[v]);
        ah_csv_str(pw, "198.51.100.53");
        ah_csv_str(pw, ah_transport_name(tcp ? AH_TR_TCP : AH_TR_UDP));
        ah_csv_str(pw, ah_service_name(tcp ? AH_SVC_ECHO : AH_SVC_DNS));
        ah_csv_u64(pw, flow);
        ah_csv_u64(pw, ++seq);
        ah_csv_str(pw, ah_result_name(gap ? (tcp ? AH_RES_RESET : AH_RES_TIMEOUT) : AH_RES_OK));
        ah_csv_str(pw, gap ? "" : node_name[node]);
        if (gap)
            ah_csv_empty(pw);
        else
            ah_csv_u64(pw, 150 + i % 97);
        ah_csv_str(pw, gap && tcp ? "ECONNRESET" : "");
        rc = ah_csv_end_row(pw);
    }
    for (size_t i = 0; i < nconns && rc >= 0; i++) {
        const struct conn *k = &conns[i];
        ah_csv_u64(cw, k->id);
        ah_csv_str(cw, vantage_name[k->vantage]);
        ah_csv_str(cw, "198.51.100.53");
        ah_csv_str(cw, ah_service_name(AH_SVC_ECHO));
        ah_csv_u64(cw, k->opened);
        ah_csv_str(cw, node_name[k->node]);
        ah_csv_u64(cw, k->closed ? k->closed : T0 + dur);
        ah_csv_str(cw, ah_reason_name(k->closed ? k->reason : AH_REASON_END));
        ah_csv_u64(cw, k->ok);
        ah_csv_u64(cw, 0);
        rc = ah_csv_end_row(cw);
    }
    int r1 = ah_csv_close(pw), r2 = ah_csv_close(cw), r3 = ah_csv_close(ew);
    free(conns);
    free(cur);
    if (rc < 0 || r1 < 0 || r2 < 0 || r3 < 0) {
        fprintf(stderr, "gen_probes: write failed\n");
        return 1;
    }
    printf("gen_probes: %llu probe rows, %zu connections, %.1f s of run in %s\n",
           (unsigned long long)rows, nconns, (double)dur / 1e9, argv[1]);
    return 0;
}
