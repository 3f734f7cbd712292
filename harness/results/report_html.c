/* report.html: one self-contained page (inline CSS, plots inlined as SVG,
 * no scripts, nothing fetched) with the lab's settings, the verdicts, the
 * plots, the summary table, the ground truth check and the inputs read. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ah/clock.h"
#include "atlas.h"
#include "harness/lab/lab.h"
#include "report_int.h"

#define HTML_MAX_ROWS 5000 /* summary rows and events shown; the CSVs have them all */

static const char css[] =
    "body{font-family:system-ui,sans-serif;margin:1.5em 2em;color:#222;max-width:1400px}"
    "h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.6em;"
    "border-bottom:1px solid #ddd}"
    "table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ddd;padding:2px 6px;"
    "text-align:left;white-space:nowrap}th{background:#f4f4f4}td.n{text-align:right}"
    "tr.fail td{background:#fde8e8}tr.pass td:first-child{color:#1a7f37;font-weight:bold}"
    "tr.fail td:first-child{color:#b42318;font-weight:bold}"
    ".meta{color:#666;font-size:.9em}.ok{color:#1a7f37}.bad{color:#b42318}"
    "figure{margin:1em 0}figure svg{max-width:100%;height:auto}"
    ".scroll{overflow-x:auto}"
    ".card{border:1px solid #ddd;border-left:4px solid #555;padding:.3em .8em;margin:.8em 0}"
    ".card h3{margin:.2em 0;font-size:1.05em}.card p{margin:.3em 0}"
    /* A card with no cost takes one line: the events that cost something
     * stand out on the first screen. */
    ".card:not(:has(table)){border-left-color:#ccc;padding:.1em .8em}.card code{white-space:nowrap}"
    ".card:not(:has(table))>*{display:inline;margin-right:.6em}"
    "#plot-events{columns:3 18em;font-size:.85em}.card .unaffected{color:#1a7f37}.card "
    ".nodata{color:#666}td.bad{color:#b42318}"
    "td.why{white-space:normal;min-width:20em}#verdict-table td{white-space:normal}"
    /* Names can be 255 bytes without a space: they break anywhere rather
     * than widen the page. */
    "body{overflow-wrap:anywhere}td,th{white-space:normal}td.n{white-space:nowrap}"
    /* The summary table fits the page by wrapping each row onto as many
     * lines as it needs: every cell has the same width, so the header and
     * the rows wrap at the same columns and stay aligned. */
    "#summary-table{display:block}#summary-table tbody{display:block}"
    "#summary-table tr{display:flex;flex-wrap:wrap;border-bottom:2px solid #bbb}"
    "#summary-table tr:nth-child(even){background:#fafafa}"
    "#summary-table th,#summary-table td{flex:0 0 6.4em;box-sizing:border-box;"
    "white-space:normal;overflow-wrap:anywhere}";

static void utc(uint64_t ns, char *buf, size_t len)
{
    time_t s = (time_t)(ns / 1000000000ULL);
    struct tm tm;
    gmtime_r(&s, &tm);
    char hms[40];
    strftime(hms, sizeof hms, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03lluZ", hms, (unsigned long long)(ns % 1000000000ULL / 1000000));
}

static double rel_s(const struct rp *rp, uint64_t ts)
{
    return ((double)ts - (double)rp->start) / 1e9;
}

/* Copies an SVG file made by gnuplot (in its private directory) into the
 * page from its <svg element on. Every text in it is escaped by gnuplot
 * (&lt; &amp;) and comes from our data files, never raw names. */
static bool inline_svg(FILE *f, const char *plot_dir, const char *name, const char *id)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s.svg", plot_dir, name);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    FILE *s = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!s) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    char buf[65536];
    size_t n;
    bool started = false;
    fprintf(f, "<figure id=\"%s\">\n", id);
    char carry[8] = "";
    while ((n = fread(buf, 1, sizeof buf - 1, s)) > 0) {
        buf[n] = '\0';
        if (!started) {
            /* The prolog and DOCTYPE are dropped: inline SVG needs neither. */
            char tmp[sizeof buf + sizeof carry];
            snprintf(tmp, sizeof tmp, "%s%s", carry, buf);
            char *p = strstr(tmp, "<svg");
            if (!p) {
                size_t l = strlen(tmp), keep = l > 4 ? 4 : l;
                memcpy(carry, tmp + l - keep, keep);
                carry[keep] = '\0';
                continue;
            }
            started = true;
            fputs(p, f);
        } else {
            fwrite(buf, 1, n, f);
        }
    }
    fclose(s);
    fprintf(f,
            "</figure>\n<p class=\"meta\">Files: <a href=\"%s.svg\">%s.svg</a>, "
            "<a href=\"%s.png\">%s.png</a></p>\n",
            name, name, name, name);
    return started;
}

/* RTT over time and its distribution, per vantage x transport. */
static void rtt_plots(FILE *f, const struct rp *rp)
{
    if (!rp->have_rtt)
        return;
    fprintf(f, "<h3>RTT</h3>\n");
    inline_svg(f, rp->plot_dir, "rtt", "rtt-plot");
    inline_svg(f, rp->plot_dir, "rtt-cdf", "rtt-cdf-plot");
}

/* " (host)" of a deployment host. */
static void host_of(FILE *f, const struct lab *lab, const struct lab_host *h)
{
    if (lab->kind != LAB_KIND_DEPLOYMENT || !h->dest)
        return;
    fprintf(f, " (");
    rp_html_str(f, h->dest);
    fprintf(f, ")");
}

/* The nodes row (with their responder or host) and the vantages row (with
 * their preference or host, and each one's routing when they differ). */
static void settings_members(FILE *f, const struct lab *lab)
{
    fprintf(f, "</td></tr>\n<tr><th>nodes</th><td>");
    for (size_t i = 0; i < lab->nnodes; i++) {
        fprintf(f, "%s", i ? ", " : "");
        rp_html_str(f, lab->nodes[i].name);
        host_of(f, lab, &lab->nodes[i].host);
        if (lab->kind == LAB_KIND_LAB && lab->nodes[i].responder != LAB_RESPONDER_BUILTIN)
            fprintf(f, " (%s)", lab_responder_name(lab->nodes[i].responder));
    }
    fprintf(f, "</td></tr>\n<tr><th>vantages</th><td>");
    bool mixed = lab->kind == LAB_KIND_LAB && lab_routing_mixed(lab);
    for (size_t i = 0; i < lab->nvantages; i++) {
        const struct lab_vantage *v = &lab->vantages[i];
        fprintf(f, "%s", i ? "; " : "");
        rp_html_str(f, v->name);
        host_of(f, lab, &v->host);
        /* An ECMP router's prefer list is a set, not an order. */
        bool set = lab_routing_hashes(lab, i);
        if (lab->kind == LAB_KIND_LAB && v->nprefer) {
            fprintf(f, set ? " spreads over " : " prefers ");
            for (size_t k = 0; k < v->nprefer; k++) {
                fprintf(f, "%s", k ? (set ? ", " : " &gt; ") : "");
                rp_html_str(f, lab->nodes[v->prefer[k]].name);
            }
        }
        if (mixed)
            fprintf(f, ", routing %s", lab_routing_name(lab_vantage_routing(lab, i)));
    }
}

/* The routing row: the lab's mode, and each vantage whose router has
 * another (a vantage's routing: key). */
static void settings_routing(FILE *f, const struct lab *lab)
{
    fprintf(f, "</td></tr>\n<tr><th>routing</th><td>%s", lab_routing_name(lab->routing));
    if (!lab_routing_mixed(lab)) {
        fprintf(f, "</td></tr>\n");
        return;
    }
    fprintf(f, " (the lab's); per vantage: ");
    bool first = true;
    for (size_t i = 0; i < lab->nvantages; i++) {
        enum lab_routing r = lab_vantage_routing(lab, i);
        if (r == lab->routing)
            continue;
        fprintf(f, "%s", first ? "" : ", ");
        rp_html_str(f, lab->vantages[i].name);
        fprintf(f, " %s", lab_routing_name(r));
        first = false;
    }
    fprintf(f, "</td></tr>\n");
}

/* The probed row: the anycast addresses probes.families keeps, with their
 * family. */
static void settings_probed(FILE *f, const struct lab *lab)
{
    fprintf(f, "</td></tr>\n<tr><th>probed</th><td>");
    for (size_t i = 0, k = 0; i < lab->nanycast; i++) {
        char a[64];
        if (!lab_probes_address(lab, i) || ah_addr_format(&lab->anycast[i], false, a, sizeof a) < 0)
            continue;
        fprintf(f, "%s%s ", k++ ? ", " : "", ah_family_name(lab_anycast_family(lab, i)));
        rp_html_str(f, a);
    }
}

static void settings(FILE *f, const struct rp *rp)
{
    const struct lab *lab = rp->lab;
    fprintf(f, "<section id=\"settings\"><h2>Lab</h2>\n");
    if (!lab) {
        fprintf(f, "<p class=\"meta\">No lab file: computed from CSV files alone.</p>\n");
    } else {
        fprintf(f, "<table>\n<tr><th>file</th><td>");
        rp_html_str(f, lab->path);
        if (lab->kind == LAB_KIND_DEPLOYMENT)
            fprintf(f, "</td></tr>\n<tr><th>kind</th><td>deployment (real hosts)</td></tr>\n");
        else
            settings_routing(f, lab);
        fprintf(f, "<tr><th>duration</th><td>%.3f s</td></tr>\n", (double)lab->duration_ns / 1e9);
        fprintf(f, "<tr><th>anycast</th><td>");
        for (size_t i = 0; i < lab->nanycast; i++) {
            char a[64];
            if (ah_addr_format(&lab->anycast[i], false, a, sizeof a) < 0)
                snprintf(a, sizeof a, "?");
            fprintf(f, "%s", i ? ", " : "");
            rp_html_str(f, a);
        }
        settings_probed(f, lab);
        settings_members(f, lab);
        fprintf(f, "</td></tr>\n");
        char svc[64];
        if (lab->udp.enabled)
            fprintf(f, "<tr><th>udp probes</th><td>%s, %u/s in total over %u flows</td></tr>\n",
                    lab_services_format(lab->udp.service, svc, sizeof svc), lab->udp.rate,
                    lab->udp.flows);
        if (lab->tcp.enabled)
            fprintf(f,
                    "<tr><th>tcp probes</th><td>%s, %u connections, one probe each per %.0f "
                    "ms</td></tr>\n",
                    lab_services_format(lab->tcp.service, svc, sizeof svc), lab->tcp.connections,
                    (double)lab->tcp.interval_ns / 1e6);
        fprintf(f, "</table>\n");
    }
    fprintf(f, "<h3>Events</h3><table id=\"events-table\"><tr><th>at (s)</th><th>UTC</th>"
               "<th>event</th><th>node</th><th>detail</th></tr>\n");
    for (size_t i = 0; i < rp->nev && i < HTML_MAX_ROWS; i++) {
        const struct rp_event *e = &rp->ev[i];
        char t[48];
        utc(e->ts_ns, t, sizeof t);
        fprintf(f, "<tr><td class=\"n\">%.6f</td><td>%s</td><td>", rel_s(rp, e->ts_ns), t);
        rp_html_str(f, e->event);
        fprintf(f, "</td><td>");
        rp_html_str(f, e->node);
        fprintf(f, "</td><td>");
        rp_html_str(f, e->detail);
        fprintf(f, "</td></tr>\n");
    }
    fprintf(f, "</table>");
    if (rp->nev > HTML_MAX_ROWS)
        fprintf(f, "<p class=\"meta\">The first %d of %zu events; events.csv has all.</p>",
                HTML_MAX_ROWS, rp->nev);
    fprintf(f, "</section>\n");
}

/* A failure's reason, in one sentence from the data (report_why.c). */
static void verdict_why(FILE *f, const struct rp_verdict *v)
{
    fprintf(f, "<td class=\"why\">");
    rp_html_str(f, v->why);
    fprintf(f, "</td>");
}

static void verdicts(FILE *f, const struct rp *rp)
{
    fprintf(f, "<section id=\"verdicts\"><h2>Expectations</h2>\n");
    if (!rp->nverdicts) {
        fprintf(f, "<p class=\"meta\">None stated.</p></section>\n");
        return;
    }
    fprintf(f, "<p class=\"%s\">%zu passed, %zu failed",
            rp->failed || rp->not_measured ? "bad" : "ok",
            rp->nverdicts - rp->failed - rp->not_measured, rp->failed);
    if (rp->not_measured)
        fprintf(f, ", %zu not measured (a drill step started late)", rp->not_measured);
    fprintf(f, "</p>\n");
    fprintf(f, "<table id=\"verdict-table\"><tr><th>verdict</th><th>line</th>"
               "<th>expectation</th><th>measured</th><th>where</th><th>why</th></tr>\n");
    for (size_t i = 0; i < rp->nverdicts; i++) {
        const struct rp_verdict *v = &rp->verdicts[i];
        fprintf(f, "<tr class=\"%s\"><td>%s</td><td class=\"n\">%u</td><td>",
                v->v.pass ? "pass" : "fail",
                v->v.not_measured ? "NOT MEASURED"
                : v->v.pass       ? "PASS"
                                  : "FAIL",
                v->line);
        rp_html_str(f, v->text);
        fprintf(f, "</td><td>");
        rp_html_str(f, v->v.measured);
        fprintf(f, "</td><td>");
        rp_html_str(f, v->v.where);
        fprintf(f, "</td>");
        verdict_why(f, v);
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table></section>\n");
}

static void cell_ms(FILE *f, double v)
{
    char b[32];
    rp_ms(b, sizeof b, v);
    fprintf(f, "<td class=\"n\">%s</td>", b);
}

/* The vantages whose rows were rebased onto the controller's clock, the
 * first HTML_MAX_CLOCKS of them (summary.json lists all). */
#define HTML_MAX_CLOCKS 32
/* A collateral count, shown only where it is not zero: most events have
 * none, and a column of zeros would hide the ones that do. */
static void cell_collateral(FILE *f, const struct ah_metrics_row *r, const char *name)
{
    double v;
    if (ah_metrics_field(r, name, &v) == 1 && v > 0)
        fprintf(f, "<td class=\"n bad\">%.0f</td>", v);
    else
        fprintf(f, "<td></td>");
}

static void clocks(FILE *f, const struct rp *rp)
{
    if (!rp->nclocked)
        return;
    fprintf(f, "<span id=\"clocks\">Clocks moved onto the controller's (docs/report.md, \"Clock "
               "alignment\"): ");
    for (size_t i = 0; i < rp->nclocked && i < HTML_MAX_CLOCKS; i++) {
        const struct rp_name_state *st = rp_name_state(rp->clocked[i]);
        fprintf(f, "%s", i ? "; " : "");
        rp_html_str(f, rp->clocked[i]);
        fprintf(f, " %+.3f ms &plusmn; %.3f (%s)", (double)st->clock_offset_ns / AH_NS_PER_MS,
                (double)st->clock_uncertainty_ns / AH_NS_PER_MS,
                st->clock == RP_CLOCK_OPTION ? "--clock-offset" : "run.json");
    }
    fprintf(f, "%s.</span> ", rp->nclocked > HTML_MAX_CLOCKS ? "; ..." : "");
}

static void summary(FILE *f, const struct rp *rp, const struct ah_metrics *m)
{
    size_t n = ah_metrics_nrows(m);
    fprintf(f, "<section id=\"summary\"><h2>Summary</h2>\n<p class=\"meta\">Per event, vantage, "
               "transport, service and address family (docs/formats.md, \"Metrics\"); times in ms, "
               "each with the "
               "resolution of "
               "its group's probe interval plus its vantage's clock uncertainty (res). ");
    clocks(f, rp);
    if (n > HTML_MAX_ROWS)
        fprintf(f, "The first %d of %zu rows; summary.csv has all. ", HTML_MAX_ROWS, n);
    fprintf(f, "</p>\n<div class=\"scroll\"><table id=\"summary-table\"><tr><th>at (s)</th>");
    for (size_t i = 1; i < AH_SCHEMA_SUMMARY_COLS; i++)
        fprintf(f, "<th>%s</th>", ah_schema_summary_cols[i]);
    fprintf(f, "<th>res</th></tr>\n");
    for (size_t i = 0; i < n && i < HTML_MAX_ROWS; i++) {
        const struct ah_metrics_row *r = ah_metrics_row(m, i);
        fprintf(f, "<tr><td class=\"n\">%.3f</td><td>", rel_s(rp, r->event_ts_ns));
        rp_html_str(f, r->event);
        if (r->occurrence > 1)
            fprintf(f, " #%u", r->occurrence);
        fprintf(f, "</td><td>");
        rp_html_str(f, r->node);
        fprintf(f, "</td><td>");
        rp_html_str(f, r->vantage);
        fprintf(f, "</td><td>%s</td><td>%s</td><td>%s</td><td>", ah_transport_name(r->transport),
                ah_service_name(r->service), ah_family_name(r->family));
        rp_html_str(f, r->before);
        fprintf(f, "</td><td>");
        rp_html_str(f, r->after);
        fprintf(f, "</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td>",
                (unsigned long long)r->probes, (unsigned long long)r->lost);
        cell_ms(f, r->outage_ms);
        cell_ms(f, r->switch_ms);
        fprintf(f, "<td class=\"n\">%llu</td>", (unsigned long long)r->flips);
        if (r->tcp)
            fprintf(f, "<td class=\"n\">%llu</td><td class=\"n\">%llu</td>",
                    (unsigned long long)r->conns_at_event, (unsigned long long)r->conns_broken);
        else
            fprintf(f, "<td></td><td></td>");
        cell_ms(f, r->break_ms_p50);
        cell_ms(f, r->break_ms_max);
        cell_ms(f, r->reconnect_ms);
        cell_ms(f, r->detect_ms);
        cell_ms(f, r->rtt_ms_p50);
        cell_ms(f, r->rtt_ms_p99);
        cell_ms(f, r->rtt_ms_max);
        cell_ms(f, r->base_rtt_ms_p50);
        cell_ms(f, r->base_rtt_ms_p99);
        cell_ms(f, r->base_rtt_ms_max);
        cell_collateral(f, r, "flows_moved_collateral");
        cell_collateral(f, r, "conns_broken_collateral");
        cell_ms(f, r->resolution_ms);
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table></div></section>\n");
}

static void ground_truth(FILE *f, const struct rp *rp, const struct ah_metrics *m)
{
    fprintf(f, "<section id=\"ground-truth\"><h2>Ground truth</h2>\n<p class=\"meta\">The "
               "kernel's route change at each vantage's router after an event (events.csv "
               "<code>route</code> rows), and the delay from it to the first answer by the node "
               "it routes to, beside switch_ms measured from the event.</p>\n");
    fprintf(f, "<table id=\"ground-truth-table\"><tr><th>event</th><th>vantage</th>"
               "<th>transport</th><th>route change (ms after event)</th><th>routes to</th>"
               "<th>first answer (ms after route change)</th><th>switch_ms</th><th>res</th>"
               "</tr>\n");
    size_t shown = 0;
    for (size_t i = 0; i < ah_metrics_nrows(m) && shown < HTML_MAX_ROWS; i++) {
        const struct ah_metrics_row *r = ah_metrics_row(m, i);
        if (!r->route_ts_ns)
            continue;
        shown++;
        fprintf(f, "<tr><td>");
        rp_html_event_ref(f, r);
        fprintf(f, "</td><td>");
        rp_html_str(f, r->vantage);
        fprintf(f, "</td><td>%s %s %s</td>", ah_transport_name(r->transport),
                ah_service_name(r->service), ah_family_name(r->family));
        cell_ms(f, r->route_ms);
        fprintf(f, "<td>");
        rp_html_str(f, r->route_nexthop);
        fprintf(f, "</td>");
        cell_ms(f, r->gt_answer_ms);
        cell_ms(f, r->switch_ms);
        cell_ms(f, r->resolution_ms);
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>%s</section>\n",
            shown ? "" : "<p class=\"meta\">No route changes recorded.</p>");
    (void)rp;
}

/* The packet captures run.json names (run --pcap), linked relative to the
 * results directory. run.json may come from elsewhere: only names of the
 * form pcap/NAME.pcap, NAME a lab name, become links. */
static void captures(FILE *f, const struct rp *rp)
{
    json_t *pcaps = json_is_object(rp->run_json) ? json_object_get(rp->run_json, "pcaps") : NULL;
    size_t i, shown = 0;
    json_t *p;
    json_array_foreach(pcaps, i, p)
    {
        const char *s = json_string_value(p);
        size_t len = s ? strlen(s) : 0;
        char name[LAB_NAME_MAX];
        if (len <= 10 || len - 10 >= sizeof name || strncmp(s, "pcap/", 5) != 0 ||
            strcmp(s + len - 5, ".pcap") != 0)
            continue;
        memcpy(name, s + 5, len - 10);
        name[len - 10] = '\0';
        if (!lab_name_valid(name))
            continue;
        fprintf(f, "%s<a href=\"pcap/%s.pcap\">%s</a>",
                shown++ ? ", " : "<p id=\"pcaps\">Packet captures (pcap, one per vantage): ", name,
                name);
    }
    if (shown)
        fprintf(f, ".</p>\n");
}

static void inputs(FILE *f, const struct rp *rp)
{
    fprintf(f, "<section id=\"inputs\"><h2>Inputs</h2>\n<table><tr><th>file</th><th>rows "
               "used</th><th>rows skipped</th><th>read to the end</th></tr>\n");
    const struct rp_inputs *all[] = {&rp->probes_in, &rp->conns_in, &rp->events_in};
    for (size_t k = 0; k < 3; k++) {
        for (size_t i = 0; i < all[k]->nfiles; i++) {
            const struct rp_file *x = &all[k]->files[i];
            fprintf(f, "<tr><td>");
            rp_html_str(f, x->path);
            fprintf(f, "</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td>%s</td></tr>\n",
                    (unsigned long long)x->rows, (unsigned long long)x->skipped,
                    x->broken ? "no" : "yes");
        }
    }
    fprintf(f, "</table>\n");
    captures(f, rp);
    if (rp->late)
        fprintf(f,
                "<p class=\"bad\">%llu probe rows were further out of order than the "
                "reorder window.</p>\n",
                (unsigned long long)rp->late);
    for (size_t i = 0; i < rp->events_in.nfiles; i++) {
        const struct rp_file *x = &rp->events_in.files[i];
        if (!x->over_limit)
            continue;
        fprintf(f, "<p class=\"bad\" id=\"events-over-limit\">");
        rp_html_str(f, x->path);
        fprintf(f,
                ": %llu rows past the limits were skipped (at most %d windowed events and %d "
                "route and observation rows are taken).</p>\n",
                (unsigned long long)x->over_limit, AH_METRICS_MAX_WINDOWS, RP_EVENTS_OTHER_MAX);
    }
    fprintf(f, "</section>\n");
}

int rp_write_html(const struct rp *rp, const struct ah_metrics *m, FILE *f)
{
    char t0[48], t1[48];
    utc(rp->start, t0, sizeof t0);
    utc(rp->end, t1, sizeof t1);
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
               "<title>anycast-lab report: ");
    rp_html_str(f, rp->name);
    fprintf(f, "</title>\n<style>%s</style></head><body>\n<h1>anycast-lab report: ", css);
    rp_html_str(f, rp->name);
    fprintf(f, "</h1>\n<p class=\"meta\">Run from %s to %s (%.3f s). Made by anycast-lab %s.</p>\n",
            t0, t1, ((double)rp->end - (double)rp->start) / 1e9, AH_VERSION);
    rp_write_cards(rp, m, f);
    verdicts(f, rp);
    fprintf(f, "<section id=\"timeline\"><h2>Timeline</h2>\n");
    if (rp->merged_parts)
        fprintf(f, "<p class=\"bad\" id=\"merged-parts\">The run ended before it merged its "
                   "per-vantage files: the report merged them.</p>\n");
    size_t conn_others =
        rp->nconn_vantages > RP_VANTAGES_SHOWN ? rp->nconn_vantages - RP_VANTAGES_SHOWN : 0;
    size_t others = rp->vantages_others > conn_others ? rp->vantages_others : conn_others;
    if (others)
        fprintf(f,
                "<p class=\"meta\" id=\"grouped\">Grouped: the plots draw %d vantages one by "
                "one (those an event affected first, then in the order of their first probe or "
                "connection) and the other %zu together as \"others\"; the tables below have "
                "every vantage.</p>\n",
                RP_VANTAGES_SHOWN, others);
    if (rp->plot_error[0]) {
        fprintf(f, "<p class=\"bad\">No plot: ");
        rp_html_str(f, rp->plot_error);
        fprintf(f, "</p>\n");
    } else {
        if (!rp->have_timeline || !inline_svg(f, rp->plot_dir, "timeline", "timeline-plot"))
            fprintf(f, "<p class=\"meta\">No probes to plot.</p>\n");
        else
            rp_write_plot_events(rp, f);
        rtt_plots(f, rp);
        if (rp->have_lifelines)
            inline_svg(f, rp->plot_dir, "connections", "connections-plot");
    }
    fprintf(f, "</section>\n");
    summary(f, rp, m);
    atlas_html_groups(f, rp->out_dir, m);
    ground_truth(f, rp, m);
    settings(f, rp);
    inputs(f, rp);
    fprintf(f, "</body></html>\n");
    return ferror(f) ? -EIO : 0;
}
