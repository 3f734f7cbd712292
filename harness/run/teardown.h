/* Tearing down labs from namespace names and state files alone, without a
 * topology: the policy of what may be killed and removed (`down`, `clean`,
 * and what a killed run left behind) lives here; persistence is state.h,
 * which this module calls and which never calls it. */
#ifndef TEARDOWN_H
#define TEARDOWN_H

#include <stdbool.h>

#include "state.h"

/* Called with one line per thing removed ("namespace ah-lab-...", "process
 * bird (pid 42) in ah-lab-...", ...). */
typedef void (*teardown_report_fn)(void *arg, const char *what);

/* Removes every namespace whose name starts with prefix (TOPO_NETNS_PREFIX
 * for all labs, or "ah-lab-<run id>-" for one), after killing every process
 * inside it (found by comparing /proc/PID/ns/net with the namespace file's
 * inode), but skips runs whose owner is alive: a run whose state
 * (state_load(), /run/anycast-lab/<run id>/state) names a live owner other
 * than the calling process. Runs without a state (topo_tool, a run killed
 * before saving it) are removed. Calls report(arg, what) for each namespace
 * and process removed. Returns the number of namespaces removed or -errno. */
int teardown_sweep(const char *prefix, teardown_report_fn report, void *arg);

/* `anycast-lab down`: takes down a lab from its state: stops its recorded
 * processes (SIGTERM, a second, then SIGKILL; only while they are still
 * inside one of the lab's namespaces, so a reused pid is safe), kills
 * whatever else runs in its namespaces, removes them and its state
 * directory, calling report for each. A state that fails state_check is
 * refused (-EINVAL, logged). */
int teardown_lab(const struct state *s, teardown_report_fn report, void *arg);

/* `anycast-lab clean`: every run whose owner is dead (and, with all, labs
 * left up), plus namespaces with the lab prefix that no live run owns. With
 * only (a run id or lab name), just that lab. Returns the number of labs
 * taken down. */
int teardown_clean(bool all, const char *only, teardown_report_fn report, void *arg);

#endif
