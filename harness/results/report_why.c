/* Why an expectation failed, in one sentence made from the data: the
 * deciding summary row (lost probes, who answered, connections), the route
 * the vantage's router held (events.csv route rows), or, when no row
 * matched, what the data lacks (docs/report.md, "Why a FAIL"). */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "report_int.h"

/* Appends to buf as snprintf does, never past cap. */
static void add(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    if (*len + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len = *len + (size_t)n < cap ? *len + (size_t)n : cap - 1;
}

static const char *tr_word(int tr)
{
    return tr >= 0 ? ah_transport_name((enum ah_transport)tr) : "";
}

/* No summary row matched e: what the data lacks. */
static void why_nomatch(char *buf, size_t cap, size_t *len, const struct expect *e,
                        const struct rp_why_facts *w)
{
    add(buf, cap, len, "no rows matched: ");
    if (!e->at.run && !w->event_seen) {
        add(buf, cap, len, "no event %s %s", e->at.verb, e->at.node);
        if (e->at.occ > 1)
            add(buf, cap, len, "#%u", e->at.occ);
        add(buf, cap, len, " in events.csv");
    } else if (strcmp(e->vantage, "*") != 0 && !w->vantage_seen) {
        add(buf, cap, len, "no probes from %s", e->vantage);
    } else if (e->transport >= 0 && !w->transport_seen) {
        add(buf, cap, len, "no %s probes from %s", tr_word(e->transport),
            strcmp(e->vantage, "*") == 0 ? "any vantage" : e->vantage);
    } else if (e->kind == EXPECT_METRIC) {
        add(buf, cap, len, "%s applies to none of the rows (connection figures are TCP's)",
            e->metric);
    } else {
        add(buf, cap, len, "no %s%sprobes of that service", tr_word(e->transport),
            e->transport >= 0 ? " " : "");
    }
}

/* Where the vantage's router pointed: a route change in the window, or the
 * route it still held. */
static void why_route(char *buf, size_t cap, size_t *len, const struct rp_why_facts *w)
{
    const struct ah_metrics_row *r = w->row;
    if (r->route_ts_ns && r->route_nexthop && r->route_nexthop[0])
        add(buf, cap, len, "the route at %s's router moved to %s %.3f ms after the event",
            r->vantage, r->route_nexthop, r->route_ms);
    else if (w->route_now && w->route_now[0])
        add(buf, cap, len, "the route at %s's router still points at %s", r->vantage, w->route_now);
    else
        add(buf, cap, len, "answered by %s at the end of the window",
            r->after[0] ? r->after : "no node");
}

/* A metric that is empty for the row: what its emptiness means. */
static void why_empty(char *buf, size_t cap, size_t *len, const struct expect *e,
                      const struct rp_why_facts *w)
{
    const struct ah_metrics_row *r = w->row;
    const char *m = e->metric;
    if (strcmp(m, "switch_ms") == 0)
        add(buf, cap, len, "no switch: answered by %s before and %s after the event",
            r->before[0] ? r->before : "none", r->after[0] ? r->after : "none");
    else if (strcmp(m, "detect_ms") == 0)
        add(buf, cap, len, "%s",
            w->direct_withdraw ? "the lab moves the route itself, so nothing is detected"
                               : "no route change at the router in the window");
    else if (strcmp(m, "reconnect_ms") == 0)
        add(buf, cap, len,
            "%" PRIu64 " of %" PRIu64 " connections broken, and the prober did "
            "not hold its connections again within the window",
            r->conns_broken, r->conns_at_event);
    else if (strncmp(m, "rtt_", 4) == 0 || strncmp(m, "base_rtt_", 9) == 0)
        add(buf, cap, len, "no ok probe with an RTT in the %s",
            m[0] == 'b' ? "second before the event" : "window");
    else
        add(buf, cap, len, "%s is empty for this row", m);
}

static const char *op_word(enum expect_op op)
{
    static const char *const neg[] = {"not below", "above",        "not above",
                                      "below",     "not equal to", "equal to"};
    return op <= EXPECT_NE ? neg[op] : "?";
}

size_t rp_why_sentence(char *buf, size_t cap, const struct expect *e, const struct rp_why_facts *w)
{
    size_t len = 0;
    if (!cap)
        return 0;
    buf[0] = '\0';
    const struct ah_metrics_row *r = w->row;
    if (!r) {
        why_nomatch(buf, cap, &len, e, w);
        return len;
    }
    bool all_lost = r->probes && r->lost == r->probes;
    if (e->kind == EXPECT_NEVER_ANSWERED_BY) {
        add(buf, cap, &len, "%s answered %" PRIu64 " probe%s in the window", e->node, w->answers,
            w->answers == 1 ? "" : "s");
        return len;
    }
    if (all_lost) {
        add(buf, cap, &len, "%" PRIu64 "/%" PRIu64 " lost: ", r->lost, r->probes);
        why_route(buf, cap, &len, w);
        return len;
    }
    if (e->kind == EXPECT_AFTER_ANSWERED_BY || e->kind == EXPECT_BEFORE_ANSWERED_BY) {
        const char *got = e->kind == EXPECT_AFTER_ANSWERED_BY ? r->after : r->before;
        add(buf, cap, &len, "answered by %s, not %s", got[0] ? got : "no node", e->node);
        if (e->kind == EXPECT_AFTER_ANSWERED_BY) {
            add(buf, cap, &len, " (%" PRIu64 "/%" PRIu64 " lost; ", r->lost, r->probes);
            why_route(buf, cap, &len, w);
            add(buf, cap, &len, ")");
        }
        return len;
    }
    double x;
    if (ah_metrics_field(r, e->metric, &x) != 1) {
        why_empty(buf, cap, &len, e, w);
        return len;
    }
    char xs[32];
    rp_ms(xs, sizeof xs, x);
    add(buf, cap, &len, "%s %s is %s %g%s", e->metric, xs, op_word(e->op), e->value,
        e->relative ? " x the baseline" : "");
    add(buf, cap, &len, ": %" PRIu64 "/%" PRIu64 " lost, answered by %s", r->lost, r->probes,
        r->before[0] ? r->before : "none");
    if (strcmp(r->before, r->after) != 0)
        add(buf, cap, &len, " then %s", r->after[0] ? r->after : "none");
    if (r->tcp && r->conns_broken)
        add(buf, cap, &len, ", %" PRIu64 " of %" PRIu64 " connections broken", r->conns_broken,
            r->conns_at_event);
    return len;
}

/* The router named by a route row's detail ("[initial ]router=R nexthop=X"). */
static bool route_of(const struct rp_event *ev, const char *vantage)
{
    const char *p = ev->detail ? strstr(ev->detail, "router=") : NULL;
    if (!p)
        return false;
    p += 7;
    size_t n = strlen(vantage);
    return strncmp(p, vantage, n) == 0 && (p[n] == ' ' || p[n] == '\0');
}

void rp_why_facts(const struct rp *rp, const struct ah_metrics *m, const struct expect *e,
                  const struct expect_verdict *v, struct rp_why_facts *w)
{
    memset(w, 0, sizeof *w);
    w->direct_withdraw =
        rp->lab && rp->lab->kind == LAB_KIND_LAB && rp->lab->routing != LAB_ROUTING_BGP;
    size_t n = ah_metrics_nrows(m);
    if (v->row < n) {
        w->row = ah_metrics_row(m, v->row);
        if (e->kind == EXPECT_NEVER_ANSWERED_BY)
            w->answers = ah_metrics_row_answers(m, w->row, e->node);
        /* The last route row of the vantage's router at or before the
         * event: where the router still pointed. */
        for (size_t i = 0; i < rp->nev; i++) {
            const struct rp_event *ev = &rp->ev[i];
            if (ev->kind == AH_EV_ROUTE && ev->ts_ns <= w->row->event_ts_ns &&
                route_of(ev, w->row->vantage))
                w->route_now = ev->node;
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct ah_metrics_row *r = ah_metrics_row(m, i);
        if (e->at.run || (strcmp(r->event, e->at.verb) == 0 && strcmp(r->node, e->at.node) == 0 &&
                          r->occurrence == (e->at.occ ? e->at.occ : 1)))
            w->event_seen = true;
        if (strcmp(e->vantage, "*") == 0 || strcmp(e->vantage, r->vantage) == 0) {
            w->vantage_seen = true;
            if (e->transport < 0 || (int)r->transport == e->transport)
                w->transport_seen = true;
        }
    }
}
