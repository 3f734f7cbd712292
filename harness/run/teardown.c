/* Removing what a killed run left behind: works from namespace names alone,
 * without a topology. */
#include "teardown.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/sys/netns.h"
#include "harness/topo/topo.h"
#include "state.h"

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

struct clean_report {
    void (*report)(void *arg, const char *what);
    void *arg;
    char **names;
};

static void proc_report(void *arg, int pid, const char *comm, size_t idx)
{
    struct clean_report *r = arg;
    char what[160];
    snprintf(what, sizeof(what), "process %s (pid %d) in %s", comm, pid, r->names[idx]);
    if (r->report)
        r->report(r->arg, what);
}

/* The lab namespaces under prefix whose run has no live owner, in *names
 * (*n of them; free each and the array). Returns 0 or a negative errno (the
 * names found so far are kept). */
static int stale_namespaces(const char *prefix, char ***names, size_t *n)
{
    size_t plen = strlen(TOPO_NETNS_PREFIX), cap = 0;
    char last_id[TOPO_RUNID_MAX] = "";
    bool last_owned = false;
    int err = 0;
    DIR *d = opendir(NETNS_RUN_DIR);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    struct dirent *de;
    while ((de = readdir(d))) {
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
        if (last_owned)
            continue;
        if (*n == cap) {
            size_t nc = cap ? 2 * cap : 64;
            char **nn = realloc(*names, nc * sizeof(*nn));
            if (!nn) {
                err = -ENOMEM;
                break;
            }
            *names = nn;
            cap = nc;
        }
        if (!((*names)[*n] = strdup(de->d_name))) {
            err = -ENOMEM;
            break;
        }
        (*n)++;
    }
    closedir(d);
    return err;
}

/* Stops the processes inside the namespaces: one pass over /proc for all of
 * them, as a lab has hundreds. */
static void kill_inside(char **names, size_t n, void (*report)(void *arg, const char *what),
                        void *arg)
{
    struct netns_id *ids = n ? calloc(n, sizeof(*ids)) : NULL;
    char **idnames = n ? calloc(n, sizeof(*idnames)) : NULL;
    size_t nids = 0;
    for (size_t k = 0; ids && idnames && k < n; k++)
        if (netns_id_of(names[k], &ids[nids]) == 0)
            idnames[nids++] = names[k];
    if (nids) {
        struct clean_report r = {report, arg, idnames};
        netns_kill_procs(ids, nids, 1000, proc_report, &r);
    }
    free(ids);
    free(idnames);
}

int teardown_sweep(const char *prefix, void (*report)(void *arg, const char *what), void *arg)
{
    char **names = NULL;
    size_t n = 0;
    int removed = 0, err;

    if (!prefix)
        prefix = TOPO_NETNS_PREFIX;
    /* Never wider than the lab prefix: other namespaces are not ours. */
    if (strncmp(prefix, TOPO_NETNS_PREFIX, strlen(TOPO_NETNS_PREFIX)) != 0)
        return -EINVAL;
    err = stale_namespaces(prefix, &names, &n);
    kill_inside(names, n, report, arg);
    for (size_t k = 0; k < n; k++) {
        int e = netns_delete(names[k]);
        if (e < 0) {
            if (!err)
                err = e;
        } else {
            removed++;
            if (report) {
                char what[160];
                snprintf(what, sizeof(what), "namespace %s", names[k]);
                report(arg, what);
            }
        }
    }
    for (size_t k = 0; k < n; k++)
        free(names[k]);
    free(names);
    return err < 0 && removed == 0 ? err : removed;
}
