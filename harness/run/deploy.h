/* `anycast-lab run` for kind: deployment (docs/deployment.md): the drill on
 * real hosts over OpenSSH. The run's results directory, events, drill loop,
 * collection and report are the lab run's (run.c); this module brings the
 * hosts in: one ControlMaster per host, the preflight, the clock offsets,
 * the remote probes and the drill's commands. */
#ifndef DEPLOY_H
#define DEPLOY_H

#include <stddef.h>
#include <stdint.h>

struct run;
struct drill_step;
struct lab;
struct deploy;

/* Prints every ssh command line a run of lab would run, in order, and
 * touches nothing. Returns the exit status (0). */
int deploy_dry_run(const struct lab *lab, uint64_t ready_timeout_ns);

/* Masters up, preflight, clock at start, the probes on every vantage, the
 * drill (run.c's loop, which calls deploy_step), the probes stopped and
 * their rows fetched into results/<run>/probes-<vantage>/, clock at end,
 * masters down. Failures go to run_fail; returns 0 or a negative errno. */
int deploy_play(struct run *r);

/* One drill step: the node's action (or the run: command) on its host
 * through its master. A non-zero exit is -EREMOTEIO, its status and
 * stderr's last line in detail. */
int deploy_step(struct run *r, struct drill_step *s, uint64_t *ack, char *detail, size_t dlen);

/* Adds "hosts" (every host: role, destination, probe version, clock offset
 * and uncertainty, the commands run) to the run.json at path. */
void deploy_write_hosts(const struct deploy *d, const char *path);

void deploy_free(struct deploy *d);

#endif
