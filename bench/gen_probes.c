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

#define RATE         100000ULL /* probes per second over all vantages */
#define T0           (1795777000ULL * AH_NS_PER_S)
#define NODES        4
#define FLOWS        8  /* UDP flows per vantage */
#define CONNS        50 /* TCP connections per vantage */
#define EVERY_S      10 /* a withdraw every 10 s, the announce 5 s later */
#define GAP_MS       20 /* answers missing after a move */
#define MAX_CONNS    2000000
#define MAX_VANTAGES 64

struct conn {
    uint64_t id, opened, closed;
    unsigned vantage, node;
    enum ah_reason reason;
    uint64_t ok;
};

static char node_name[NODES][8];
static char vantage_name[MAX_VANTAGES][8];

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

/* The run being generated: its size, its output files and its TCP connections. */
struct gen {
    const char *dir;
    uint64_t rows, step, dur;
    unsigned nv;
    struct ah_csv *pw, *cw, *ew;
    struct conn *conns;
    size_t nconns;
    size_t *cur; /* per vantage and connection slot: its current entry in conns */
};

/* Reads DIR [ROWS] [VANTAGES]; returns 0 or the exit code 2 after the message. */
static int parse_args(int argc, char **argv, struct gen *g)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: gen_probes DIR [ROWS] [VANTAGES]\n");
        return 2;
    }
    g->dir = argv[1];
    g->rows = argc > 2 ? strtoull(argv[2], NULL, 10) : 10000000ULL;
    g->nv = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 4;
    if (g->rows == 0 || g->rows > 100000000ULL || g->nv == 0 || g->nv > MAX_VANTAGES) {
        fprintf(stderr, "gen_probes: ROWS in 1..100000000, VANTAGES in 1..64\n");
        return 2;
    }
    g->step = AH_NS_PER_S / RATE;
    g->dur = g->rows * g->step;
    return 0;
}

/* Names the nodes and vantages, creates DIR and opens the three CSVs. */
static int open_outputs(struct gen *g)
{
    for (unsigned i = 0; i < NODES; i++)
        snprintf(node_name[i], sizeof node_name[i], "n%u", i);
    for (unsigned i = 0; i < g->nv && i < MAX_VANTAGES; i++)
        snprintf(vantage_name[i], sizeof vantage_name[i], "v%u", i);
    mkdir(g->dir, 0755);
    char path[4096];
    snprintf(path, sizeof path, "%s/probes.csv", g->dir);
    int rc = ah_csv_open(&g->pw, path, ah_schema_probes_cols, AH_SCHEMA_PROBES_COLS);
    snprintf(path, sizeof path, "%s/connections.csv", g->dir);
    if (rc == 0)
        rc = ah_csv_open(&g->cw, path, ah_schema_connections_cols, AH_SCHEMA_CONNECTIONS_COLS);
    snprintf(path, sizeof path, "%s/events.csv", g->dir);
    if (rc == 0)
        rc = ah_csv_open(&g->ew, path, ah_schema_events_cols, AH_SCHEMA_EVENTS_COLS);
    return rc;
}

/* One withdraw or announce row for node n at t (ns since T0). */
static void write_verb(struct gen *g, uint64_t t, enum ah_verb verb, unsigned n)
{
    ah_csv_u64(g->ew, T0 + t);
    ah_csv_str(g->ew, ah_schema_verb_name(verb));
    ah_csv_str(g->ew, node_name[n]);
    ah_csv_str(g->ew, "");
    ah_csv_end_row(g->ew);
}

/* events.csv: every EVERY_S a node withdraws, the routers of the vantages preferring it
 * move to the next node, and 5 s later it announces again. */
static void write_events(struct gen *g)
{
    for (uint64_t s = EVERY_S; s * AH_NS_PER_S < g->dur; s += EVERY_S) {
        unsigned n = (unsigned)(s / EVERY_S) % NODES;
        write_verb(g, s * AH_NS_PER_S, AH_VERB_WITHDRAW, n);
        for (unsigned v = 0; v < g->nv; v++) {
            if (v % NODES != n)
                continue;
            char d[160];
            snprintf(d, sizeof d, "router=%.7s nexthop=%.7s", vantage_name[v],
                     node_name[(n + 1) % NODES]);
            ah_csv_u64(g->ew, T0 + s * AH_NS_PER_S + 50000);
            ah_csv_str(g->ew, ah_schema_event_name(AH_EVENT_ROUTE));
            ah_csv_str(g->ew, node_name[(n + 1) % NODES]);
            ah_csv_str(g->ew, d);
            ah_csv_end_row(g->ew);
        }
        if ((s + 5) * AH_NS_PER_S < g->dur)
            write_verb(g, (s + 5) * AH_NS_PER_S, AH_VERB_ANNOUNCE, n);
    }
}

/* Opens CONNS connections per vantage at T0, each to the vantage's preferred node. */
static void open_conns(struct gen *g)
{
    for (unsigned v = 0; v < g->nv; v++) {
        for (unsigned c = 0; c < CONNS; c++) {
            struct conn *k = &g->conns[g->nconns];
            k->id = c + 1;
            k->vantage = v;
            k->node = v % NODES;
            k->opened = T0;
            g->cur[v * CONNS + c] = g->nconns++;
        }
    }
}

/* The TCP probe i of vantage v at t, answered by node: returns its connection's id, after
 * resetting the connection and opening a new one if the route moved (a gap). */
static uint64_t tcp_flow(struct gen *g, uint64_t i, unsigned v, uint64_t t, unsigned node,
                         bool *gap)
{
    unsigned c = (unsigned)((i / g->nv / 3) % CONNS);
    struct conn *k = &g->conns[g->cur[v * CONNS + c]];
    if (k->node != node && g->nconns < MAX_CONNS) {
        /* The route moved: this connection resets, a new one opens. */
        k->closed = T0 + t;
        k->reason = AH_REASON_RESET;
        struct conn *n = &g->conns[g->nconns];
        n->id = k->id + (uint64_t)CONNS * 1000;
        n->vantage = v;
        n->node = node;
        n->opened = T0 + t + AH_NS_PER_MS;
        g->cur[v * CONNS + c] = g->nconns++;
        *gap = true;
        k = n;
    }
    if (!*gap)
        k->ok++;
    return k->id;
}

/* probes.csv: the vantages take turns, every third round over TCP. */
static int write_probes(struct gen *g)
{
    int rc = 0;
    uint64_t seq = 0;
    for (uint64_t i = 0; i < g->rows && rc >= 0; i++) {
        uint64_t t = i * g->step;
        unsigned v = (unsigned)(i % g->nv);
        bool tcp = (i / g->nv) % 3 == 2, gap;
        unsigned node = answering(v, t, &gap);
        uint64_t flow = tcp ? tcp_flow(g, i, v, t, node, &gap) : 40000 + (i / g->nv) % FLOWS;
        struct ah_csv *pw = g->pw;
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
    return rc;
}

/* connections.csv: the connections still open at the end close with the run. */
static int write_connections(struct gen *g)
{
    int rc = 0;
    for (size_t i = 0; i < g->nconns && rc >= 0; i++) {
        const struct conn *k = &g->conns[i];
        ah_csv_u64(g->cw, k->id);
        ah_csv_str(g->cw, vantage_name[k->vantage]);
        ah_csv_str(g->cw, "198.51.100.53");
        ah_csv_str(g->cw, ah_service_name(AH_SVC_ECHO));
        ah_csv_u64(g->cw, k->opened);
        ah_csv_str(g->cw, node_name[k->node]);
        ah_csv_u64(g->cw, k->closed ? k->closed : T0 + g->dur);
        ah_csv_str(g->cw, ah_reason_name(k->closed ? k->reason : AH_REASON_END));
        ah_csv_u64(g->cw, k->ok);
        ah_csv_u64(g->cw, 0);
        rc = ah_csv_end_row(g->cw);
    }
    return rc;
}

int main(int argc, char **argv)
{
    struct gen g;
    memset(&g, 0, sizeof g);
    int rc = parse_args(argc, argv, &g);
    if (rc != 0)
        return rc;
    rc = open_outputs(&g);
    g.conns = calloc(MAX_CONNS, sizeof *g.conns);
    g.cur = calloc((size_t)g.nv * CONNS, sizeof *g.cur);
    if (rc < 0 || !g.conns || !g.cur) {
        fprintf(stderr, "gen_probes: %s: %s\n", g.dir, strerror(rc < 0 ? -rc : ENOMEM));
        return 1;
    }
    write_events(&g);
    open_conns(&g);
    rc = write_probes(&g);
    if (rc >= 0)
        rc = write_connections(&g);
    int r1 = ah_csv_close(g.pw), r2 = ah_csv_close(g.cw), r3 = ah_csv_close(g.ew);
    free(g.conns);
    free(g.cur);
    if (rc < 0 || r1 < 0 || r2 < 0 || r3 < 0) {
        fprintf(stderr, "gen_probes: write failed\n");
        return 1;
    }
    printf("gen_probes: %llu probe rows, %zu connections, %.1f s of run in %s\n",
           (unsigned long long)g.rows, g.nconns, (double)g.dur / 1e9, g.dir);
    return 0;
}
