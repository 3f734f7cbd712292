/* A run killed before its merge step (SIGKILL, a crash, the machine
 * stopped) leaves the per-vantage files of its probes,
 * RUN/probes-VANTAGE[-KIND]/{probes,connections}.csv, and no probes.csv: the
 * report merges them with the runner's own merge (results_merge) and writes
 * the result into the run directory without following symlinks. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/file.h"
#include "ah/log.h"
#include "report.h"
#include "report_int.h"
#include "results.h"

int rp_parts_find(const char *run_dir, struct rp_parts *pt)
{
    DIR *d = opendir(run_dir);
    struct dirent *e;
    if (!d)
        return -errno;
    while ((e = readdir(d))) {
        char p[PATH_MAX + 32];
        struct stat st;
        if (strncmp(e->d_name, "probes-", 7) != 0)
            continue;
        snprintf(p, sizeof p, "%s/%s/probes.csv", run_dir, e->d_name);
        if (lstat(p, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        void *n = realloc(pt->dir, (pt->n + 1) * sizeof *pt->dir);
        if (!n) {
            closedir(d);
            return -ENOMEM;
        }
        pt->dir = n;
        snprintf(pt->dir[pt->n++], sizeof *pt->dir, "%s/%s", run_dir, e->d_name);
    }
    closedir(d);
    return 0;
}

bool report_is_run_dir(const char *dir)
{
    char p[PATH_MAX + 32];
    struct rp_parts pt = {0};
    snprintf(p, sizeof p, "%s/probes.csv", dir);
    if (access(p, F_OK) == 0)
        return true;
    bool found = rp_parts_find(dir, &pt) == 0 && pt.n > 0;
    free(pt.dir);
    return found;
}

/* Merges the parts with the runner's own merge (results_merge) into a
 * private directory, then moves the two files into the run directory; when
 * that is not possible (read-only), they are read from where they are. */
int rp_parts_merge(const char *run_dir, struct rp_parts *pt)
{
    static const char *const kinds[] = {"probes.csv", "connections.csv"};
    const char *tmpdir = getenv("TMPDIR");
    snprintf(pt->tmp, sizeof pt->tmp, "%s/anycast-merge-XXXXXX",
             tmpdir && tmpdir[0] == '/' ? tmpdir : "/tmp");
    if (!mkdtemp(pt->tmp)) {
        pt->tmp[0] = '\0';
        return -errno;
    }
    const char **in = calloc(pt->n, sizeof *in);
    char(*paths)[PATH_MAX + 64] = calloc(pt->n, sizeof *paths);
    int rc = 0;
    if (!in || !paths) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t k = 0; k < 2; k++) {
        char *out = k == 0 ? pt->probes : pt->conns;
        unsigned long late = 0;
        for (size_t i = 0; i < pt->n; i++) {
            snprintf(paths[i], sizeof paths[i], "%s/%s", pt->dir[i], kinds[k]);
            in[i] = paths[i];
        }
        snprintf(out, sizeof pt->probes, "%s/%s", pt->tmp, kinds[k]);
        /* The windows of run_collect(): probe rows are written at most a
         * timeout after they were sent, connection rows when they end. */
        long n = results_merge(in, pt->n, out, k == 0 ? AH_PROBES_TS_NS : AH_CONNS_OPENED_NS,
                               k == 0 ? 30 * AH_NS_PER_S : UINT64_MAX,
                               k == 0 ? ah_schema_probes_cols : ah_schema_connections_cols,
                               k == 0 ? AH_SCHEMA_PROBES_COLS : AH_SCHEMA_CONNECTIONS_COLS, &late);
        if (n < 0) {
            rc = (int)n;
            goto out;
        }
        ah_log_warn("%s: no %s (the run ended before its merge): merged %ld rows from %zu "
                    "per-vantage files",
                    run_dir, kinds[k], n, pt->n);
    }
    for (size_t k = 0; k < 2; k++) {
        char *path = k == 0 ? pt->probes : pt->conns;
        int mrc = ah_file_move(path, run_dir, kinds[k]);
        if (mrc < 0) {
            ah_log_warn("%s/%s: not written (%s); the merged rows are used all the same", run_dir,
                        kinds[k], strerror(-mrc));
            continue;
        }
        snprintf(path, sizeof pt->probes, "%s/%s", run_dir, kinds[k]);
    }
out:
    free(in);
    free(paths);
    return rc;
}

void rp_parts_free(struct rp_parts *pt)
{
    if (pt->tmp[0]) {
        char p[PATH_MAX + 32];
        snprintf(p, sizeof p, "%s/probes.csv", pt->tmp);
        unlink(p);
        snprintf(p, sizeof p, "%s/connections.csv", pt->tmp);
        unlink(p);
        rmdir(pt->tmp);
    }
    free(pt->dir);
}
