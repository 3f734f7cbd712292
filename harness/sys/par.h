/* Runs one function over many indices on a few threads. Namespace creation
 * and removal spend most of their time in the kernel, much of it waiting (a
 * grace period per unmount) or in work that runs on any core; a lab of
 * thousands of namespaces does them side by side instead of one by one. */
#ifndef PAR_H
#define PAR_H

#include <stdbool.h>
#include <stddef.h>

/* Calls fn(arg, i) for every i in [0, n) on up to threads threads (the
 * caller's own included; fewer when a thread cannot be made, never fewer
 * than the caller). fn must be safe to run concurrently for different i.
 * With stop_on_error, indices not yet begun are skipped after a failure.
 * Returns 0 or the error of the lowest failing index. */
int par_for(size_t n, unsigned threads, bool stop_on_error, int (*fn)(void *arg, size_t i),
            void *arg);

/* The thread count for work that mostly uses a core: the online cores,
 * at least 1, at most 8. */
unsigned par_cores(void);

#endif
