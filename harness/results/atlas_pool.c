/* Decoding of RIPE Atlas results on several threads, written in file order:
 * the scanner's elements are gathered into batches, worker threads decode
 * batches (jansson and ldns, the bulk of an import's time), and the calling
 * thread hands each decoded element to the writer in the order it was read.
 * Memory is bounded by the ring of batches, each at most POOL_BATCH
 * elements and about ATLAS_ELEMENT_MAX bytes of text. */
#include "atlas_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POOL_BATCH   256
#define POOL_RING    8
#define POOL_WORKERS 4

struct pelem {
    struct atlas_done d;
    size_t text_off, len, row0;
    bool has_text;
};

struct batch {
    char *text;
    size_t tlen, tcap;
    struct pelem el[POOL_BATCH];
    size_t nel;
    struct atlas_row *rows;
    size_t nrows, rcap;
    int rc; /* a decoding failure other than a bad element */
    bool done;
};

struct atlas_pool {
    atlas_done_fn fn;
    void *arg;
    struct batch ring[POOL_RING];
    unsigned long submit, take, written; /* batch sequence numbers */
    pthread_t th[POOL_WORKERS];
    unsigned nth;
    bool stop;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
};

static int add_row(void *arg, const struct atlas_row *r)
{
    struct batch *b = arg;
    if (b->nrows == b->rcap) {
        size_t cap = b->rcap ? b->rcap * 2 : 2 * POOL_BATCH;
        struct atlas_row *nr = realloc(b->rows, cap * sizeof *nr);
        if (!nr)
            return -ENOMEM;
        b->rows = nr;
        b->rcap = cap;
    }
    b->rows[b->nrows++] = *r;
    return 0;
}

static void decode_batch(struct batch *b)
{
    b->nrows = 0;
    b->rc = 0;
    for (size_t i = 0; i < b->nel && b->rc == 0; i++) {
        struct pelem *e = &b->el[i];
        e->row0 = b->nrows;
        if (!e->has_text)
            continue;
        int rc = atlas_decode(b->text + e->text_off, e->len, add_row, b, e->d.err, sizeof e->d.err);
        if (rc < 0 && rc != -EBADMSG)
            b->rc = rc;
        e->d.bad = rc == -EBADMSG;
    }
}

static void *worker(void *arg)
{
    struct atlas_pool *p = arg;
    atlas_arena_begin();
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->take == p->submit)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->take == p->submit)
            break;
        struct batch *b = &p->ring[p->take++ % POOL_RING];
        pthread_mutex_unlock(&p->mu);
        decode_batch(b);
        pthread_mutex_lock(&p->mu);
        b->done = true;
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    atlas_arena_end();
    return NULL;
}

/* Hands the oldest batch to the writer once decoded. */
static int write_oldest(struct atlas_pool *p)
{
    struct batch *b = &p->ring[p->written % POOL_RING];
    pthread_mutex_lock(&p->mu);
    while (!b->done)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    int rc = b->rc;
    for (size_t i = 0; i < b->nel && rc == 0; i++) {
        struct pelem *e = &b->el[i];
        size_t end = i + 1 < b->nel ? b->el[i + 1].row0 : b->nrows;
        e->d.rows = b->rows + e->row0;
        e->d.nrows = e->has_text && !e->d.bad ? end - e->row0 : 0;
        rc = p->fn(p->arg, &e->d);
    }
    p->written++;
    b->nel = b->tlen = 0;
    b->done = false;
    return rc;
}

static int submit(struct atlas_pool *p)
{
    struct batch *b = &p->ring[p->submit % POOL_RING];
    if (b->nel == 0)
        return 0;
    if (p->nth == 0) {
        decode_batch(b);
        b->done = true;
        p->submit++;
        return write_oldest(p);
    }
    pthread_mutex_lock(&p->mu);
    p->submit++;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
    if (p->submit - p->written == POOL_RING)
        return write_oldest(p);
    return 0;
}

int atlas_pool_add(struct atlas_pool *p, const char *file, unsigned long n, uint64_t off,
                   const char *text, size_t len, const char *why)
{
    struct batch *b = &p->ring[p->submit % POOL_RING];
    struct pelem *e = &b->el[b->nel];
    memset(&e->d, 0, sizeof e->d);
    e->d.file = file;
    e->d.n = n;
    e->d.offset = off;
    e->has_text = text != NULL;
    e->len = len;
    if (!text) {
        e->d.bad = true;
        snprintf(e->d.err, sizeof e->d.err, "%s", why ? why : "?");
    } else {
        if (b->tlen + len > b->tcap) {
            size_t cap = b->tcap ? b->tcap : 65536;
            while (cap < b->tlen + len)
                cap *= 2;
            char *nt = realloc(b->text, cap);
            if (!nt)
                return -ENOMEM;
            b->text = nt;
            b->tcap = cap;
        }
        memcpy(b->text + b->tlen, text, len);
        e->text_off = b->tlen;
        b->tlen += len;
    }
    b->nel++;
    if (b->nel == POOL_BATCH || b->tlen >= ATLAS_ELEMENT_MAX)
        return submit(p);
    return 0;
}

int atlas_pool_open(struct atlas_pool **out, atlas_done_fn fn, void *arg)
{
    struct atlas_pool *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->fn = fn;
    p->arg = arg;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned want = cpus > 1 ? (unsigned)(cpus < POOL_WORKERS ? cpus : POOL_WORKERS) : 0;
    /* jansson seeds its hash function once; do it before the threads. */
    json_object_seed(0);
    while (p->nth < want && pthread_create(&p->th[p->nth], NULL, worker, p) == 0)
        p->nth++;
    *out = p;
    return 0;
}

int atlas_pool_close(struct atlas_pool *p, bool flush)
{
    int rc = 0;
    if (!p)
        return 0;
    if (flush)
        rc = submit(p);
    while (rc == 0 && p->written < p->submit)
        rc = write_oldest(p);
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nth; i++)
        pthread_join(p->th[i], NULL);
    for (size_t i = 0; i < POOL_RING; i++) {
        free(p->ring[i].text);
        free(p->ring[i].rows);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    free(p);
    return rc;
}
