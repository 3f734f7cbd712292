/* `anycast-lab atlas import`'s work: RIPE Atlas result files, read element
 * by element, become DIR/probes.csv (docs/formats.md), and the probes API's
 * metadata DIR/atlas-probes.csv, in memory bounded by one element and the
 * probe table. Elements that are no usable result are logged as FILE:N and
 * counted; the rest are imported. */
#include "atlas.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ah/csv.h"
#include "ah/esc.h"
#include "ah/log.h"
#include "atlas_pool.h"

#define CC_MAX 8 /* country code bytes kept (two letters are expected) */

/* One probe of the --probes file. */
struct meta {
    uint64_t id;
    char cc[CC_MAX];
    int64_t asn4, asn6; /* -1: none */
    bool seen;
};

struct import {
    const char *file;
    struct ah_csv *csv;
    struct atlas_import_stats *st;
    struct meta *meta;
    size_t nmeta, capmeta;
    struct atlas_pool *pool;
};

static void log_skip(const char *file, unsigned long n, uint64_t off, const char *why)
{
    char esc[AH_ESC_TERM_MAX(ATLAS_DETAIL_MAX * 2)];
    ah_esc_term(esc, sizeof esc, why, strnlen(why, ATLAS_DETAIL_MAX * 2));
    if (n == 0)
        ah_log_warn("%s: %s (byte %" PRIu64 ")", file, esc, off);
    else
        ah_log_error("%s:%lu: %s (element at byte %" PRIu64 "), skipped", file, n, esc, off);
}

static int meta_cmp(const void *a, const void *b)
{
    const struct meta *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static struct meta *meta_find(struct import *im, uint64_t id)
{
    struct meta key = {.id = id};
    return im->nmeta ? bsearch(&key, im->meta, im->nmeta, sizeof key, meta_cmp) : NULL;
}

static int64_t asn_of(const json_t *p, const char *key)
{
    json_t *v = json_object_get(p, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (int64_t)json_integer_value(v) : -1;
}

static const char *cc_of(const json_t *p)
{
    const char *cc = json_string_value(json_object_get(p, "country_code"));
    return cc ? cc : "";
}

static int meta_add(struct import *im, const json_t *p)
{
    json_t *id = json_object_get(p, "id");
    if (!json_is_integer(id) || json_integer_value(id) < 0)
        return 0;
    if (im->nmeta == im->capmeta) {
        size_t cap = im->capmeta ? im->capmeta * 2 : 1024;
        struct meta *nm = realloc(im->meta, cap * sizeof *nm);
        if (!nm)
            return -ENOMEM;
        im->meta = nm;
        im->capmeta = cap;
    }
    struct meta *m = &im->meta[im->nmeta++];
    memset(m, 0, sizeof *m);
    m->id = (uint64_t)json_integer_value(id);
    snprintf(m->cc, sizeof m->cc, "%s", cc_of(p));
    m->asn4 = asn_of(p, "asn_v4");
    m->asn6 = asn_of(p, "asn_v6");
    return 0;
}

/* An element of the --probes file: one probe, or a page of the probes API
 * ({"results": [probe...]}). */
static int meta_elem(void *arg, unsigned long n, uint64_t off, const char *text, size_t len,
                     const char *why)
{
    struct import *im = arg;
    if (!text) {
        log_skip(im->file, n, off, why);
        return 0;
    }
    json_error_t je;
    json_t *o = json_loadb(text, len, 0, &je);
    if (!json_is_object(o)) {
        log_skip(im->file, n, off, o ? "not a JSON object" : je.text);
        json_decref(o);
        return 0;
    }
    int rc = 0;
    json_t *res = json_object_get(o, "results");
    if (json_is_array(res)) {
        for (size_t i = 0; i < json_array_size(res) && rc == 0; i++)
            rc = meta_add(im, json_array_get(res, i));
    } else {
        rc = meta_add(im, o);
    }
    json_decref(o);
    return rc;
}

static int row_out(void *arg, const struct atlas_row *r)
{
    struct import *im = arg;
    char vantage[32];
    snprintf(vantage, sizeof vantage, "atlas-%" PRIu64, r->prb_id);
    struct meta *m = meta_find(im, r->prb_id);
    if (m)
        m->seen = true;
    im->st->rows++;
    im->st->by_result[r->result]++;
    ah_csv_u64(im->csv, r->ts_ns);
    ah_csv_str(im->csv, vantage);
    ah_csv_str(im->csv, r->target);
    ah_csv_str(im->csv, ah_transport_name(r->transport));
    ah_csv_str(im->csv, ah_service_name(AH_SVC_DNS));
    ah_csv_u64(im->csv, r->conn);
    ah_csv_u64(im->csv, im->st->rows);
    ah_csv_str(im->csv, ah_result_name(r->result));
    ah_csv_str(im->csv, r->node);
    if (r->rtt_us >= 0)
        ah_csv_i64(im->csv, r->rtt_us);
    else
        ah_csv_empty(im->csv);
    ah_csv_str(im->csv, r->detail);
    return ah_csv_end_row(im->csv);
}

static int result_done(void *arg, const struct atlas_done *d)
{
    struct import *im = arg;
    if (d->n > 0)
        im->st->elements++;
    if (d->bad) {
        log_skip(d->file, d->n, d->offset, d->err);
        if (d->n > 0)
            im->st->skipped++;
        return 0;
    }
    for (size_t i = 0; i < d->nrows; i++) {
        int rc = row_out(im, &d->rows[i]);
        if (rc < 0)
            return rc;
    }
    im->st->results++;
    return 0;
}

static int result_elem(void *arg, unsigned long n, uint64_t off, const char *text, size_t len,
                       const char *why)
{
    struct import *im = arg;
    return atlas_pool_add(im->pool, im->file, n, off, text, len, why);
}

static int scan_file(struct import *im, const char *path, size_t max, atlas_elem_fn fn)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ah_log_error("%s: %s", path, strerror(errno));
        return -errno;
    }
    im->file = path;
    long rc = atlas_scan_fd(fd, max, fn, im);
    close(fd);
    if (rc < 0)
        ah_log_error("%s: %s", path, strerror((int)-rc));
    return rc < 0 ? (int)rc : 0;
}

static int write_meta(struct import *im, const char *dir)
{
    static const char *const hdr[] = {"vantage", "country", "asn_v4", "asn_v6"};
    char path[4096], vantage[32];
    struct ah_csv *w = NULL;
    snprintf(path, sizeof path, "%s/atlas-probes.csv", dir);
    int rc = ah_csv_open(&w, path, hdr, 4);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < im->nmeta; i++) {
        const struct meta *m = &im->meta[i];
        if (!m->seen || (i > 0 && m->id == im->meta[i - 1].id))
            continue;
        snprintf(vantage, sizeof vantage, "atlas-%" PRIu64, m->id);
        ah_csv_str(w, vantage);
        ah_csv_str(w, m->cc);
        if (m->asn4 >= 0)
            ah_csv_i64(w, m->asn4);
        else
            ah_csv_empty(w);
        if (m->asn6 >= 0)
            ah_csv_i64(w, m->asn6);
        else
            ah_csv_empty(w);
        ah_csv_end_row(w);
        im->st->probes_meta++;
    }
    return ah_csv_close(w);
}

/* The result files through the decoding pool, jansson's allocations going
 * to the per-thread arenas meanwhile. */
static int import_files(struct import *im, const struct atlas_import_opts *o)
{
    json_malloc_t old_malloc;
    json_free_t old_free;
    atlas_arena_begin();
    atlas_arena_install(&old_malloc, &old_free);
    int rc = atlas_pool_open(&im->pool, result_done, im);
    for (size_t i = 0; i < o->nfiles && rc == 0; i++)
        rc = scan_file(im, o->files[i], ATLAS_ELEMENT_MAX, result_elem);
    int prc = atlas_pool_close(im->pool, rc == 0);
    json_set_alloc_funcs(old_malloc, old_free);
    atlas_arena_end();
    return rc < 0 ? rc : prc;
}

int atlas_import(const struct atlas_import_opts *o, struct atlas_import_stats *st)
{
    struct import im = {.st = st};
    char path[4096];
    int rc;
    memset(st, 0, sizeof *st);
    if (mkdir(o->out_dir, 0755) < 0 && errno != EEXIST) {
        rc = -errno;
        ah_log_error("%s: %s", o->out_dir, strerror(errno));
        goto out;
    }
    if (o->probes_json &&
        (rc = scan_file(&im, o->probes_json, ATLAS_PROBES_ELEMENT_MAX, meta_elem)) < 0)
        goto out;
    if (im.nmeta)
        qsort(im.meta, im.nmeta, sizeof *im.meta, meta_cmp);
    snprintf(path, sizeof path, "%s/probes.csv", o->out_dir);
    rc = ah_csv_open(&im.csv, path, ah_schema_probes_cols, AH_SCHEMA_PROBES_COLS);
    if (rc < 0) {
        ah_log_error("%s: %s", path, strerror(-rc));
        goto out;
    }
    rc = import_files(&im, o);
    int crc = ah_csv_close(im.csv);
    if (rc == 0 && crc < 0) {
        rc = crc;
        ah_log_error("%s: %s", path, strerror(-rc));
    }
    if (rc == 0 && o->probes_json)
        rc = write_meta(&im, o->out_dir);
out:
    free(im.meta);
    return rc;
}
