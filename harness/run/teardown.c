/* Taking labs down from their state files and namespace names alone (see
 * teardown.h): `down`, `clean`, and the sweep of what a killed run left
 * behind. Every process is found by its network namespace, never by a pid
 * or name alone. */
#include "teardown.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/log.h"
#include "harness/sys/netns.h"
#include "harness/topo/topo.h"

#define KILL_WAIT_MS 1000 /* for the processes of a namespace to be gone */
#define CLEAN_RUNS   64   /* runs one clean handles of each kind */

/* ---- killing what runs in namespaces ---- */

struct kill_report {
    teardown_report_fn report;
    void *arg;
    const char *const *names;
};

static void kill_report_line(void *arg, int pid, const char *comm, size_t idx)
{
    struct kill_report *r = arg;
    char what[160];
    snprintf(what, sizeof(what), "process %s (pid %d) in %s", comm, pid, r->names[idx]);
    if (r->report)
        r->report(r->arg, what);
}

/* Kills every process in the named namespaces in one pass over /proc (a lab
 * has hundreds) and waits for them to be gone. A name that is not there is
 * skipped. */
static void kill_in(const char *const *names, size_t n, teardown_report_fn report, void *arg)
{
    struct netns_id *ids = n ? calloc(n, sizeof(*ids)) : NULL;
    const char **idnames = n ? calloc(n, sizeof(*idnames)) : NULL;
    size_t nids = 0;

    for (size_t k = 0; ids && idnames && k < n; k++)
        if (netns_id_of(names[k], &ids[nids]) == 0)
            idnames[nids++] = names[k];
    if (nids) {
        struct kill_report r = {report, arg, idnames};
        netns_kill_procs(ids, nids, KILL_WAIT_MS, kill_report_line, &r);
    }
    free(ids);
    free(idnames);
}

/* ---- the sweep by name prefix ---- */

/* A run whose state names a live owner (not us) is left alone. */
static bool run_owned(const char *run_id)
{
    struct state s;
    bool owned = false;

    memset(&s, 0, sizeof(s));
    if (state_load(run_id, &s) == 0) {
        owned = s.owner > 0 && s.owner != getpid() && state_owner_alive(&s);
        state_free(&s);
    }
    return owned;
}

struct names {
    char **v;
    size_t n, cap;
};

static int names_add(struct names *l, const char *name)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 64;
        char **nv = realloc(l->v, nc * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        l->v = nv;
        l->cap = nc;
    }
    if (!(l->v[l->n] = strdup(name)))
        return -ENOMEM;
    l->n++;
    return 0;
}

static void names_free(struct names *l)
{
    for (size_t k = 0; k < l->n; k++)
        free(l->v[k]);
    free(l->v);
}

/* The namespaces that start with prefix and belong to no run with a live
 * owner. Returns 0 (also when NETNS_RUN_DIR does not exist) or -errno; on
 * -ENOMEM, out holds those found before. */
static int sweep_collect(const char *prefix, struct names *out)
{
    size_t plen = strlen(TOPO_NETNS_PREFIX);
    char last_id[TOPO_RUNID_MAX] = "";
    bool last_owned = false;
    struct dirent *de;
    int err = 0;

    DIR *d = opendir(NETNS_RUN_DIR);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    while (err == 0 && (de = readdir(d))) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
            continue;
        char run_id[TOPO_RUNID_MAX];
        const char *id = de->d_name + plen;
        size_t idlen = strcspn(id, "-");
        if (idlen == 0 || idlen >= sizeof(run_id))
            continue;
        snprintf(run_id, sizeof(run_id), "%.*s", (int)idlen, id);
        /* Namespaces of one run come together in no particular order; ask
         * about each run once. */
        if (strcmp(last_id, run_id) != 0) {
            snprintf(last_id, sizeof(last_id), "%s", run_id);
            last_owned = run_owned(run_id);
        }
        if (!last_owned)
            err = names_add(out, de->d_name);
    }
    closedir(d);
    return err;
}

/* Deletes the namespaces; returns how many went, *err the first failure. */
static int delete_all(const struct names *l, teardown_report_fn report, void *arg, int *err)
{
    int removed = 0;
    int *errs = calloc(l->n ? l->n : 1, sizeof(*errs));

    if (!errs) {
        *err = *err ? *err : -ENOMEM;
        return 0;
    }
    netns_delete_many((const char *const *)l->v, l->n, errs);
    for (size_t k = 0; k < l->n; k++) {
        int e = errs[k];
        if (e < 0) {
            if (!*err)
                *err = e;
            continue;
        }
        removed++;
        if (report) {
            char what[160];
            snprintf(what, sizeof(what), "namespace %s", l->v[k]);
            report(arg, what);
        }
    }
    free(errs);
    return removed;
}

int teardown_sweep(const char *prefix, teardown_report_fn report, void *arg)
{
    struct names l = {0};

    if (!prefix)
        prefix = TOPO_NETNS_PREFIX;
    /* Never wider than the lab prefix: other namespaces are not ours. */
    if (strncmp(prefix, TOPO_NETNS_PREFIX, strlen(TOPO_NETNS_PREFIX)) != 0)
        return -EINVAL;
    int err = sweep_collect(prefix, &l);
    kill_in((const char *const *)l.v, l.n, report, arg);
    int removed = delete_all(&l, report, arg, &err);
    names_free(&l);
    return err < 0 && removed == 0 ? err : removed;
}

/* ---- one lab from its state ---- */

/* The identities of the lab's namespaces that exist, into ids (s->nns
 * entries); returns their count. */
static size_t lab_ids(const struct state *s, struct netns_id *ids)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nns; i++)
        if (netns_id_of(s->ns[i].netns, &ids[n]) == 0)
            n++;
    return n;
}

/* Stops the processes the state records, orderly first: each group gets
 * SIGTERM and together they get a second to finish, then SIGKILL. A
 * recorded pid is signalled only while it runs inside one of the lab's
 * namespaces, so a pid reused by an unrelated process is safe. */
static int stop_recorded(const struct state *s, const struct netns_id *ids, size_t nids,
                         teardown_report_fn report, void *arg)
{
    bool *live = calloc(s->npids + 1, sizeof(*live));
    char what[256];

    if (!live)
        return -ENOMEM;
    for (size_t i = 0; i < s->npids; i++) {
        live[i] = netns_pid_in(s->pids[i].pid, ids, nids, NULL);
        if (live[i])
            kill(-s->pids[i].pid, SIGTERM);
    }
    for (int t = 0; t < 100; t++) {
        bool any = false;
        for (size_t i = 0; i < s->npids; i++)
            any |= live[i] && netns_pid_in(s->pids[i].pid, ids, nids, NULL);
        if (!any)
            break;
        nanosleep(&(struct timespec){0, (long)(10 * AH_NS_PER_MS)}, NULL);
    }
    for (size_t i = 0; i < s->npids; i++) {
        if (!live[i])
            continue;
        if (netns_pid_in(s->pids[i].pid, ids, nids, NULL)) {
            kill(-s->pids[i].pid, SIGKILL);
            kill(s->pids[i].pid, SIGKILL);
        }
        if (report) {
            snprintf(what, sizeof(what), "%s %s (pid %ld)", s->pids[i].what, s->pids[i].name,
                     (long)s->pids[i].pid);
            report(arg, what);
        }
    }
    free(live);
    return 0;
}

int teardown_lab(const struct state *s, teardown_report_fn report, void *arg)
{
    char what[256], prefix[64];
    const char **names = NULL;
    int rc;

    /* Everything below kills and deletes by the names in s: only a state
     * that names this run's own namespaces may do that. */
    if (state_check(s, s->runid, what, sizeof(what)) != NULL) {
        ah_log_error("run %.*s: %s; not taken down", 32, s->runid, what);
        return -EINVAL;
    }
    struct netns_id *ids = calloc(s->nns + 1, sizeof(*ids));
    names = calloc(s->nns + 1, sizeof(*names));
    if (!ids || !names) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = stop_recorded(s, ids, lab_ids(s, ids), report, arg)) < 0)
        goto out;
    for (size_t i = 0; i < s->nns; i++)
        names[i] = s->ns[i].netns;
    kill_in(names, s->nns, report, arg);
    snprintf(prefix, sizeof(prefix), "%s%s-", TOPO_NETNS_PREFIX, s->runid);
    rc = teardown_sweep(prefix, report, arg);
    if (state_remove(s->runid) == 0 && report) {
        snprintf(what, sizeof(what), "state %s/%s", state_base(), s->runid);
        report(arg, what);
    }
out:
    free(ids);
    free(names);
    return rc < 0 ? rc : 0;
}

/* ---- clean ---- */

struct clean_ctx {
    bool all;
    const char *only;
    teardown_report_fn report;
    void *arg;
    int count;
    char keep[CLEAN_RUNS][STATE_ID_MAX]; /* run ids that are alive: never touched */
    size_t nkeep;
};

static void clean_cb(void *arg, const struct state *s)
{
    struct clean_ctx *c = arg;
    if (c->only && strcmp(c->only, s->runid) != 0 && strcmp(c->only, s->name) != 0)
        return;
    bool live = strcmp(s->mode, "up") == 0 ? !c->all : state_owner_alive(s);
    if (live) {
        if (c->nkeep < CLEAN_RUNS)
            snprintf(c->keep[c->nkeep++], STATE_ID_MAX, "%s", s->runid);
        return;
    }
    teardown_lab(s, c->report, c->arg);
    c->count++;
}

static bool listed(const char (*ids)[STATE_ID_MAX], size_t n, const char *runid, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(ids[i]) == len && strncmp(ids[i], runid, len) == 0)
            return true;
    }
    return false;
}

/* The run ids of lab namespaces that no kept run owns (runs killed before
 * they saved a state), at most CLEAN_RUNS, into runs. */
static size_t orphan_runs(const struct clean_ctx *c, char (*runs)[STATE_ID_MAX])
{
    size_t plen = strlen(TOPO_NETNS_PREFIX), n = 0;
    struct dirent *e;
    DIR *d = opendir(NETNS_RUN_DIR);

    if (!d)
        return 0;
    while ((e = readdir(d)) && n < CLEAN_RUNS) {
        if (strncmp(e->d_name, TOPO_NETNS_PREFIX, plen) != 0)
            continue;
        const char *id = e->d_name + plen;
        size_t idlen = strcspn(id, "-");
        if (idlen == 0 || idlen >= STATE_ID_MAX || listed(c->keep, c->nkeep, id, idlen))
            continue;
        if (c->only && (strlen(c->only) != idlen || strncmp(c->only, id, idlen) != 0))
            continue;
        if (!listed((const char(*)[STATE_ID_MAX])runs, n, id, idlen))
            snprintf(runs[n++], STATE_ID_MAX, "%.*s", (int)idlen, id);
    }
    closedir(d);
    return n;
}

int teardown_clean(bool all, const char *only, teardown_report_fn report, void *arg)
{
    struct clean_ctx c = {.all = all, .only = only, .report = report, .arg = arg};
    char runs[CLEAN_RUNS][STATE_ID_MAX];

    state_foreach(clean_cb, &c);
    /* Namespaces of runs that left no state: the sweep kills what runs in
     * them and removes them. */
    size_t n = orphan_runs(&c, runs);
    for (size_t i = 0; i < n; i++) {
        char prefix[64];
        snprintf(prefix, sizeof(prefix), "%s%.*s-", TOPO_NETNS_PREFIX, STATE_ID_MAX - 1, runs[i]);
        if (teardown_sweep(prefix, report, arg) > 0)
            c.count++;
    }
    return c.count;
}
