/* Rows of one run: probes.csv and connections.csv exactly as docs/formats.md (when
 * --out is given), and the per (transport, service) statistics the summary
 * and the progress line read. Every probe and connection passes through here
 * once, at the moment its result is known. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ah/csv.h"
#include "ah/log.h"
#include "ah/schema.h"
#include "probe.h"

struct record {
    struct ah_csv *probes, *conns;
    struct ah_group_stats group[AH_TR_COUNT][AH_SVC_COUNT];
    int err; /* first write error, reported once */
    /* The detail of the last failed probe per group, for --once's line. */
    char last_detail[AH_TR_COUNT][AH_SVC_COUNT][32];
};

static int open_csv(struct ah_csv **w, const char *dir, const char *name, const char *const *cols,
                    size_t n)
{
    char path[4096];
    int rc;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
        ah_log_error("%s/%s: path too long", dir, name);
        return -ENAMETOOLONG;
    }
    rc = ah_csv_open(w, path, cols, n);
    if (rc < 0)
        ah_log_error("%s: %s", path, strerror(-rc));
    return rc;
}

int record_open(struct probe_ctx *ctx)
{
    struct record *r = calloc(1, sizeof(*r));
    const char *dir = ctx->o->out_dir;
    int rc = 0;

    if (r == NULL)
        return -ENOMEM;
    for (int t = 0; t < AH_TR_COUNT; t++)
        for (int s = 0; s < AH_SVC_COUNT; s++)
            ah_group_stats_init(&r->group[t][s]);
    ctx->rec = r;
    if (dir == NULL)
        return 0;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        rc = -errno;
        ah_log_error("--out %s: %s", dir, strerror(errno));
        return rc;
    }
    rc = open_csv(&r->probes, dir, "probes.csv", ah_schema_probes_cols, AH_SCHEMA_PROBES_COLS);
    if (rc == 0)
        rc = open_csv(&r->conns, dir, "connections.csv", ah_schema_connections_cols,
                      AH_SCHEMA_CONNECTIONS_COLS);
    return rc;
}

static void note_err(struct record *r, int rc, const char *what)
{
    if (rc < 0 && r->err == 0) {
        r->err = rc;
        ah_log_error("%s/%s: %s", "--out", what, strerror(-rc));
    }
}

void record_probe(struct probe_ctx *ctx, const struct probe_row *p)
{
    struct record *r = ctx->rec;
    struct ah_csv *w = r->probes;
    int rc;

    rc = ah_group_stats_add(&r->group[p->transport][p->service], p->result, p->node, p->conn,
                            p->rtt_ns);
    if (rc < 0)
        note_err(r, rc, "statistics");
    if (p->result != AH_RES_OK && p->detail && p->detail[0])
        snprintf(r->last_detail[p->transport][p->service],
                 sizeof(r->last_detail[p->transport][p->service]), "%s", p->detail);
    if (w == NULL)
        return;
    ah_csv_u64(w, p->ts_ns);
    ah_csv_str(w, ctx->o->vantage);
    ah_csv_str(w, ctx->o->target_text);
    ah_csv_str(w, ah_transport_name(p->transport));
    ah_csv_str(w, ah_service_name(p->service));
    ah_csv_u64(w, p->conn);
    ah_csv_u64(w, p->seq);
    ah_csv_str(w, ah_result_name(p->result));
    ah_csv_str(w, p->result == AH_RES_OK || (p->node && p->node[0]) ? p->node : NULL);
    if (p->result == AH_RES_OK)
        ah_csv_u64(w, p->rtt_ns / 1000);
    else
        ah_csv_empty(w);
    char detail[128];
    ah_csv_str(w, query_row_detail(ctx, p, detail, sizeof(detail)));
    rc = ah_csv_end_row(w);
    if (rc < 0)
        note_err(r, rc, "probes.csv");
}

void record_conn_opened(struct probe_ctx *ctx, enum ah_service s)
{
    ctx->rec->group[AH_TR_TCP][s].conns_opened++;
}

void record_conn(struct probe_ctx *ctx, const struct conn_row *c)
{
    struct record *r = ctx->rec;
    struct ah_csv *w = r->conns;
    int rc;

    r->group[AH_TR_TCP][c->service].conns_ended[c->reason]++;
    if (w == NULL)
        return;
    ah_csv_u64(w, c->conn);
    ah_csv_str(w, ctx->o->vantage);
    ah_csv_str(w, ctx->o->target_text);
    ah_csv_str(w, ah_service_name(c->service));
    ah_csv_u64(w, c->opened_ns);
    ah_csv_str(w, c->node && c->node[0] ? c->node : NULL);
    ah_csv_u64(w, c->closed_ns);
    ah_csv_str(w, ah_reason_name(c->reason));
    ah_csv_u64(w, c->probes_ok);
    ah_csv_u64(w, c->probes_failed);
    rc = ah_csv_end_row(w);
    if (rc < 0)
        note_err(r, rc, "connections.csv");
}

int record_flush(struct probe_ctx *ctx)
{
    struct record *r = ctx->rec;
    int rc = 0, rc2;

    if (r == NULL)
        return 0;
    if (r->probes != NULL && (rc2 = ah_csv_flush(r->probes)) < 0) {
        note_err(r, rc2, "probes.csv");
        rc = rc2;
    }
    if (r->conns != NULL && (rc2 = ah_csv_flush(r->conns)) < 0) {
        note_err(r, rc2, "connections.csv");
        rc = rc2;
    }
    return rc;
}

int record_close(struct probe_ctx *ctx)
{
    struct record *r = ctx->rec;
    int rc, rc2;

    if (r == NULL)
        return 0;
    rc = ah_csv_close(r->probes);
    note_err(r, rc, "probes.csv");
    rc2 = ah_csv_close(r->conns);
    note_err(r, rc2, "connections.csv");
    r->probes = r->conns = NULL;
    for (int t = 0; t < AH_TR_COUNT; t++)
        for (int s = 0; s < AH_SVC_COUNT; s++)
            ah_group_stats_free(&r->group[t][s]);
    rc = r->err;
    free(r);
    ctx->rec = NULL;
    return rc;
}

struct ah_group_stats *record_group(struct probe_ctx *ctx, enum ah_transport t, enum ah_service s)
{
    return &ctx->rec->group[t][s];
}

const char *record_last_detail(struct probe_ctx *ctx, enum ah_transport t, enum ah_service s)
{
    return ctx->rec->last_detail[t][s];
}
