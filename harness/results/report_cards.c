/* The event cards at the top of report.html: per drill event, what was done
 * (with its arguments), when, how late it was acknowledged, and its cost per
 * affected vantage x transport, the unaffected vantages folded into one
 * line (docs/report.md, "Event cards"). */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ah/clock.h"
#include "ah/json.h"
#include "report_int.h"

#define CARDS_MAX       200 /* cards on the page; the summary table and CSVs have every event */
#define CARD_ROWS_MAX   32  /* affected rows listed per card; the rest counted */
#define CARD_NAMES_MAX  64  /* unaffected vantages named per card; the rest counted */
#define CARD_NAMES_OPEN 8   /* more than this: the names behind a <details> */

static bool rtt_moved(double now, double base)
{
    if (isnan(now) || isnan(base))
        return false;
    double margin = base * RP_CARD_RTT_MARGIN_FRAC;
    if (margin < RP_CARD_RTT_MARGIN_MS)
        margin = RP_CARD_RTT_MARGIN_MS;
    return fabs(now - base) > margin;
}

enum rp_card_class rp_card_classify(const struct ah_metrics_row *r)
{
    if (r->probes == 0)
        return RP_CARD_NO_DATA;
    bool moved = r->before[0] && r->after[0] && strcmp(r->before, r->after) != 0;
    if (r->lost || !isnan(r->switch_ms) || r->flips || moved || (r->tcp && r->conns_broken) ||
        rtt_moved(r->rtt_ms_p50, r->base_rtt_ms_p50))
        return RP_CARD_AFFECTED;
    return RP_CARD_UNAFFECTED;
}

/* The unsigned number after prefix at the start of s into *a (and, with b,
 * "A/B" into both). */
static bool detail_num(const char *s, const char *prefix, unsigned *a, unsigned *b)
{
    size_t n = strlen(prefix);
    if (!s || strncmp(s, prefix, n) != 0)
        return false;
    char *end;
    unsigned long x = strtoul(s + n, &end, 10);
    if (end == s + n || x > UINT32_MAX)
        return false;
    *a = (unsigned)x;
    if (!b)
        return true;
    const char *p = end;
    if (*p != '/')
        return false;
    unsigned long y = strtoul(p + 1, &end, 10);
    if (end == p + 1 || y > UINT32_MAX)
        return false;
    *b = (unsigned)y;
    return true;
}

size_t rp_event_label(char *buf, size_t cap, const char *event, const char *node, unsigned occ,
                      const char *detail)
{
    const char *nd = node && node[0] ? node : "";
    unsigned a, b;
    int n;
    if (detail_num(detail, "flap ", &a, &b))
        n = snprintf(buf, cap, "flap%s%s %u/%u (%s)", nd[0] ? " " : "", nd, a, b, event);
    else if (strcmp(event, "delay") == 0 && detail_num(detail, "delay ", &a, NULL))
        n = snprintf(buf, cap, "delay%s%s %ums", nd[0] ? " " : "", nd, a);
    else if (occ > 1)
        n = snprintf(buf, cap, "%s%s%s#%u", event, nd[0] ? " " : "", nd, occ);
    else
        n = snprintf(buf, cap, "%s%s%s", event, nd[0] ? " " : "", nd);
    if (n < 0)
        n = 0;
    return (size_t)n < cap ? (size_t)n : cap ? cap - 1 : 0;
}

const struct rp_event *rp_event_of_row(const struct rp *rp, const struct ah_metrics_row *r)
{
    for (size_t i = 0; i < rp->nev; i++) {
        const struct rp_event *e = &rp->ev[i];
        if (e->ts_ns == r->event_ts_ns && e->kind == AH_EV_DRILL &&
            strcmp(e->event, r->event) == 0 && strcmp(e->node, r->node) == 0)
            return e;
    }
    return NULL;
}

/* The drill step of run.json that this row's event acknowledged, or NULL. */
static const json_t *drill_step(const struct rp *rp, const struct ah_metrics_row *r)
{
    const json_t *drill =
        json_is_object(rp->run_json) ? json_object_get(rp->run_json, "drill") : NULL;
    size_t i;
    const json_t *s;
    json_array_foreach(drill, i, s)
    {
        const char *ev = ah_json_string(s, "event"), *node = ah_json_string(s, "node");
        if (ah_json_u64(s, "ack_ns", 0) == r->event_ts_ns && ev && node &&
            strcmp(ev, r->event) == 0 && strcmp(node, r->node) == 0)
            return s;
    }
    return NULL;
}

void rp_html_event_ref(FILE *f, const struct ah_metrics_row *r)
{
    rp_html_str(f, r->event);
    fprintf(f, " ");
    rp_html_str(f, r->node);
    if (r->occurrence > 1)
        fprintf(f, "#%u", r->occurrence);
}

/* When the event happened and how late it was acknowledged. */
static void card_when(FILE *f, const struct rp *rp, const struct ah_metrics_row *r)
{
    fprintf(f, "<p class=\"when\">at %.3f s", ((double)r->event_ts_ns - (double)rp->start) / 1e9);
    const json_t *s = drill_step(rp, r);
    uint64_t t0 = ah_json_u64(rp->run_json, "drill_start_ns", 0);
    if (s && t0) {
        uint64_t due = t0 + ah_json_u64(s, "at_ns", 0);
        double ack = ((double)r->event_ts_ns - (double)due) / AH_NS_PER_MS;
        fprintf(f, ", acknowledged %.3f ms after it was due (started %.3f ms late%s)", ack,
                (double)ah_json_u64(s, "late_ns", 0) / AH_NS_PER_MS,
                ah_json_true(s, "late") ? ", over the tolerance" : "");
        if (!ah_json_true(s, "ok"))
            fprintf(f, "; <span class=\"bad\">the action failed</span>");
    } else {
        fprintf(f, " (when it was acknowledged; no run.json step says when it was due)");
    }
    fprintf(f, "; in expectations <code>");
    rp_html_event_ref(f, r);
    fprintf(f, "</code></p>\n");
}

static void cost_ms(FILE *f, double v)
{
    char b[32];
    rp_ms(b, sizeof b, v);
    fprintf(f, "<td class=\"n\">%s</td>", b);
}

static const char cost_head[] =
    "<table class=\"cost\"><tr><th>vantage</th><th>transport</th><th>lost</th>"
    "<th>outage ms</th><th>answered by</th><th>switch ms</th><th>RTT p50 ms base &rarr; "
    "now</th><th>broken of held</th><th>reconnect ms</th><th>detect ms</th></tr>\n";

/* One affected vantage x transport x service: its cost. */
static void cost_row(FILE *f, const struct ah_metrics_row *r)
{
    char a[32], b[32];
    fprintf(f, "<tr class=\"affected\"><td>");
    rp_html_str(f, r->vantage);
    fprintf(f, "</td><td>%s %s</td><td class=\"n\">%" PRIu64 "/%" PRIu64 "</td>",
            ah_transport_name(r->transport), ah_service_name(r->service), r->lost, r->probes);
    cost_ms(f, r->outage_ms);
    fprintf(f, "<td>");
    rp_html_str(f, r->before[0] ? r->before : "none");
    if (strcmp(r->before, r->after) != 0) {
        fprintf(f, " &rarr; ");
        rp_html_str(f, r->after[0] ? r->after : "none");
    }
    fprintf(f, "</td>");
    cost_ms(f, r->switch_ms);
    rp_ms(a, sizeof a, r->base_rtt_ms_p50);
    rp_ms(b, sizeof b, r->rtt_ms_p50);
    fprintf(f, "<td class=\"n%s\">%s &rarr; %s</td>",
            rtt_moved(r->rtt_ms_p50, r->base_rtt_ms_p50) ? " bad" : "", a[0] ? a : "-",
            b[0] ? b : "-");
    if (r->tcp)
        fprintf(f, "<td class=\"n\">%" PRIu64 "/%" PRIu64 "</td>", r->conns_broken,
                r->conns_at_event);
    else
        fprintf(f, "<td></td>");
    cost_ms(f, r->reconnect_ms);
    cost_ms(f, r->detect_ms);
    fprintf(f, "</tr>\n");
}

/* One card's tally, its vantages classified as their rows stream by. */
struct card {
    size_t rows_shown, rows_more;
    size_t unaffected, nodata;
    const char *names[CARD_NAMES_MAX], *nodata_names[CARD_NAMES_MAX];
    /* The vantage being read: whether any of its rows was affected, and
     * whether all of them had no probe. */
    const char *vantage;
    bool v_affected, v_nodata;
};

static void card_vantage_end(struct card *c)
{
    if (!c->vantage || c->v_affected)
        return;
    if (c->v_nodata) {
        if (c->nodata < CARD_NAMES_MAX)
            c->nodata_names[c->nodata] = c->vantage;
        c->nodata++;
    } else {
        if (c->unaffected < CARD_NAMES_MAX)
            c->names[c->unaffected] = c->vantage;
        c->unaffected++;
    }
}

static void card_row(FILE *f, struct card *c, const struct ah_metrics_row *r)
{
    if (!c->vantage || strcmp(c->vantage, r->vantage) != 0) {
        card_vantage_end(c);
        c->vantage = r->vantage;
        c->v_affected = false;
        c->v_nodata = true;
    }
    enum rp_card_class k = rp_card_classify(r);
    if (k != RP_CARD_NO_DATA)
        c->v_nodata = false;
    if (k != RP_CARD_AFFECTED)
        return;
    c->v_affected = true;
    if (c->rows_shown >= CARD_ROWS_MAX) {
        c->rows_more++;
        return;
    }
    if (c->rows_shown++ == 0)
        fputs(cost_head, f);
    cost_row(f, r);
}

/* A folded line: "N vantages unaffected: a, b, ..." */
static void card_fold(FILE *f, const char *cls, size_t n, const char *const *names,
                      const char *what)
{
    if (!n)
        return;
    /* Many names stay folded until asked for (no script: <details>). */
    bool fold = n > CARD_NAMES_OPEN;
    fprintf(f,
            fold ? "<details class=\"%s\"><summary>%zu vantage%s %s</summary>"
                 : "<p class=\"%s\">%zu vantage%s %s: ",
            cls, n, n == 1 ? "" : "s", what);
    for (size_t i = 0; i < n && i < CARD_NAMES_MAX; i++) {
        fprintf(f, "%s", i ? ", " : "");
        rp_html_str(f, names[i]);
    }
    fprintf(f, "%s%s\n", n > CARD_NAMES_MAX ? ", ..." : "", fold ? "</details>" : "</p>");
}

static void card_end(FILE *f, struct card *c)
{
    card_vantage_end(c);
    if (c->rows_shown)
        fprintf(f, "</table>\n");
    else
        fprintf(f, "<p class=\"nocost\">No cost.</p>\n");
    if (c->rows_more)
        fprintf(f, "<p class=\"meta\">And %zu more affected rows: see the summary table.</p>\n",
                c->rows_more);
    card_fold(f, "unaffected", c->unaffected, c->names, "unaffected");
    card_fold(f, "nodata", c->nodata, c->nodata_names, "without a probe in the window");
    fprintf(f, "</article>\n");
}

static bool same_event(const struct ah_metrics_row *a, const struct ah_metrics_row *b)
{
    return a->event_ts_ns == b->event_ts_ns && a->occurrence == b->occurrence &&
           strcmp(a->event, b->event) == 0 && strcmp(a->node, b->node) == 0;
}

static void card_start(FILE *f, const struct rp *rp, const struct ah_metrics_row *r, size_t n)
{
    char label[RP_EVENT_LABEL_CAP];
    const struct rp_event *e = rp_event_of_row(rp, r);
    rp_event_label(label, sizeof label, r->event, r->node, r->occurrence, e ? e->detail : NULL);
    fprintf(f, "<article class=\"card\" id=\"card-%zu\"><h3>", n);
    rp_html_str(f, label);
    fprintf(f, "</h3>\n");
    card_when(f, rp, r);
}

void rp_write_cards(const struct rp *rp, const struct ah_metrics *m, FILE *f)
{
    const char *run = ah_schema_event_name(AH_EVENT_RUN);
    size_t nrows = ah_metrics_nrows(m), ncards = 0, more = 0, per_event = 0;
    fprintf(f, "<section id=\"events\"><h2>Events and their cost</h2>\n<p class=\"meta\">One "
               "card per drill event. A vantage is affected when it lost a probe, another node "
               "answered, a flow flipped, a connection broke, or its RTT median moved by more "
               "than 1 ms and 25 %% from the second before the event; the others are folded "
               "into one line (docs/report.md, \"Event cards\").</p>\n");
    struct card c;
    bool open = false; /* a card is open */
    struct ah_metrics_row key = {0};
    for (size_t i = 0; i < nrows; i++) {
        const struct ah_metrics_row *r = ah_metrics_row(m, i);
        if (strcmp(r->event, run) == 0)
            continue;
        if (!open || !same_event(&key, r)) {
            if (open)
                card_end(f, &c);
            open = false;
            if (ncards >= CARDS_MAX) {
                /* Every event has one row per group: the rest is counted,
                 * not read (reading a row computes it). */
                more = per_event ? (nrows - i + per_event - 1) / per_event : 0;
                break;
            }
            memset(&c, 0, sizeof c);
            key = *r;
            open = true;
            card_start(f, rp, r, ++ncards);
        }
        card_row(f, &c, r);
        if (ncards == 1)
            per_event++;
    }
    if (open)
        card_end(f, &c);
    if (!ncards)
        fprintf(f, "<p class=\"meta\">No drill event in this run.</p>\n");
    if (more)
        fprintf(f,
                "<p class=\"meta\" id=\"cards-more\">The first %d events have a card; %zu "
                "more are in the summary table and summary.csv.</p>\n",
                CARDS_MAX, more);
    fprintf(f, "</section>\n");
}

/* The occurrence of a drill event: the n-th with its word and node (the
 * names are interned, so equal names are equal pointers). */
static unsigned occurrence(const struct rp *rp, size_t i)
{
    unsigned n = 1;
    for (size_t k = 0; k < i; k++)
        n += rp->ev[k].kind == AH_EV_DRILL && rp->ev[k].event == rp->ev[i].event &&
             rp->ev[k].node == rp->ev[i].node;
    return n;
}

void rp_write_plot_events(const struct rp *rp, FILE *f)
{
    size_t n = 0, more = 0;
    for (size_t i = 0; i < rp->nev; i++) {
        const struct rp_event *e = &rp->ev[i];
        if (!e->plot_no) {
            more += e->kind == AH_EV_DRILL;
            continue;
        }
        char label[RP_EVENT_LABEL_CAP];
        rp_event_label(label, sizeof label, e->event, e->node, occurrence(rp, i), e->detail);
        fprintf(f, "%s<li value=\"%u\">", n++ ? "" : "<ol id=\"plot-events\" class=\"meta\">",
                e->plot_no);
        rp_html_str(f, label);
        fprintf(f, " <span class=\"at\">at %.3f s</span></li>", rp_plot_sec(rp, e->ts_ns));
    }
    if (n)
        fprintf(f, "</ol>\n");
    if (n && more)
        fprintf(f,
                "<p class=\"meta\">%zu more drill events are drawn unnumbered or share a "
                "pixel column with another; the events table has them all.</p>\n",
                more);
}
