/* Internals of a deployment run shared by deploy.c (masters, preflight,
 * drill steps, dry run), deploy_probes.c (the remote probes), deploy_clock.c
 * (clock offsets) and deploy_json.c (run.json's hosts). */
#ifndef DEPLOY_INT_H
#define DEPLOY_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "deploy.h"
#include "harness/lab/lab.h"
#include "harness/sys/ssh.h"

#define DEPLOY_CMDS_MAX 256 /* commands recorded per host in run.json */
/* After a step's deadline or a Ctrl-C: how long its host has to end the
 * command's process group (TERM, KILL 2 s later) and say so. */
#define DEPLOY_STEP_GRACE (5 * AH_NS_PER_S)
#define DEPLOY_CLOCK_N    8 /* exchanges per clock measurement */

struct deploy_clock {
    bool ok;
    int64_t offset_ns; /* remote - controller */
    uint64_t uncertainty_ns;
};

struct deploy_host {
    const char *name;
    bool vantage;
    const struct lab_host *host;
    const char *probe; /* vantage: the remote anycast-probe command */
    int master_of;     /* index of the host whose master this one shares, or -1 */
    struct ssh_child master;
    int log_fd;
    char log[PATH_MAX];
    char probe_version[128];
    struct deploy_clock clock[2]; /* at start, at end */
    struct deploy_clock combined;
    char *cmds[DEPLOY_CMDS_MAX];
    size_t ncmds;
};

/* A remote probe session, parallel to run->probes: its host, the ends of
 * its stdin and stdout, the remote directory the probe writes into. */
struct deploy_sess {
    size_t host;
    int in, out;
    char dir[256];
    size_t got; /* bytes of the directory's name read so far */
    bool named; /* its line is complete */
    bool ready; /* the probe's ready byte came */
};

struct deploy {
    struct deploy_host *h; /* nodes first, then vantages */
    size_t n;
    struct deploy_sess *sess; /* 2 per vantage at most */
    struct ssh_conf conf;
    struct ssh_stop stop; /* fd -1: commands run to their end (or deadline) */
    char ctl_dir[PATH_MAX];
    bool dry;
    char local_version[128];
};

/* Builds the ssh argv for host i (a: the caller's store); in a dry run it
 * prints it too. Returns 0 or a negative errno. */
int deploy_cmd(struct deploy *d, size_t i, enum ssh_mode mode, const char *remote,
               struct proc_argv *a);
/* Runs remote on host i through its master; the result in res. Returns 0
 * when it ran and exited 0, -EREMOTEIO when it exited otherwise, or another
 * negative errno. */
int deploy_remote_run(struct deploy *d, size_t i, const char *remote, uint64_t timeout,
                      struct ssh_result *res);
/* Records the remote command run on host i (for run.json). */
void deploy_note(struct deploy *d, size_t i, const char *remote);

/* (deploy_probes.c) The remote command of vantage host h's probe session
 * for one of its probes (struct run_probe_plan, run_int.h). */
struct run_probe_plan;
int deploy_probe_remote(const struct run *r, const struct deploy_host *h, size_t vantage,
                        const struct run_probe_plan *plan, char *buf, size_t len);
/* Starts every vantage's probe and waits for each to say it probes.
 * Returns 0 or a negative errno (run_fail'ed). */
int deploy_start_probes(struct run *r);
/* Ends every probe session (stdin closed: the remote probe gets SIGTERM and
 * writes its rows), then fetches the rows into probes-<vantage>/. */
void deploy_stop_probes(struct run *r);

/* (deploy_clock.c) Measures vantage host i's clock offset (which: 0 at
 * start, 1 at end) with `probe --clock-echo`. Returns 0 or a negative
 * errno. */
int deploy_clock_measure(struct deploy *d, size_t i, int which);
/* Combines start and end into h->combined. */
void deploy_clock_finish(struct deploy_host *h);

#endif
