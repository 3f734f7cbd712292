/* RIPE Atlas in the harness (docs/atlas.md): the streaming scanner that
 * cuts a results file (one JSON array, or one result per line) into its
 * elements, the decoder that turns one DNS result into probes.csv rows,
 * the import that writes a results directory from files of any size, and
 * the measurement request written for a lab file's anycast addresses. */
#ifndef ATLAS_H
#define ATLAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ah/ident.h"
#include "ah/schema.h"

/* The largest result element read; a larger one is an error of that
 * element (docs/security.md). */
#define ATLAS_ELEMENT_MAX (1024 * 1024)
/* The largest element of a --probes file (a page of the probes API). */
#define ATLAS_PROBES_ELEMENT_MAX (16 * 1024 * 1024)
/* Entries of one resultset turned into rows; more are an error. */
#define ATLAS_RESULTSET_MAX 64
#define ATLAS_TARGET_MAX    64          /* dst_addr bytes kept (an address fits) */
#define ATLAS_DETAIL_MAX    128         /* detail bytes kept */
#define ATLAS_ABUF_MAX      (88 * 1024) /* base64 of the largest DNS message */

/* One probes.csv row decoded from a result. */
struct atlas_row {
    uint64_t ts_ns;
    uint64_t prb_id;
    uint64_t conn; /* msm_id * 256 + resultset entry (1-based; 0: none) */
    char target[ATLAS_TARGET_MAX];
    enum ah_transport transport;
    enum ah_result result;
    char node[AH_IDENT_MAX];
    int64_t rtt_us; /* -1: none */
    char detail[ATLAS_DETAIL_MAX];
};

/* ---- scanner (atlas_scan.c) ---- */

/* Called for each top-level element: text/len its bytes (not
 * NUL-terminated), or text NULL and why the reason it was skipped (over
 * max_elem bytes, truncated by the end of the file, a stray byte). n is
 * the 1-based element number, offset its byte offset in the file (n 0 and
 * text NULL: a reason about the file itself, the array never closed). A
 * negative return stops the scan with that value. */
typedef int (*atlas_elem_fn)(void *arg, unsigned long n, uint64_t offset, const char *text,
                             size_t len, const char *why);

/* Reads fd to its end, cutting it into the elements of a top-level JSON
 * array or into consecutive top-level values (one per line, or not),
 * tracking strings, escapes and nesting depth; at most max_elem bytes of
 * one element are held. Returns the number of elements seen (good or not)
 * or a negative errno. */
long atlas_scan_fd(int fd, size_t max_elem, atlas_elem_fn fn, void *arg);

/* ---- decoder (atlas.c) ---- */

typedef int (*atlas_row_fn)(void *arg, const struct atlas_row *row);

/* Decodes one DNS result (len bytes of JSON text) and calls fn for each of
 * its rows: the result, or each entry of its resultset. Returns the number
 * of rows, -EBADMSG with the reason in err when the element is no usable
 * result (not JSON, not an object, not type "dns", no prb_id or time), or
 * fn's negative return. */
int atlas_decode(const char *text, size_t len, atlas_row_fn fn, void *arg, char *err,
                 size_t errlen);

/* Decodes a base64 answer buffer into row (node, result, detail). */
void atlas_abuf_judge(const char *abuf, struct atlas_row *row);

/* ---- import (atlas_import.c) ---- */

struct atlas_import_opts {
    const char *const *files;
    size_t nfiles;
    const char *probes_json; /* NULL: no probe metadata */
    const char *out_dir;
};

struct atlas_import_stats {
    unsigned long elements, results, skipped, rows;
    unsigned long by_result[AH_RES_COUNT];
    unsigned long probes_meta; /* rows of atlas-probes.csv */
};

/* Writes out_dir/probes.csv (and atlas-probes.csv with probes_json) from
 * the files; every skipped element is logged as FILE:N. Returns 0 or a
 * negative errno (a file that cannot be read, a write error). */
int atlas_import(const struct atlas_import_opts *o, struct atlas_import_stats *st);

/* ---- the report page (atlas_html.c) ---- */

struct ah_metrics;

/* When dir has atlas-probes.csv, writes the page section that groups the
 * run rows of m by country and ASN. Returns 0 or a negative errno. */
int atlas_html_groups(FILE *f, const char *dir, const struct ah_metrics *m);

/* ---- measurement request (atlas_spec.c) ---- */

struct lab;

/* Writes the JSON body of a measurement request for lab's anycast
 * addresses to f. Returns 0 or a negative errno. */
int atlas_spec_write(FILE *f, const struct lab *lab);

#endif
