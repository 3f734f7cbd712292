/* summary.csv and summary.json: the metrics' rows written in the columns
 * docs/formats.md defines, and the rows an event touched marked for the
 * page. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/csv.h"
#include "ah/esc.h"
#include "ah/file.h"
#include "ah/json.h"
#include "ah/log.h"
#include "ah/schema.h"
#include "report_int.h"
#include "results.h"

static void json_num(FILE *f, double v)
{
    if (isnan(v))
        fputs("null", f);
    else
        fprintf(f, "%.3f", v);
}

/* One `, "key": number` member of a JSON object (null when unknown). */
static void json_member_num(FILE *f, const char *key, double v)
{
    fprintf(f, ", \"%s\": ", key);
    json_num(f, v);
}

/* One `, "key": count` member of a row (null when the row has none). */
static void json_member_count(FILE *f, const struct ah_metrics_row *r, const char *key)
{
    double v;
    if (ah_metrics_field(r, key, &v) == 1)
        fprintf(f, ", \"%s\": %llu", key, (unsigned long long)v);
    else
        fprintf(f, ", \"%s\": null", key);
}

/* ---- summary.csv and summary.json ---- */

/* The collateral columns: a count where the row has one, else empty. */
static void write_collateral_csv(struct ah_csv *w, const struct ah_metrics_row *r)
{
    static const char *const cols[] = {"flows_moved_collateral", "conns_broken_collateral"};
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
        double v;
        if (ah_metrics_field(r, cols[k], &v) == 1)
            ah_csv_u64(w, (uint64_t)v);
        else
            ah_csv_empty(w);
    }
}

/* The event column: the word, with "#N" from the second occurrence of the
 * same word and node on (summary.json's occurrence), as expectations name
 * it. */
static void csv_event(struct ah_csv *w, const struct ah_metrics_row *r)
{
    if (r->occurrence <= 1) {
        ah_csv_str(w, r->event);
        return;
    }
    char buf[RP_NAME_MAX + 16];
    size_t n = strlen(r->event) + 16; /* events.csv words are not bounded by RP_NAME_MAX */
    char *ev = n <= sizeof buf ? buf : malloc(n);
    if (!ev) {
        ah_csv_str(w, r->event);
        return;
    }
    snprintf(ev, n, "%s#%u", r->event, r->occurrence);
    ah_csv_str(w, ev);
    if (ev != buf)
        free(ev);
}

/* Marks the vantage of an event row that the event affected, so that the
 * plots draw it first. */
static void mark_affected(struct rp *rp, const struct ah_metrics_row *r)
{
    if (strcmp(r->event, ah_schema_event_name(AH_EVENT_RUN)) == 0 ||
        rp_card_classify(r) != RP_CARD_AFFECTED)
        return;
    const char *v = rp_names_get(&rp->names, r->vantage);
    struct rp_name_state *st = v ? rp_name_state(v) : NULL;
    if (!st || st->affected)
        return;
    st->affected = 1;
    rp->naffected++;
    rp->affected_hidden += st->strip_seen && !st->strip_own;
}

int rp_write_summary_csv(struct rp *rp, const struct ah_metrics *m, const char *dir)
{
    struct ah_csv *w = NULL;
    char tmp[PATH_MAX + 64];
    int fd = ah_file_tmp_open(dir, "summary.csv", tmp, sizeof tmp);
    if (fd < 0)
        return fd;
    int rc = ah_csv_open_fd(&w, fd, ah_schema_summary_cols, AH_SCHEMA_SUMMARY_COLS);
    if (rc < 0) {
        unlink(tmp);
        return rc;
    }
    for (size_t i = 0; i < ah_metrics_nrows(m); i++) {
        const struct ah_metrics_row *r = ah_metrics_row(m, i);
        mark_affected(rp, r);
        const double ms[] = {r->outage_ms,       r->switch_ms,       r->break_ms_p50,
                             r->break_ms_max,    r->reconnect_ms,    r->detect_ms,
                             r->rtt_ms_p50,      r->rtt_ms_p99,      r->rtt_ms_max,
                             r->base_rtt_ms_p50, r->base_rtt_ms_p99, r->base_rtt_ms_max};
        char b[sizeof ms / sizeof ms[0]][32];
        for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++)
            rp_ms(b[k], sizeof b[k], ms[k]);
        ah_csv_u64(w, r->event_ts_ns);
        csv_event(w, r);
        ah_csv_str(w, r->node);
        ah_csv_str(w, r->vantage);
        ah_csv_str(w, ah_transport_name(r->transport));
        ah_csv_str(w, ah_service_name(r->service));
        ah_csv_str(w, ah_family_name(r->family));
        ah_csv_str(w, r->before);
        ah_csv_str(w, r->after);
        ah_csv_u64(w, r->probes);
        ah_csv_u64(w, r->lost);
        ah_csv_str(w, b[0]);
        ah_csv_str(w, b[1]);
        ah_csv_u64(w, r->flips);
        if (r->tcp) {
            ah_csv_u64(w, r->conns_at_event);
            ah_csv_u64(w, r->conns_broken);
        } else {
            ah_csv_empty(w);
            ah_csv_empty(w);
        }
        ah_csv_str(w, b[2]);
        ah_csv_str(w, b[3]);
        for (size_t k = 4; k < sizeof ms / sizeof ms[0]; k++)
            ah_csv_str(w, b[k]);
        write_collateral_csv(w, r);
        ah_csv_u64(w, r->ratelimited);
        if ((rc = ah_csv_end_row(w)) < 0)
            break;
    }
    int rc2 = ah_csv_close(w);
    if (rc == 0)
        rc = rc2;
    if (rc < 0) {
        unlink(tmp);
        return rc;
    }
    return ah_file_commit(tmp, dir, "summary.csv");
}

static void json_inputs(FILE *f, const char *key, const struct rp_inputs *in, bool comma)
{
    fprintf(f, "    \"%s\": [", key);
    for (size_t i = 0; i < in->nfiles; i++) {
        const struct rp_file *x = &in->files[i];
        fprintf(f, "%s{\"file\": ", i ? ", " : "");
        ah_json_str(f, x->path);
        fprintf(f, ", \"rows\": %llu, \"skipped\": %llu, \"complete\": %s",
                (unsigned long long)x->rows, (unsigned long long)x->skipped,
                x->broken ? "false" : "true");
        if (x->over_limit) /* only then: the usual output stays as it was */
            fprintf(f, ", \"over_limit\": %llu", (unsigned long long)x->over_limit);
        fprintf(f, "}");
    }
    fprintf(f, "]%s\n", comma ? "," : "");
}

static void json_row_head(FILE *f, const struct ah_metrics_row *r)
{
    fprintf(f, "{\"event_ts_ns\": %llu, \"event\": ", (unsigned long long)r->event_ts_ns);
    ah_json_str(f, r->event);
    fprintf(f, ", \"node\": ");
    ah_json_str(f, r->node);
    fprintf(f, ", \"occurrence\": %u, \"vantage\": ", r->occurrence);
    ah_json_str(f, r->vantage);
    fprintf(f, ", \"transport\": \"%s\", \"service\": \"%s\", \"family\": \"%s\"",
            ah_transport_name(r->transport), ah_service_name(r->service),
            ah_family_name(r->family));
}

static void json_expectations(FILE *f, const struct rp *rp)
{
    fprintf(f, "  \"expectations\": [");
    for (size_t i = 0; i < rp->nverdicts; i++) {
        const struct rp_verdict *v = &rp->verdicts[i];
        fprintf(f, "%s\n    {\"text\": ", i ? "," : "");
        ah_json_str(f, v->text);
        fprintf(f, ", \"line\": %u, \"pass\": %s, \"verdict\": \"%s\", \"measured\": ", v->line,
                v->v.pass ? "true" : "false", expect_verdict_name(&v->v));
        ah_json_str(f, v->v.measured);
        fprintf(f, ", \"where\": ");
        ah_json_str(f, v->v.where);
        /* Why a failure failed, in one sentence from the data (the page's). */
        fprintf(f, ", \"why\": ");
        if (v->why[0])
            ah_json_str(f, v->why);
        else
            fputs("null", f);
        fprintf(f, "}");
    }
    fprintf(f, "%s],\n", rp->nverdicts ? "\n  " : "");
}

/* The resolution of the time figures, per group (run rows). */
static void json_resolution(FILE *f, const struct ah_metrics *m)
{
    fprintf(f, "  \"resolution\": [");
    bool first = true;
    for (size_t i = 0; i < ah_metrics_nrows(m); i++) {
        const struct ah_metrics_row *r = ah_metrics_row(m, i);
        if (strcmp(r->event, ah_schema_event_name(AH_EVENT_RUN)) != 0)
            continue;
        fprintf(f, "%s\n    {\"vantage\": ", first ? "" : ",");
        ah_json_str(f, r->vantage);
        fprintf(f,
                ", \"transport\": \"%s\", \"service\": \"%s\", \"family\": \"%s\", "
                "\"resolution_ms\": ",
                ah_transport_name(r->transport), ah_service_name(r->service),
                ah_family_name(r->family));
        json_num(f, r->resolution_ms);
        fprintf(f, "}");
        first = false;
    }
    fprintf(f, "%s],\n", first ? "" : "\n  ");
}

static void json_rows(FILE *f, const struct ah_metrics *m)
{
    fprintf(f, "  \"rows\": [");
    for (size_t i = 0; i < ah_metrics_nrows(m); i++) {
        const struct ah_metrics_row *r = ah_metrics_row(m, i);
        fprintf(f, "%s\n    ", i ? "," : "");
        json_row_head(f, r);
        fprintf(f, ", \"before\": ");
        ah_json_str(f, r->before);
        fprintf(f, ", \"after\": ");
        ah_json_str(f, r->after);
        fprintf(f, ", \"probes\": %llu, \"lost\": %llu, \"outage_ms\": ",
                (unsigned long long)r->probes, (unsigned long long)r->lost);
        json_num(f, r->outage_ms);
        json_member_num(f, "switch_ms", r->switch_ms);
        fprintf(f, ", \"flips\": %llu", (unsigned long long)r->flips);
        if (r->tcp)
            fprintf(f, ", \"conns_at_event\": %llu, \"conns_broken\": %llu",
                    (unsigned long long)r->conns_at_event, (unsigned long long)r->conns_broken);
        else
            fprintf(f, ", \"conns_at_event\": null, \"conns_broken\": null");
        json_member_num(f, "break_ms_p50", r->break_ms_p50);
        json_member_num(f, "break_ms_max", r->break_ms_max);
        json_member_num(f, "reconnect_ms", r->reconnect_ms);
        json_member_num(f, "detect_ms", r->detect_ms);
        json_member_num(f, "rtt_ms_p50", r->rtt_ms_p50);
        json_member_num(f, "rtt_ms_p99", r->rtt_ms_p99);
        json_member_num(f, "rtt_ms_max", r->rtt_ms_max);
        json_member_num(f, "base_rtt_ms_p50", r->base_rtt_ms_p50);
        json_member_num(f, "base_rtt_ms_p99", r->base_rtt_ms_p99);
        json_member_num(f, "base_rtt_ms_max", r->base_rtt_ms_max);
        json_member_count(f, r, "flows_moved_collateral");
        json_member_count(f, r, "conns_broken_collateral");
        json_member_count(f, r, "ratelimited");
        json_member_num(f, "resolution_ms", r->resolution_ms);
        fprintf(f, "}");
    }
    fprintf(f, "%s],\n", ah_metrics_nrows(m) ? "\n  " : "");
}

/* Ground truth: the kernel's route change at each vantage's router and the
 * delay from it to the first answer by the node it routes to. */
static void json_ground_truth(FILE *f, const struct ah_metrics *m)
{
    fprintf(f, "  \"ground_truth\": [");
    bool first = true;
    for (size_t i = 0; i < ah_metrics_nrows(m); i++) {
        const struct ah_metrics_row *r = ah_metrics_row(m, i);
        if (!r->route_ts_ns)
            continue;
        fprintf(f, "%s\n    ", first ? "" : ",");
        json_row_head(f, r);
        fprintf(f, ", \"route_ts_ns\": %llu, \"route_ms\": ", (unsigned long long)r->route_ts_ns);
        json_num(f, r->route_ms);
        fprintf(f, ", \"nexthop\": ");
        ah_json_str(f, r->route_nexthop);
        json_member_num(f, "first_answer_ms", r->gt_answer_ms);
        json_member_num(f, "switch_ms", r->switch_ms);
        json_member_num(f, "resolution_ms", r->resolution_ms);
        fprintf(f, "}");
        first = false;
    }
    fprintf(f, "%s],\n", first ? "" : "\n  ");
}

/* The vantages' clocks: offset (vantage - controller) and uncertainty, and
 * where they came from. */
static void json_clocks(FILE *f, const struct rp *rp)
{
    fprintf(f, "  \"clocks\": [");
    for (size_t i = 0; i < rp->nclocked; i++) {
        const struct rp_name_state *st = rp_name_state(rp->clocked[i]);
        fprintf(f, "%s\n    {\"vantage\": ", i ? "," : "");
        ah_json_str(f, rp->clocked[i]);
        json_member_num(f, "clock_offset_ms", (double)st->clock_offset_ns / AH_NS_PER_MS);
        json_member_num(f, "clock_uncertainty_ms", (double)st->clock_uncertainty_ns / AH_NS_PER_MS);
        fprintf(f, ", \"source\": \"%s\"}",
                st->clock == RP_CLOCK_OPTION ? "--clock-offset" : "run.json");
    }
    fprintf(f, "%s],\n", rp->nclocked ? "\n  " : "");
}

int rp_write_summary_json(const struct rp *rp, const struct ah_metrics *m, FILE *f)
{
    fprintf(f, "{\n  \"lab\": ");
    ah_json_str(f, rp->name);
    fprintf(f, ",\n  \"generator\": \"anycast-lab %s\",\n", AH_VERSION);
    fprintf(f, "  \"start_ns\": %llu,\n  \"end_ns\": %llu,\n", (unsigned long long)rp->start,
            (unsigned long long)rp->end);
    fprintf(f, "  \"inputs\": {\n");
    json_inputs(f, "probes", &rp->probes_in, true);
    json_inputs(f, "connections", &rp->conns_in, true);
    json_inputs(f, "events", &rp->events_in, true);
    fprintf(f, "    \"late_rows\": %llu,\n    \"merged_from_parts\": %s\n  },\n",
            (unsigned long long)rp->late, rp->merged_parts ? "true" : "false");
    fprintf(f, "  \"passed\": %s,\n  \"expectations_failed\": %zu,\n",
            rp->failed || rp->not_measured ? "false" : "true", rp->failed);
    fprintf(f, "  \"expectations_not_measured\": %zu,\n", rp->not_measured);
    json_expectations(f, rp);
    json_resolution(f, m);
    json_clocks(f, rp);
    json_rows(f, m);
    json_ground_truth(f, m);
    fprintf(f, "  \"timeline\": {\"vantages_shown\": %zu, \"vantages_grouped\": %zu}\n}\n",
            rp->vantages_own, rp->vantages_others);
    return ferror(f) ? -EIO : 0;
}
