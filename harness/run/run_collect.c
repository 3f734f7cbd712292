/* The end of a run: per-vantage probe files merged into probes.csv and
 * connections.csv, events.csv closed in time order, run.json written, and
 * the per-event table printed. */
#include "run_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ah/addr.h"
#include "ah/clock.h"
#include "ah/dur.h"
#include "ah/json.h"
#include "ah/log.h"
#include <sys/utsname.h>
#include <time.h>

#include "harness/sys/rootless.h"
#include "deploy.h"

/* ---- reporting ---- */

/* The first line a program prints for flag, run directly (no shell) with
 * default signal handling and reaped before we go on; a program that hangs
 * is killed after two seconds. */
static void version_of(const char *prog, const char *flag, char *out, size_t len)
{
    char *argv[] = {(char *)prog, (char *)flag, NULL};
    if (proc_capture(argv, out, len, 2 * AH_NS_PER_S) <= 0)
        snprintf(out, len, "unknown");
}

/* One table line, without trailing blanks when the detail is empty. */
static void table_line(const char *ev, const char *at, const char *node, const char *when,
                       const char *lag, const char *detail)
{
    char line[512];
    int n = snprintf(line, sizeof line, "%-10s %9s  %-10s %-26s %10s  %s", ev, at, node, when, lag,
                     detail);
    if (n < 0)
        return;
    size_t len = strlen(line);
    while (len > 0 && line[len - 1] == ' ')
        line[--len] = '\0';
    puts(line);
}

void run_print_table(struct run *r)
{
    if (ah_log_quiet())
        return;
    if (r->drill.n > 0)
        table_line("event", "at", "node", "acknowledged (UTC)", "lag", "detail");
    for (size_t i = 0; i < r->drill.n; i++) {
        const struct drill_step *s = &r->drill.steps[i];
        char at[32], when[48] = "-", lag[32] = "-";
        snprintf(at, sizeof at, "%.3fs", (double)s->at_ns / 1e9);
        if (s->done) {
            time_t sec = (time_t)(s->ack_ns / AH_NS_PER_S);
            struct tm tm;
            gmtime_r(&sec, &tm);
            char hms[32];
            strftime(hms, sizeof hms, "%Y-%m-%d %H:%M:%S", &tm);
            snprintf(when, sizeof when, "%s.%06llu", hms,
                     (unsigned long long)(s->ack_ns % AH_NS_PER_S / 1000));
            double l = ((double)s->ack_ns - (double)(r->t0_real + s->at_ns)) / 1e6;
            snprintf(lag, sizeof lag, "%+.3fms", l);
        }
        table_line(ah_schema_verb_name(s->verb), at, r->lab->nodes[s->node].name, when, lag,
                   s->done ? s->detail : "not executed");
    }
}

/* The query each probe used, from the summary JSON it wrote into its output
 * directory (removed after, so the directory can go too). The file is the
 * probe's own output, but read as untrusted data all the same: bounded,
 * strings only, cut to their slots. */
static void collect_queries(struct run *r)
{
    for (size_t i = 0; i < r->nprobes; i++) {
        struct probe_proc *pp = &r->probes[i];
        char path[PATH_MAX + 16], err[256];
        json_t *j = NULL;

        snprintf(path, sizeof path, "%s/summary.json", pp->outdir);
        if (ah_json_load_file(path, 1 << 20, &j, err, sizeof err) == 0) {
            const char *q = json_string_value(json_object_get(j, "query"));
            const char *why = json_string_value(json_object_get(j, "query_why"));
            const char *target = json_string_value(json_object_get(j, "target"));
            snprintf(pp->query, sizeof pp->query, "%s", q ? q : "");
            snprintf(pp->query_why, sizeof pp->query_why, "%s", why ? why : "");
            snprintf(pp->query_target, sizeof pp->query_target, "%s", target ? target : "");
            json_decref(j);
        }
        unlink(path);
    }
}

void run_collect(struct run *r, int exit_code)
{
    char out[PATH_MAX + 32], in[PATH_MAX + 32];
    long probes = -1, conns = -1;
    unsigned long late = 0;
    const char **inputs = calloc(r->nprobes + 1, sizeof *inputs);
    char(*paths)[PATH_MAX + 32] = calloc(r->nprobes + 1, sizeof *paths);

    collect_queries(r);
    if (inputs && paths) {
        static const char *const kinds[] = {"probes.csv", "connections.csv"};
        for (size_t k = 0; k < 2; k++) {
            for (size_t i = 0; i < r->nprobes; i++) {
                snprintf(paths[i], sizeof paths[i], "%s/%s", r->probes[i].outdir, kinds[k]);
                inputs[i] = paths[i];
            }
            snprintf(out, sizeof out, "%s/%s", r->resdir, kinds[k]);
            /* Probe rows are written when the probe ends, at most a timeout
             * after they were sent; connection rows when the connection
             * ends, which can be the end of the run. */
            uint64_t window = k == 0 ? 30 * AH_NS_PER_S : UINT64_MAX;
            /* probes.csv in ts_ns order, connections.csv in opened_ns order. */
            long n = results_merge(
                inputs, r->nprobes, out, k == 0 ? AH_PROBES_TS_NS : AH_CONNS_OPENED_NS, window,
                k == 0 ? ah_schema_probes_cols : ah_schema_connections_cols,
                k == 0 ? AH_SCHEMA_PROBES_COLS : AH_SCHEMA_CONNECTIONS_COLS, &late);
            if (n < 0)
                ah_log_error("%s: merge failed: %s (per-vantage files kept)", out, strerror(-n));
            else if (late > 0)
                ah_log_warn("%s: %lu rows were more than the merge window out of order", out, late);
            if (k == 0)
                probes = n;
            else
                conns = n;
        }
        if (probes >= 0 && conns >= 0) {
            for (size_t i = 0; i < r->nprobes; i++) {
                for (size_t k = 0; k < 2; k++) {
                    snprintf(in, sizeof in, "%s/%s", r->probes[i].outdir, kinds[k]);
                    unlink(in);
                }
                rmdir(r->probes[i].outdir); /* kept if the probe left other files */
            }
        }
    }
    free(inputs);
    free(paths);

    r->probes_rows = probes;
    r->connections_rows = conns;
    r->events_rows = events_count(r->ev);
    events_close(r->ev);
    r->ev = NULL;
    run_write_info(r, exit_code);
}

/* Programs whose version run.json records: anycast-lab itself, then every
 * program the run used. */
#define RUN_VERSIONS_MAX 8
struct run_versions {
    char vals[RUN_VERSIONS_MAX][256];
    const char *keys[RUN_VERSIONS_MAX], *vals_p[RUN_VERSIONS_MAX];
    size_t n;
};

static void versions_of_run(const struct run *r, struct run_versions *v)
{
    /* The packaged servers are looked up on $PATH too ("1"), and recorded
     * only when a node runs them (the enum lab_responder in the fourth). */
    static const struct {
        const char *prog, *arg, *path;
        enum lab_responder resp;
    } progs[] = {{"anycast-responder", "--version", "0", LAB_RESPONDER_BUILTIN},
                 {"anycast-probe", "--version", "0", LAB_RESPONDER_BUILTIN},
                 {"nsd", "-v", "1", LAB_RESPONDER_NSD},
                 {"knotd", "--version", "1", LAB_RESPONDER_KNOT},
                 {"named", "-v", "1", LAB_RESPONDER_BIND},
                 {"unbound", "-V", "1", LAB_RESPONDER_UNBOUND},
                 {"pdns_server", "--version", "1", LAB_RESPONDER_PDNS}};
    enum { NPROGS = sizeof progs / sizeof progs[0] };
    _Static_assert(1 + NPROGS <= RUN_VERSIONS_MAX, "room for every program's version");
    char prog[PATH_MAX];
    v->n = 0;
    v->keys[v->n] = "anycast-lab";
    snprintf(v->vals[v->n], sizeof v->vals[v->n], "anycast-lab %s", AH_VERSION);
    v->n++;
    for (size_t i = 0; i < NPROGS; i++) {
        bool used = i < 2;
        for (size_t n = 0; !used && n < r->lab->nnodes; n++)
            used = r->lab->nodes[n].responder == progs[i].resp;
        if (!used ||
            proc_find_program(progs[i].prog, progs[i].path[0] == '1', prog, sizeof prog) < 0)
            continue;
        version_of(prog, progs[i].arg, v->vals[v->n], sizeof v->vals[v->n]);
        v->keys[v->n++] = progs[i].prog;
    }
    for (size_t i = 0; i < v->n; i++)
        v->vals_p[i] = v->vals[i];
}

/* The query each probe process reported, as run.json's parallel lists. */
struct run_queries {
    const char **vantage, **spec, **why, **target;
    size_t n;
};

static void queries_of_run(const struct run *r, struct run_queries *q)
{
    q->vantage = calloc(r->nprobes + 1, sizeof *q->vantage);
    q->spec = calloc(r->nprobes + 1, sizeof *q->spec);
    q->why = calloc(r->nprobes + 1, sizeof *q->why);
    q->target = calloc(r->nprobes + 1, sizeof *q->target);
    q->n = 0;
    for (size_t i = 0; q->vantage && q->spec && q->why && q->target && i < r->nprobes; i++) {
        if (r->probes[i].query[0] == '\0')
            continue;
        q->vantage[q->n] = r->lab->vantages[r->probes[i].vantage].name;
        q->target[q->n] = r->probes[i].query_target;
        q->spec[q->n] = r->probes[i].query;
        q->why[q->n++] = r->probes[i].query_why;
    }
}

static void queries_free(struct run_queries *q)
{
    free(q->vantage);
    free(q->spec);
    free(q->why);
    free(q->target);
}

static void status_of_run(const struct run *r, char *buf, size_t cap)
{
    if (r->interrupted)
        snprintf(buf, cap, "interrupted by %s", sigabbrev_np(r->interrupted));
    else if (r->failed)
        snprintf(buf, cap, "failed: %s", r->status);
    else
        snprintf(buf, cap, "ok");
}

void run_write_info(struct run *r, int exit_code)
{
    char out[PATH_MAX + 32];
    char pcap_files[RUN_PCAP_VANTAGES_MAX][RUN_PCAP_NAME_MAX];
    const char *pcaps[RUN_PCAP_VANTAGES_MAX];
    size_t npcaps = run_pcap_files(r, pcap_files, RUN_PCAP_VANTAGES_MAX);
    for (size_t i = 0; i < npcaps; i++)
        pcaps[i] = pcap_files[i];
    struct run_versions v;
    versions_of_run(r, &v);
    struct utsname u;
    char kernel[512] = "unknown", status[600];
    if (uname(&u) == 0)
        snprintf(kernel, sizeof kernel, "%s %s %s %s", u.sysname, u.release, u.version, u.machine);
    status_of_run(r, status, sizeof status);
    struct run_queries q;
    queries_of_run(r, &q);
    struct results_run_info ri = {
        .lab_name = r->lab->name,
        .lab_file = r->o->lab_path,
        .run_id = r->runid,
        .routing = lab_routing_name(r->lab->routing),
        .status = status,
        .kernel = kernel,
        .exit_code = exit_code,
        .rootless = rootless_active(),
        .start_ns = r->start_real,
        .drill_start_ns = r->t0_real,
        .end_ns = r->end_real,
        .version_keys = v.keys,
        .version_vals = v.vals_p,
        .nversions = v.n,
        .probes_rows = r->probes_rows,
        .connections_rows = r->connections_rows,
        .events_rows = r->events_rows,
        .lab = r->lab,
        .drill = &r->drill,
        .tolerance_ns = r->lab->tolerance_ns,
        .topology_ns = r->topology_ns,
        .responders_ns = r->responders_ns,
        .probes_ns = r->probes_ns,
        .pcaps = pcaps,
        .npcaps = npcaps,
        .query_vantages = q.vantage,
        .query_specs = q.spec,
        .query_whys = q.why,
        .query_targets = q.target,
        .nqueries = q.n,
    };
    snprintf(out, sizeof out, "%s/run.json", r->resdir);
    int rc = results_write_run_json(out, &ri);
    if (rc < 0)
        ah_log_error("%s: %s", out, strerror(-rc));
    else if (r->dep)
        deploy_write_hosts(r->dep, out);
    queries_free(&q);
}
