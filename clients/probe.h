/* Shared state of one anycast-probe run: the parsed options, the run context
 * every I/O module works on (loop, clocks, counters, stop/drain state), and
 * the entry points of the modules (udp.c, tcp.c, record.c, progress.c,
 * summary.c, run.c). */
#ifndef PROBE_H
#define PROBE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "ah/addr.h"
#include "ah/ident.h"
#include "ah/schema.h"
#include "ah/stats.h"

/* One vantage of a multi-vantage run (--vantage NAME@NETNS, fleet.c): its
 * name for the rows and its network namespace, where its sockets are
 * opened. */
struct fleet_member {
    char name[64];
    char *netns; /* the namespace file, e.g. /run/netns/NAME */
    char *out;   /* its output directory (--vantages), or NULL: --out DIR/NAME */
    int fd;      /* open on netns while the run lasts, else -1 */
};

#define FLEET_MEMBERS_MAX 4096

enum tcp_mode { TCP_PERSISTENT = 0, TCP_PER_QUERY };
enum reconnect_mode { RECONNECT_IMMEDIATE = 0, RECONNECT_BACKOFF, RECONNECT_NEVER };

struct probe_opts {
    struct ah_addr target; /* port unset; set per service */
    char target_text[AH_ADDR_STRLEN];
    bool has_source;
    struct ah_addr source;
    bool service[AH_SVC_COUNT];
    bool transport[AH_TR_COUNT];
    uint16_t port[AH_SVC_COUNT];
    struct ah_ident_query query;
    bool query_auto;      /* --query auto (the default): query_pick() chooses */
    char query_spec[280]; /* the query as given or chosen, e.g. "nsid:./SOA" */
    char query_why[160];  /* auto: what each candidate's burst got */
    uint64_t rate_milli;  /* UDP probes per second in total, x1000 */
    unsigned flows;       /* UDP flows (sockets) per service */
    uint64_t timeout_ns;  /* per probe and per connect */
    unsigned connections; /* TCP connections per service */
    uint64_t interval_ns; /* TCP probe interval per connection */
    enum tcp_mode tcp_mode;
    uint64_t tcp_user_timeout_ns; /* 0: kernel default */
    enum reconnect_mode reconnect;
    uint64_t duration_ns; /* 0: until count or signal */
    uint64_t count;       /* probes per transport; 0: unlimited */
    const char *out_dir;
    char vantage[64];
    const char *summary_json;
    bool once;
    int progress;     /* -1 auto, 0 never, 1 always */
    int ready_fd;     /* -1, or written one byte and closed once probing started */
    bool clock_echo;  /* --clock-echo: answer clock exchanges on stdin, probe nothing */
    bool quiet;       /* --quiet: no summary, errors only */
    double max_loss;  /* --max-loss PCT: exit 1 above it; < 0: none */
    bool has_metrics; /* --metrics ADDR:PORT: serve the statistics over HTTP */
    struct ah_addr metrics;
    bool timestamps_kernel;       /* --timestamps kernel (default): UDP RTT from kernel stamps */
    bool udp_gro;                 /* UDP GRO on the flow sockets (default; --no-udp-gro: off) */
    struct fleet_member *members; /* --vantage NAME@NETNS, in order given */
    size_t nmembers;
};

/* Parses argv. Returns 0 to run, 1 when --help/--version printed (exit 0),
 * or -EINVAL after printing a usage error (exit 2). */
int opts_parse(int argc, char **argv, struct probe_opts *o);

struct udp_engine;
struct tcp_engine;
struct prom_http;
struct record;

struct probe_ctx {
    uv_loop_t *loop;
    const struct probe_opts *o;
    struct record *rec;
    struct udp_engine *udp;
    struct tcp_engine *tcp;
    uint64_t start_mono, start_real;
    uint64_t end_mono;    /* start + duration, or UINT64_MAX */
    bool stopping;        /* no new probes */
    bool finishing;       /* handles are being closed */
    uint64_t outstanding; /* probes sent or pending without a result */
    uint64_t sent[AH_TR_COUNT];
    bool done_sending[AH_TR_COUNT];
    unsigned tcp_up, tcp_broken;
    /* UDP answers whose RTT came from kernel stamps, and (with kernel stamps
     * asked for) from a user-space clock because a stamp was missing. */
    uint64_t ts_kernel[AH_SVC_COUNT], ts_user[AH_SVC_COUNT];
    int exit_code;
    uv_timer_t house; /* flush, progress, duration end, drain guard */
    uv_signal_t sig[2];
    uint64_t drain_deadline;
    bool progress_on;
    struct prom_http *metrics;     /* --metrics: the HTTP endpoint, else NULL */
    bool query_noted[AH_TR_COUNT]; /* the first DNS row named the auto query */
    /* A multi-vantage run: this vantage, and the process's own namespace to
     * return to; NULL otherwise. */
    const struct fleet_member *member;
    int home_fd;
};

/* Probe identity for the rows: "conn" is the UDP source port or the TCP
 * connection id, "seq" counts from 1 within it. */
struct probe_row {
    enum ah_transport transport;
    enum ah_service service;
    uint64_t conn;
    uint64_t seq;
    uint64_t ts_ns;  /* CLOCK_REALTIME at send (UDP: the kernel's transmit stamp if any) */
    uint64_t rtt_ns; /* valid for ok */
    enum ah_result result;
    const char *node;   /* NULL or "" if none */
    const char *detail; /* NULL or "" if none */
};

struct conn_row {
    uint64_t conn;
    enum ah_service service;
    uint64_t opened_ns, closed_ns;
    const char *node;
    enum ah_reason reason;
    uint64_t probes_ok, probes_failed;
};

/* record.c: CSV files (when --out) and the per-group statistics. */
int record_open(struct probe_ctx *ctx);
void record_probe(struct probe_ctx *ctx, const struct probe_row *r);
void record_conn_opened(struct probe_ctx *ctx, enum ah_service s);
void record_conn(struct probe_ctx *ctx, const struct conn_row *c);
int record_flush(struct probe_ctx *ctx);
int record_close(struct probe_ctx *ctx);
struct ah_group_stats *record_group(struct probe_ctx *ctx, enum ah_transport t, enum ah_service s);
/* The detail (errno name, rcode, reason) of the group's last failed probe, or
 * "" if none had one. */
const char *record_last_detail(struct probe_ctx *ctx, enum ah_transport t, enum ah_service s);

/* udp.c / tcp.c: engines. start() creates the handles, stop_sending() ends
 * the schedule, finish() times out what is left and closes every handle. */
int udp_start(struct probe_ctx *ctx);
void udp_stop_sending(struct probe_ctx *ctx);
void udp_finish(struct probe_ctx *ctx);
int tcp_start(struct probe_ctx *ctx);
void tcp_stop_sending(struct probe_ctx *ctx);
void tcp_finish(struct probe_ctx *ctx);

/* run.c: the run's life cycle. run_probe() is run_begin(), signals
 * unblocked, the ready byte, the loop, run_end(); a multi-vantage run
 * (fleet.c) calls the parts itself, run_begin() once per vantage. */
int run_probe(struct probe_ctx *ctx);
/* Arms the house timer and signal handles and starts the engines; on error
 * the context is already finishing (its handles closing). */
int run_begin(struct probe_ctx *ctx);
/* Unblocks SIGINT and SIGTERM, which main() blocked until the handlers of
 * run_begin() were in place. */
void run_unblock_signals(void);
/* After the loop: the last metrics and progress. */
void run_end(struct probe_ctx *ctx);
/* Called by the engines: a transport has sent all it will send. */
void run_done_sending(struct probe_ctx *ctx, enum ah_transport t);
/* Called after each result: finishes the run once stopping and idle. */
void run_check_idle(struct probe_ctx *ctx);
/* Requests the end of sending (duration over, count reached, signal). */
void run_stop(struct probe_ctx *ctx);

/* query_pick.c: --query auto. Sends each candidate's burst to the target
 * over UDP before the run and sets o->query, query_spec and query_why to the
 * choice. Returns 0 (an unreachable target keeps the first candidate) or a
 * negative errno. */
int query_pick(struct probe_opts *o);
/* The detail column of row p: with --query auto the first DNS row of each
 * transport also names the query ("query=auto:SPEC", after the detail and a
 * blank when there is one), written into buf; else p's detail or NULL. */
const char *query_row_detail(struct probe_ctx *ctx, const struct probe_row *p, char *buf,
                             size_t cap);

/* clock_echo.c: --clock-echo. Answers each line read from in_fd with
 * "T2 T3\n" on out_fd (CLOCK_REALTIME ns when the line was read and just
 * before the answer is written), until end of file. Returns 0 at end of file
 * or a negative errno. */
int clock_echo_run(int in_fd, int out_fd);

/* fleet.c: several vantages in one process (--vantage NAME@NETNS). */
/* Parses "NAME@NETNS" into m (fd -1, netns allocated): NAME 1..63 bytes,
 * neither "." nor ".." and without '/' (it names a directory under --out),
 * NETNS an absolute path. Returns 0 or -EINVAL (-ENOMEM) with err set. */
int fleet_member_parse(const char *val, struct fleet_member *m, char *err, size_t errlen);
/* Parses val as fleet_member_parse does and appends it to o->members (at
 * most FLEET_MEMBERS_MAX). */
int fleet_member_add(struct probe_opts *o, const char *val, char *err, size_t errlen);
/* --vantages FILE: one NAME@NETNS a line, optionally followed by a tab
 * and the vantage's output directory; blank lines and lines starting with
 * '#' skipped; each appended with fleet_member_add. Returns 0 or a negative
 * errno with err naming the line. */
int fleet_members_read(FILE *f, struct probe_opts *o, char *err, size_t errlen);
/* Runs every member of o on one loop; returns the exit status. */
int fleet_run(struct probe_opts *o);
/* Around opening a socket: enter the context's vantage namespace and
 * return to the process's own (no-ops outside a multi-vantage run).
 * Returns 0 or a negative errno. */
int fleet_enter(const struct probe_ctx *ctx);
void fleet_leave(const struct probe_ctx *ctx);

/* progress.c */
void progress_update(struct probe_ctx *ctx, bool final);

/* summary.c. Identities are server-sent bytes: the text summary shows them
 * escaped for a terminal (ah_esc_term), the JSON as ah_json_str. */
void summary_print(struct probe_ctx *ctx, FILE *f);
/* Writes the summary as JSON to path, or to stdout for "-". */
int summary_write_json(struct probe_ctx *ctx, const char *path);
/* The groups whose loss is above --max-loss, each named in one error line.
 * Returns how many. */
unsigned summary_check_loss(struct probe_ctx *ctx);
/* Writes s as a JSON string that is always valid JSON in UTF-8: '"' and '\\'
 * escaped, every byte below 0x20 and DEL as \u00XX, valid UTF-8 kept as it
 * is, and each byte that is not part of valid UTF-8 (stray continuation
 * bytes, overlong forms, surrogates, past U+10FFFF, cut sequences) as
 * \ufffd, the replacement character. The exact bytes are in probes.csv. */

#endif
