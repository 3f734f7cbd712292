/* Tearing down what a run left behind, from namespace names and state files
 * alone, without a topology: the policy of what may be removed lives here,
 * persistence in state.h. */
#ifndef TEARDOWN_H
#define TEARDOWN_H

/* Removes every namespace whose name starts with prefix (TOPO_NETNS_PREFIX
 * for all labs, or "ah-lab-<run id>-" for one), after killing every process
 * inside it (found by comparing /proc/PID/ns/net with the namespace file's
 * inode), but skips runs whose owner is alive: a run whose state
 * (state_load(), /run/anycast-lab/<run id>/state) names a live owner other
 * than the calling process. Runs without a state (topo_tool, a run killed
 * before saving it) are removed. Calls report(arg, what) for each namespace
 * and process removed. Returns the number of namespaces removed or -errno. */
int teardown_sweep(const char *prefix, void (*report)(void *arg, const char *what), void *arg);

#endif
