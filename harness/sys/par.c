/* A small parallel for: worker threads take the next index from a shared
 * counter, so a slow item does not hold up the others, and the lowest
 * failing index decides the result, as it would in a plain loop. */
#include "par.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define PAR_MAX_THREADS 64

struct par_ctx {
    size_t n;
    bool stop_on_error;
    int (*fn)(void *arg, size_t i);
    void *arg;
    atomic_size_t next;
    atomic_bool failed;
    pthread_mutex_t lock; /* guards err and err_idx */
    int err;
    size_t err_idx;
};

static void *par_worker(void *p)
{
    struct par_ctx *c = p;
    for (;;) {
        if (c->stop_on_error && atomic_load(&c->failed))
            break;
        size_t i = atomic_fetch_add(&c->next, 1);
        if (i >= c->n)
            break;
        int err = c->fn(c->arg, i);
        if (err >= 0)
            continue;
        atomic_store(&c->failed, true);
        pthread_mutex_lock(&c->lock);
        if (!c->err || i < c->err_idx) {
            c->err = err;
            c->err_idx = i;
        }
        pthread_mutex_unlock(&c->lock);
    }
    return NULL;
}

int par_for(size_t n, unsigned threads, bool stop_on_error, int (*fn)(void *arg, size_t i),
            void *arg)
{
    struct par_ctx c = {.n = n, .stop_on_error = stop_on_error, .fn = fn, .arg = arg};
    pthread_t tid[PAR_MAX_THREADS];
    size_t started = 0;

    atomic_init(&c.next, 0);
    atomic_init(&c.failed, false);
    if (pthread_mutex_init(&c.lock, NULL) != 0)
        return -ENOMEM;
    if (threads > PAR_MAX_THREADS)
        threads = PAR_MAX_THREADS;
    if (threads > n)
        threads = (unsigned)n;
    /* The caller is one of the workers; a thread that cannot be made only
     * means fewer of them. */
    while (started + 1 < threads && pthread_create(&tid[started], NULL, par_worker, &c) == 0)
        started++;
    par_worker(&c);
    for (size_t k = 0; k < started; k++)
        pthread_join(tid[k], NULL);
    pthread_mutex_destroy(&c.lock);
    return c.err;
}

unsigned par_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > 8 ? 8 : (unsigned)n;
}
