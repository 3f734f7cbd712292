/* The report page's RIPE Atlas section (docs/atlas.md): when the results
 * directory has atlas-probes.csv, the run rows of the summary grouped by the
 * probes' country and by their ASN (IPv4, else IPv6), each group with its
 * vantages, results, failures, flips and the nodes that answered its
 * vantages last. Memory: the metadata table and one entry per run row. */
#include "atlas.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ah/csv.h"
#include "ah/metrics.h"
#include "report_int.h"

#define GROUP_NODES   3   /* catchment nodes named per group */
#define GROUPS_SHOWN  200 /* groups listed per table */
#define META_ROWS_MAX 100000

struct vmeta {
    char *vantage, *country, *asn;
};

struct entry {
    const char *key; /* country or "AS<n>" */
    const struct ah_metrics_row *row;
};

static int vmeta_cmp(const void *a, const void *b)
{
    return strcmp(((const struct vmeta *)a)->vantage, ((const struct vmeta *)b)->vantage);
}

static int entry_cmp(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->row->after, y->row->after);
}

static void vmeta_free_one(struct vmeta *v)
{
    free(v->vantage);
    free(v->country);
    free(v->asn);
}

static void vmeta_free(struct vmeta *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vmeta_free_one(&v[i]);
    free(v);
}

/* Reads DIR/atlas-probes.csv. Returns the number of rows (0: none or no
 * file) with *out sorted by vantage, or a negative errno. */
static long vmeta_read(const char *dir, struct vmeta **out)
{
    char path[PATH_MAX];
    struct ah_csv_reader *r = NULL;
    struct vmeta *v = NULL;
    size_t n = 0;
    char **f;
    size_t nf;
    unsigned long line;
    *out = NULL;
    snprintf(path, sizeof path, "%s/atlas-probes.csv", dir);
    if (ah_csv_reader_open(&r, path) < 0)
        return 0;
    int rc;
    while ((rc = ah_csv_reader_next(r, &f, &nf, &line)) != 0 && n < META_ROWS_MAX) {
        if (rc < 0 && rc != -E2BIG && rc != -EMSGSIZE)
            break;
        if (rc < 0 || nf != 4 || line == 1)
            continue;
        if (n % 1024 == 0) {
            struct vmeta *nv = realloc(v, (n + 1024) * sizeof *nv);
            if (!nv)
                break;
            v = nv;
        }
        v[n].vantage = strdup(f[0]);
        v[n].country = strdup(f[1][0] ? f[1] : "?");
        char asn[32];
        snprintf(asn, sizeof asn, "AS%.20s", f[2][0] ? f[2] : f[3]);
        v[n].asn = strdup(f[2][0] || f[3][0] ? asn : "?");
        if (!v[n].vantage || !v[n].country || !v[n].asn) {
            vmeta_free_one(&v[n]);
            break;
        }
        n++;
    }
    ah_csv_reader_close(r);
    qsort(v, n, sizeof *v, vmeta_cmp);
    *out = v;
    return (long)n;
}

/* One group (entries e[0..n) of one key, sorted by node) as a table row. */
static void group_row(FILE *f, const struct entry *e, size_t n)
{
    uint64_t probes = 0, lost = 0, flips = 0;
    for (size_t i = 0; i < n; i++) {
        probes += e[i].row->probes;
        lost += e[i].row->lost;
        flips += e[i].row->flips;
    }
    fprintf(f, "<tr><td>");
    rp_html_str(f, e[0].key);
    fprintf(f,
            "</td><td class=\"n\">%zu</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td>"
            "<td class=\"n\">%llu</td><td>",
            n, (unsigned long long)probes, (unsigned long long)lost, (unsigned long long)flips);
    /* The nodes with the most vantages, from the runs of equal nodes. */
    size_t best[GROUP_NODES] = {0}, cnt[GROUP_NODES] = {0};
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && strcmp(e[j].row->after, e[i].row->after) == 0)
            j++;
        for (size_t k = 0; k < GROUP_NODES; k++)
            if (j - i > cnt[k]) {
                memmove(best + k + 1, best + k, (GROUP_NODES - k - 1) * sizeof *best);
                memmove(cnt + k + 1, cnt + k, (GROUP_NODES - k - 1) * sizeof *cnt);
                best[k] = i;
                cnt[k] = j - i;
                break;
            }
        i = j;
    }
    for (size_t k = 0; k < GROUP_NODES && cnt[k]; k++) {
        fprintf(f, "%s", k ? ", " : "");
        const char *node = e[best[k]].row->after;
        rp_html_str(f, node[0] ? node : "(none)");
        fprintf(f, " %zu", cnt[k]);
    }
    fprintf(f, "</td></tr>\n");
}

static void group_table(FILE *f, const char *title, struct entry *e, size_t n)
{
    qsort(e, n, sizeof *e, entry_cmp);
    fprintf(f,
            "<h3>By %s</h3>\n<div class=\"scroll\"><table><tr><th>%s</th><th>vantages</th>"
            "<th>results</th><th>lost</th><th>flips</th><th>answered last by (vantages)</th>"
            "</tr>\n",
            title, title);
    size_t shown = 0;
    for (size_t i = 0; i < n && shown < GROUPS_SHOWN; shown++) {
        size_t j = i;
        while (j < n && strcmp(e[j].key, e[i].key) == 0)
            j++;
        group_row(f, e + i, j - i);
        i = j;
    }
    fprintf(f, "</table></div>\n");
}

int atlas_html_groups(FILE *f, const char *dir, const struct ah_metrics *m)
{
    struct vmeta *v = NULL;
    long nv = vmeta_read(dir, &v);
    size_t nrows = ah_metrics_nrows(m), n = 0;
    struct entry *by_cc = NULL, *by_as = NULL;
    int rc = 0;
    if (nv <= 0)
        goto out;
    by_cc = calloc(nrows ? nrows : 1, sizeof *by_cc);
    by_as = calloc(nrows ? nrows : 1, sizeof *by_as);
    if (!by_cc || !by_as) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < nrows; i++) {
        const struct ah_metrics_row *r = ah_metrics_row(m, i);
        struct vmeta key = {.vantage = (char *)r->vantage};
        struct vmeta *hit = bsearch(&key, v, (size_t)nv, sizeof key, vmeta_cmp);
        if (!hit || strcmp(r->event, "run") != 0)
            continue;
        by_cc[n] = (struct entry){hit->country, r};
        by_as[n++] = (struct entry){hit->asn, r};
    }
    fprintf(f,
            "<section id=\"atlas-groups\"><h2>RIPE Atlas probes</h2>\n<p class=\"meta\">The "
            "run rows of %zu vantages with metadata in atlas-probes.csv, by the probes' "
            "country and ASN (IPv4, else IPv6); at most %d groups each.</p>\n",
            n, GROUPS_SHOWN);
    group_table(f, "country", by_cc, n);
    group_table(f, "ASN", by_as, n);
    fprintf(f, "</section>\n");
out:
    free(by_cc);
    free(by_as);
    vmeta_free(v, nv > 0 ? (size_t)nv : 0);
    return rc;
}
