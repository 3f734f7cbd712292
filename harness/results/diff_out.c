/* The outputs of `anycast-lab diff`: the table on stdout, the same as one
 * self-contained HTML page (no script, nothing fetched), and JUnit XML with
 * one testcase per compared row. Every name is escaped for where it goes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ah/esc.h"
#include "ah/file.h"
#include "diff.h"
#include "junit.h"
#include "report_int.h"

/* s as a terminal shows it (names may be any bytes). */
static const char *term(char *buf, size_t cap, const char *s)
{
    ah_esc_term(buf, cap, s, strlen(s));
    return buf;
}

static void fmt_val(enum diff_metric m, bool has, double v, char *buf, size_t len)
{
    if (!has)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, diff_metric_ms(m) ? "%.3f" : "%.0f", v);
}

static void fmt_delta(enum diff_metric m, const struct diff_pair *p, char *buf, size_t len)
{
    if (!p->a->has[m] || !p->b->has[m])
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, diff_metric_ms(m) ? "%+.3f" : "%+.0f", p->b->val[m] - p->a->val[m]);
}

/* The row's group: "eu udp dns". */
static void group(const struct diff_row *r, char *buf, size_t len, bool shown)
{
    char v[AH_ESC_TERM_MAX(DIFF_NAME_MAX)];
    snprintf(buf, len, "%s %s %s", shown ? term(v, sizeof v, r->vantage) : r->vantage,
             ah_transport_name(r->transport), ah_service_name(r->service));
}

static void event_shown(const struct diff_row *r, char *buf, size_t len)
{
    char ev[2 * DIFF_NAME_MAX + 16];
    diff_row_event(r, ev, sizeof ev);
    ah_esc_term(buf, len, ev, strlen(ev));
}

static void print_side(FILE *f, const char *which, const char *dir, const char *lab,
                       const char *routing)
{
    char a[AH_ESC_TERM_MAX(512)], b[AH_ESC_TERM_MAX(DIFF_NAME_MAX)],
        c[AH_ESC_TERM_MAX(DIFF_NAME_MAX)];
    fprintf(f, "%s: %s", which, term(a, sizeof a, dir));
    if (lab)
        fprintf(f, " (lab %s, routing %s)", term(b, sizeof b, lab),
                term(c, sizeof c, routing ? routing : "?"));
    fprintf(f, "\n");
}

void diff_print(FILE *f, const struct diff_result *r, const struct diff_names *nm,
                const struct diff_opts *o)
{
    char ev[AH_ESC_TERM_MAX(2 * DIFF_NAME_MAX + 16)], g[AH_ESC_TERM_MAX(DIFF_NAME_MAX) + 16];
    char va[32], vb[32], vd[32];
    print_side(f, "A", nm->a, nm->lab_a, nm->routing_a);
    print_side(f, "B", nm->b, nm->lab_b, nm->routing_b);
    fprintf(f,
            "regression: a time up by more than %g ms and %g %%, a count up by more than %g %% "
            "(at least 1)\n",
            o->threshold_ms, o->threshold_pct, o->threshold_pct);
    fprintf(f, "%-24s %-20s %-15s %12s %12s %12s  %s\n", "EVENT", "VANTAGE TR SVC", "METRIC", "A",
            "B", "DELTA", "MARK");
    for (size_t i = 0; i < r->n; i++) {
        const struct diff_pair *p = &r->pairs[i];
        if (!p->a || !p->b)
            continue;
        event_shown(p->a, ev, sizeof ev);
        group(p->a, g, sizeof g, true);
        for (size_t k = 0; k < DIFF_NMETRICS; k++) {
            if (p->mark[k] == DIFF_NONE)
                continue;
            fmt_val(k, p->a->has[k], p->a->val[k], va, sizeof va);
            fmt_val(k, p->b->has[k], p->b->val[k], vb, sizeof vb);
            fmt_delta(k, p, vd, sizeof vd);
            fprintf(f, "%-24s %-20s %-15s %12s %12s %12s  %s\n", ev, g, diff_metric_name(k), va, vb,
                    vd, diff_mark_name(p->mark[k]));
        }
    }
    for (size_t i = 0; i < r->n; i++) {
        const struct diff_pair *p = &r->pairs[i];
        const struct diff_row *x = p->a ? p->a : p->b;
        if (p->a && p->b)
            continue;
        event_shown(x, ev, sizeof ev);
        group(x, g, sizeof g, true);
        fprintf(f, "only in %s: %s %s\n", p->a ? "A" : "B", ev, g);
    }
    fprintf(f,
            "diff: %zu row%s regressed, %zu improved, %zu not comparable; %zu matched, %zu only "
            "in A, %zu only in B\n",
            r->worse, r->worse == 1 ? "" : "s", r->better, r->not_comparable, r->matched, r->only_a,
            r->only_b);
}

/* ---- HTML ---- */

static const char css[] =
    "body{font-family:sans-serif;margin:1em;max-width:1280px}"
    "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;padding:2px 6px}"
    "td.n{text-align:right;font-family:monospace}"
    "tr.worse td{background:#fdd}tr.better td{background:#dfd}tr.nc td{color:#777}"
    "th{background:#eee;text-align:left}";

static void html_side(FILE *f, const char *which, const char *dir, const char *lab,
                      const char *routing)
{
    fprintf(f, "<li>%s: <code>", which);
    rp_html_str(f, dir);
    fprintf(f, "</code>");
    if (lab) {
        fprintf(f, " (lab ");
        rp_html_str(f, lab);
        fprintf(f, ", routing ");
        rp_html_str(f, routing ? routing : "?");
        fprintf(f, ")");
    }
    fprintf(f, "</li>\n");
}

static void html_row(FILE *f, const struct diff_pair *p, enum diff_metric k)
{
    static const char *const cls[] = {
        [DIFF_NONE] = "",       [DIFF_SAME] = "same",       [DIFF_BETTER] = "better",
        [DIFF_WORSE] = "worse", [DIFF_CHANGED] = "changed", [DIFF_NOT_COMPARABLE] = "nc"};
    char ev[2 * DIFF_NAME_MAX + 16], va[32], vb[32], vd[32];
    diff_row_event(p->a, ev, sizeof ev);
    fmt_val(k, p->a->has[k], p->a->val[k], va, sizeof va);
    fmt_val(k, p->b->has[k], p->b->val[k], vb, sizeof vb);
    fmt_delta(k, p, vd, sizeof vd);
    fprintf(f, "<tr class=\"%s\"><td>", cls[p->mark[k]]);
    rp_html_str(f, ev);
    fprintf(f, "</td><td>");
    rp_html_str(f, p->a->vantage);
    fprintf(f,
            "</td><td>%s</td><td>%s</td><td>%s</td><td class=\"n\">%s</td>"
            "<td class=\"n\">%s</td><td class=\"n\">%s</td><td>%s</td></tr>\n",
            ah_transport_name(p->a->transport), ah_service_name(p->a->service), diff_metric_name(k),
            va, vb, vd, diff_mark_name(p->mark[k]));
}

static void html_only(FILE *f, const struct diff_result *r, bool in_a)
{
    fprintf(f, "<h2>Only in %s</h2>\n<ul id=\"only-%s\">\n", in_a ? "A" : "B", in_a ? "a" : "b");
    for (size_t i = 0; i < r->n; i++) {
        const struct diff_pair *p = &r->pairs[i];
        const struct diff_row *x = in_a ? p->a : p->b;
        if (!x || (p->a && p->b))
            continue;
        char ev[2 * DIFF_NAME_MAX + 16], g[DIFF_NAME_MAX + 16];
        diff_row_event(x, ev, sizeof ev);
        group(x, g, sizeof g, false);
        fprintf(f, "<li>");
        rp_html_str(f, ev);
        fprintf(f, " ");
        rp_html_str(f, g);
        fprintf(f, "</li>\n");
    }
    fprintf(f, "</ul>\n");
}

static void html_page(FILE *f, const struct diff_result *r, const struct diff_names *nm,
                      const struct diff_opts *o)
{
    fprintf(f,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>anycast-lab diff</title><style>%s</style></head><body>\n"
            "<h1>anycast-lab diff</h1>\n<ul>\n",
            css);
    html_side(f, "A", nm->a, nm->lab_a, nm->routing_a);
    html_side(f, "B", nm->b, nm->lab_b, nm->routing_b);
    fprintf(f,
            "</ul>\n<p id=\"counts\">%zu row%s regressed, %zu improved, %zu not comparable; "
            "%zu matched, %zu only in A, %zu only in B. A regression: a time up by more "
            "than %g ms and %g %%, a count up by more than %g %% (at least 1).</p>\n",
            r->worse, r->worse == 1 ? "" : "s", r->better, r->not_comparable, r->matched, r->only_a,
            r->only_b, o->threshold_ms, o->threshold_pct, o->threshold_pct);
    fprintf(f, "<table id=\"diff-table\"><tr><th>event</th><th>vantage</th><th>transport</th>"
               "<th>service</th><th>metric</th><th>A</th><th>B</th><th>delta</th>"
               "<th>mark</th></tr>\n");
    for (size_t i = 0; i < r->n; i++)
        for (size_t k = 0; r->pairs[i].a && r->pairs[i].b && k < DIFF_NMETRICS; k++)
            if (r->pairs[i].mark[k] != DIFF_NONE)
                html_row(f, &r->pairs[i], k);
    fprintf(f, "</table>\n");
    html_only(f, r, true);
    html_only(f, r, false);
    fprintf(f, "</body></html>\n");
}

int diff_write_html(const char *path, const struct diff_result *r, const struct diff_names *nm,
                    const struct diff_opts *o)
{
    if (strcmp(path, "-") == 0) {
        html_page(stdout, r, nm, o);
        return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -EIO;
    }
    FILE *f = ah_file_fopen_w(path);
    if (!f)
        return -errno;
    html_page(f, r, nm, o);
    int rc = ferror(f) ? -EIO : 0;
    if (fclose(f) != 0 && rc == 0)
        rc = -EIO;
    return rc;
}

/* ---- JUnit ---- */

/* The failure message of a pair: each regressed metric "outage_ms 120.000
 * -> 250.000 (+130.000)"; or the skip message when nothing judged compares. */
static void pair_message(const struct diff_pair *p, char *buf, size_t len, enum junit_status *st)
{
    size_t n = 0;
    bool judged = false;
    buf[0] = '\0';
    *st = JUNIT_PASS;
    for (size_t k = 0; k < DIFF_NMETRICS; k++) {
        if (!diff_metric_judged(k))
            continue;
        judged |= p->mark[k] != DIFF_NONE && p->mark[k] != DIFF_NOT_COMPARABLE;
        if (p->mark[k] != DIFF_WORSE || n >= len)
            continue;
        char va[32], vb[32], vd[32];
        fmt_val(k, true, p->a->val[k], va, sizeof va);
        fmt_val(k, true, p->b->val[k], vb, sizeof vb);
        fmt_delta(k, p, vd, sizeof vd);
        int w = snprintf(buf + n, len - n, "%s%s %s -> %s (%s)", n ? "; " : "", diff_metric_name(k),
                         va, vb, vd);
        n += w > 0 ? (size_t)w : 0;
        *st = JUNIT_FAIL;
    }
    if (!judged && *st == JUNIT_PASS) {
        *st = JUNIT_SKIP;
        snprintf(buf, len, "not comparable: a value is empty in one run");
    }
}

int diff_write_junit(const char *path, const struct diff_result *r, const char *suite)
{
    size_t cap = r->matched ? r->matched : 1;
    struct junit_case *c = calloc(cap, sizeof *c);
    char **texts = calloc(2 * cap, sizeof *texts);
    size_t n = 0;
    int rc = -ENOMEM;
    if (!c || !texts)
        goto out;
    for (size_t i = 0; i < r->n; i++) {
        const struct diff_pair *p = &r->pairs[i];
        if (!p->a || !p->b)
            continue;
        char ev[2 * DIFF_NAME_MAX + 16], g[DIFF_NAME_MAX + 16], msg[1024];
        diff_row_event(p->a, ev, sizeof ev);
        group(p->a, g, sizeof g, false);
        pair_message(p, msg, sizeof msg, &c[n].status);
        size_t l = strlen(ev) + strlen(g) + 2;
        texts[2 * n] = malloc(l);
        texts[2 * n + 1] = strdup(msg);
        if (!texts[2 * n] || !texts[2 * n + 1])
            goto out;
        snprintf(texts[2 * n], l, "%s %s", ev, g);
        c[n].name = texts[2 * n];
        c[n].message = c[n].status == JUNIT_PASS ? NULL : texts[2 * n + 1];
        n++;
    }
    rc = junit_write(path, suite, c, n);
out:
    for (size_t i = 0; texts && i < 2 * cap; i++)
        free(texts[i]);
    free(texts);
    free(c);
    return rc;
}
