/* Decoding RIPE Atlas result elements on worker threads, handed back in
 * file order (atlas_pool.c); used by atlas_import.c. */
#ifndef ATLAS_POOL_H
#define ATLAS_POOL_H

#include <jansson.h>

#include "atlas.h"

struct atlas_pool;

/* One element after decoding: its rows, or bad with the reason in err. */
struct atlas_done {
    const char *file; /* as given to atlas_pool_add (kept, not copied) */
    unsigned long n;  /* 1-based element number; 0: a note about the file */
    uint64_t offset;
    bool bad;
    char err[ATLAS_DETAIL_MAX * 2];
    const struct atlas_row *rows;
    size_t nrows;
};

/* Called on the thread that adds, in the order elements were added. */
typedef int (*atlas_done_fn)(void *arg, const struct atlas_done *d);

int atlas_pool_open(struct atlas_pool **out, atlas_done_fn fn, void *arg);
/* Adds an element (text NULL: skipped by the scanner for reason why). */
int atlas_pool_add(struct atlas_pool *p, const char *file, unsigned long n, uint64_t off,
                   const char *text, size_t len, const char *why);
/* Decodes and hands over what is left (when flush), stops the workers and
 * frees. Returns the first error of the writer or a decoder. */
int atlas_pool_close(struct atlas_pool *p, bool flush);

/* The per-thread arena for jansson's values (atlas.c): between begin and
 * end, and while atlas_arena_install() is in force, each element's values
 * come from it. */
void atlas_arena_begin(void);
void atlas_arena_end(void);
void atlas_arena_install(json_malloc_t *old_malloc, json_free_t *old_free);

#endif
