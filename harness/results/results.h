/* The results directory of a run (docs/formats.md): its name, the events log
 * (drill actions, route changes, unexpected exits), the merge of the
 * per-vantage probe files into one time-ordered probes.csv and
 * connections.csv, and run.json. */
#ifndef RESULTS_H
#define RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ah/schema.h"

/* "<UTC yyyymmddThhmmssZ>-<name>" for a CLOCK_REALTIME time. Returns 0 or
 * -ENOSPC. */
int results_dir_name(uint64_t realtime_ns, const char *lab_name, char *buf, size_t len);

/* Creates base/<stamp>-<name> (and base itself); if it exists (two runs in
 * one second), appends "-2", "-3", ... Returns 0 with the path in buf. */
int results_make_dir(const char *base, uint64_t realtime_ns, const char *lab_name, char *buf,
                     size_t len);

/* Copies a file byte for byte. Returns 0 or -errno. */
int results_copy_file(const char *from, const char *to);

/* The events log: rows kept in memory and appended (flushed) to events.csv
 * as they come, then rewritten in time order by events_close(). */
struct events;

int events_open(struct events **out, const char *path);
int events_add(struct events *ev, uint64_t ts_ns, const char *event, const char *node,
               const char *detail);
size_t events_count(const struct events *ev);
/* Rewrites the file sorted by ts_ns (stable) and frees. Safe on NULL. */
int events_close(struct events *ev);

/* Merges CSV files that share one header into out, ordered by the numeric
 * column key_col. Each input may be out of order by at most window_ns (rows
 * are written when a probe completes, not when it is sent);
 * window_ns == UINT64_MAX holds everything in memory. Rows further out of
 * order are still written (never lost) and counted in *late. Inputs that do
 * not exist are skipped. A header that differs from the first is an error
 * (-EBADMSG). Returns the number of rows written or a negative errno. When
 * no input exists, out gets the header `header` (may be NULL: no file). */
long results_merge(const char *const *inputs, size_t ninputs, const char *out, size_t key_col,
                   uint64_t window_ns, const char *const *header, size_t ncols,
                   unsigned long *late);

struct lab;
struct drill;

/* What run.json records about a run. */
struct results_run_info {
    const char *lab_name, *lab_file, *run_id, *routing, *status, *kernel;
    int exit_code;
    bool rootless;
    uint64_t start_ns, drill_start_ns, end_ns; /* CLOCK_REALTIME; 0 = never reached */
    const char *const *version_keys;           /* program names ... */
    const char *const *version_vals;           /* ... and their --version lines */
    size_t nversions;
    long probes_rows, connections_rows;
    size_t events_rows;
    const struct lab *lab;     /* for node names of the steps (may be NULL) */
    const struct drill *drill; /* executed steps (may be NULL) */
    uint64_t tolerance_ns;     /* a step that started later than this was late */
    /* How long each part of the startup took (0: not reached): topology
     * built, every responder answering, every probe running. The drill's
     * clock starts after the last. */
    uint64_t topology_ns, responders_ns, probes_ns;
    /* Packet captures (run --pcap), relative to the results directory. */
    const char *const *pcaps;
    size_t npcaps;
    /* The DNS query each probe used: vantage, query, and why (--query auto;
     * "" for an explicit query). */
    const char *const *query_vantages, *const *query_specs, *const *query_whys;
    const char *const *query_targets; /* the address each probe probed */
    size_t nqueries;
};

/* Late steps listed in run.json at most; past it "late_steps_truncated" is
 * true and every expectation tied to a step counts as not measured. */
#define RESULTS_LATE_MAX 1024
/* The largest run.json the report reads (docs/security.md); a larger one
 * is refused whole. */
#define RESULTS_RUN_JSON_READ_MAX (1024 * 1024)

struct json_t;

/* Reads run.json (parsed by ah_json_load_file: at most
 * RESULTS_RUN_JSON_READ_MAX bytes, never through a symlink, no key twice).
 * Returns 0 with *out set (json_decref() it) or a negative errno with the
 * reason, "PATH:LINE:COL: message" for a syntax error, in err. */
int results_run_json_load(const char *path, struct json_t **out, char *err, size_t errlen);

/* Writes run.json. Returns 0 or -errno. */
int results_write_run_json(const char *path, const struct results_run_info *ri);

/* The late steps of a run as run.json records them ("late_steps"), for the
 * report's "not measured" verdicts. */
struct results_late {
    struct json_t *steps;     /* the late_steps array (NULL: none recorded) */
    struct json_t *unreached; /* the unreached_steps array (NULL: none recorded) */
    bool truncated;
    uint64_t tolerance_ns;
};

/* The late steps of a parsed run.json (run: its top-level object). A
 * member that is missing or of another type counts as absent: no late
 * steps, not truncated, tolerance 0. Returns 0. Free with
 * results_late_free. */
int results_late_from_json(const struct json_t *run, struct results_late *out);
/* The same from run.json text (pure; len bytes, NUL not needed). Returns 0,
 * -EBADMSG when the text is not JSON (nothing late then), or -ENOMEM. */
int results_late_parse(const char *json, size_t len, struct results_late *out);
/* The same from the run.json at path (results_run_json_load). A missing file
 * gives an empty list. Returns 0 or a negative errno (nothing late then). */
int results_late_read(const char *path, struct results_late *out);
/* True when step ref ("withdraw ams", "withdraw ams#2") started late (or the
 * list was truncated); *late_ns gets its lateness, or UINT64_MAX if unknown. */
bool results_late_has(const struct results_late *l, const char *ref, uint64_t *late_ns);
/* True when step ref never ran (run.json's unreached_steps). */
bool results_step_unreached(const struct results_late *l, const char *ref);
void results_late_free(struct results_late *l);

/* A vantage's clock as run.json's "hosts" list records it (written by a
 * deployment run, docs/formats.md): offset_ns = vantage clock - controller
 * clock, known to +- uncertainty_ns. */
struct results_clock {
    const char *vantage; /* points into the parsed run.json */
    int64_t offset_ns;
    uint64_t uncertainty_ns;
};
/* Clocks taken from one run.json at most; the rest are ignored. */
#define RESULTS_CLOCKS_MAX 4096

/* The clocks of run's "hosts" entries (run: run.json's top-level object)
 * whose role is "vantage" and that have a string "name" and an integer
 * "offset_ns" ("uncertainty_ns": a non-negative integer, else 0). Other
 * entries (nodes, hosts whose clock was never measured) are skipped. Fills
 * at most cap entries of out and returns how many. */
size_t results_clocks_from_json(const struct json_t *run, struct results_clock *out, size_t cap);

#endif
