/* Internals of `anycast-lab run` shared by run.c (orchestration and the
 * drill), run_responders.c and run_probes.c (the processes) and
 * run_collect.c (results and the per-event table). */
#ifndef RUN_INT_H
#define RUN_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "harness/lab/drill.h"
#include "harness/lab/lab.h"
#include "harness/sys/proc.h"
#include "responders.h"
#include "harness/results/results.h"
#include "harness/routing/routing.h"
#include "run.h"
#include "state.h"
#include "harness/topo/topo.h"
#include "ah/clock.h"

/* The lab process's nice value (its children keep 0): the drill's clock is
 * scheduled before the probes and responders it times. */
#define RUN_NICE -10

struct probe_proc {
    /* With several vantages per process (probes: vantages-per-process) the
     * group's first vantage holds the process; the others' pid stays 0 and
     * their log is the group's. */
    struct proc p;
    size_t vantage;
    char outdir[PATH_MAX];
    char log[PATH_MAX];
    /* The DNS query the probe used and, under --query auto, why (from its
     * --summary-json, for run.json); "" when unknown. */
    char query[280];
    char query_why[160];
    char query_target[64]; /* the address it probed, from the same file */
};

/* A probe's command line, built in a fixed store; the first error (no room)
 * is kept and every later argument ignored. */

struct deploy;
struct run_drill_out;

struct run {
    const struct run_opts *o;
    struct lab *lab;
    struct topo *topo;
    char runid[STATE_ID_MAX];
    char rundir[512];
    char resdir[1000]; /* as the user gave it, for messages */
    char resabs[1000]; /* absolute: children work in another directory */
    char logdir[1024];
    struct state st;
    struct events *ev;
    struct run_drill_out *drill_out; /* `drill` on a lab that is up: its rows */
    struct proc *resp;
    struct resp_launch *launch;
    char (*resp_log)[PATH_MAX];
    struct probe_proc *probes;
    size_t nprobes;
    struct drill drill;
    struct routing *routing; /* routing: tracked / bgp, else NULL */
    int sigfd, tfd;
    int ready_fd, ready_wfd;                /* the probes' start barrier (-1: closed) */
    uint64_t probes_start, probes_deadline; /* mono ns: --ready-timeout from the first fork */
    int *mon;                               /* one route monitor per vantage */
    size_t nmon;
    uint64_t t0_mono, t0_real, start_real, end_real;
    uint64_t topology_ns, responders_ns, probes_ns; /* startup, for run.json */
    uint64_t down_start;                            /* mono: the teardown began */
    int interrupted;
    bool failed;
    char status[512];
    long probes_rows, connections_rows; /* merged rows, -1 if the merge failed */
    struct deploy *dep;                 /* kind: deployment (deploy.c), else NULL */
    bool stop;                          /* on-failure: stop after a failed step */
    size_t events_rows;
    struct proc *pcap;             /* --pcap: one tcpdump per vantage, else NULL */
    struct run_progress *progress; /* the live line on a terminal, else NULL */
};

/* (run_pcap.c) --pcap: one tcpdump per vantage, at most this many vantages
 * (each capture is a process and a file written as fast as the probes go). */
#define RUN_PCAP_VANTAGES_MAX 64
#define RUN_PCAP_NAME_MAX     (LAB_NAME_MAX + 16)
/* Starts the captures and waits until each is open. Returns 0 (also
 * without --pcap) or a negative errno (the run has failed). */
int run_pcap_start(struct run *r);
/* Stops the captures, each file complete. */
void run_pcap_stop(struct run *r);
/* The capture files written, relative to the results ("pcap/eu.pcap"), for
 * run.json. Returns how many (at most cap). */
size_t run_pcap_files(const struct run *r, char (*files)[RUN_PCAP_NAME_MAX], size_t cap);

/* (run_progress.c) The live progress line during the drill: only on a
 * terminal, without CI set and without -q (ah_log_live). start
 * after the probes started (0 or -ENOMEM; off is not an error); due is the
 * drill clock of the next redraw (UINT64_MAX: off); tick redraws when due;
 * end clears the line and frees. */
int run_progress_start(struct run *r);
uint64_t run_progress_due(const struct run *r);
void run_progress_tick(struct run *r, uint64_t now);
void run_progress_end(struct run *r);

/* Records the first failure as the run's status and logs it. */
void run_fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends an events.csv row (ts 0: now). */
void run_event(struct run *r, uint64_t ts, const char *event, const char *node, const char *detail);
/* Logs the last lines of a process's log file, where its own error is. */
void run_log_tail(const char *path);

/* Reads pending signals (SIGCHLD reaps the children, SIGINT/SIGTERM/SIGHUP
 * interrupt the run); returns true when the run was interrupted. */
bool run_poll_signals(struct run *r);

/* (run_responders.c) Node i's responder command line (r->launch[i]) and
 * log path (r->resp_log[i]), the same for every process that asks: the
 * lab, its topology and the run directory decide them. Returns 0 or a
 * negative errno. */
int run_prepare_responder(struct run *r, size_t i);
/* Starts node i's responder in its namespace. Returns 0
 * or a negative errno (logged). */
int run_spawn_responder(struct run *r, size_t i);
/* Prepares and starts every node's responder and records their pids in the
 * state file. Returns 0 or a negative errno (the run has failed). */
int run_start_responders(struct run *r);
/* Waits until every node answers each probed service on each anycast
 * address (--ready-timeout). Returns 0, -EINTR when interrupted, or another
 * negative errno (the run has failed). */
int run_wait_ready(struct run *r);
/* Stops every responder: SIGTERM to all, then up to 2 s, then SIGKILL. */
void run_stop_responders(struct run *r);

/* Starts every probe; each reports on r->ready_fd once it probes. Returns 0
 * or a negative errno (the run has failed). */
int run_start_probes(struct run *r);
/* The start barrier: waits until every probe has said it probes, so that
 * the drill's clock starts with the measurement. Returns 0, -EINTR when
 * interrupted, or another negative errno (the run has failed). */
int run_wait_probes(struct run *r);
void run_stop_probes(struct run *r);
/* (run_probes.c) The lab's probe settings as anycast-probe options. */
void run_probe_args(const struct run *r, struct proc_argv *a, bool udp, bool tcp);

/* One probe process of a vantage: its target (an anycast address index),
 * its transports, and the tag that tells its files and name apart from the
 * vantage's others ("", "udp", "ipv6", "ipv6-udp", "ipv4-2": the family
 * when several addresses are probed, the transport when they are split). */
struct run_probe_plan {
    size_t addr;
    bool udp, tcp;
    char tag[32];
};
#define RUN_PROBES_PER_VANTAGE (2 * LAB_ANYCAST_MAX)
/* The probe processes every vantage runs, into out (room for
 * RUN_PROBES_PER_VANTAGE); returns how many. */
size_t run_probe_plan(const struct lab *lab, struct run_probe_plan *out);
/* From the probes' start to the drill's end (on), and after (off): the lab
 * process in the real-time class at RUN_LAB_RT_PRIO (the lowest: above every
 * normal process, below the kernel's own real-time threads), not inherited
 * by what it starts; where that is refused it stays at RUN_NICE. */
#define RUN_LAB_RT_PRIO 1
void run_lab_priority(bool on);
/* (run_drill.c) The drill's poll loop, until the lab's duration. */
void run_drill_loop(struct run *r);
/* (run_drill.c) One drill step: its action by verb (the routing, the topology or
 * the responder), a failure logged and made the run's, and its events.csv
 * row. Scripted drills and `anycast-lab drill` both go through it. Returns
 * 0 or the action's negative errno; *ack (0 on entry) gets the
 * acknowledgement's CLOCK_REALTIME ns and detail the row's detail. */
int run_step(struct run *r, struct drill_step *s, uint64_t *ack, char *detail, size_t dlen);
/* (run_drill.c) The route changes the monitors have read since, as `route` rows. */
void run_route_rows(struct run *r);
/* Before the drill (run_drill.c): events.csv's initial route row per
 * router, and the routing mode's own process (tracked checks, BIRD). */
void run_record_initial_routes(struct run *r);
int run_start_routing(struct run *r);
/* (run_drill_cmd.c) An events.csv row of `anycast-lab drill`: appended to
 * the up lab's events.csv and printed. */
void run_drill_row(struct run_drill_out *o, uint64_t ts, const char *event, const char *node,
                   const char *detail);

/* Merges the probe files, closes events.csv, writes run.json. */
void run_collect(struct run *r, int exit_code);
/* (Re)writes run.json with the final exit status, which the report (it reads
 * run.json's times) can still change by a failed expectation. */
void run_write_info(struct run *r, int exit_code);
void run_print_table(struct run *r);

#endif
