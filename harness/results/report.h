/* The report of a run (docs/formats.md): summary.csv, summary.json (with the
 * expectation verdicts, the resolution of the time figures and the ground
 * truth check) and report.html with its plots, recomputed from the results
 * CSVs in bounded memory. Used at the end of `anycast-lab run` and by
 * `anycast-lab report`. */
#ifndef REPORT_H
#define REPORT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lab;

/* A vantage's clock offset given by hand (`report --clock-offset`): the
 * vantage clock minus the controller's (or the reference clock's). */
struct report_clock {
    const char *vantage;
    int64_t offset_ns;
};

struct report_opts {
    /* Inputs when not taken from a run directory. */
    const char *const *probes;
    size_t nprobes;
    const char *const *connections;
    size_t nconnections;
    const char *events;   /* NULL: no events */
    const char *run_json; /* NULL: the run window comes from the data */
    const char *out_dir;  /* NULL: the run directory */
    /* How far probes.csv rows may be out of send-time order (rows are
     * written when a probe completes). 0 for files already merged. */
    uint64_t reorder_window_ns;
    bool print_table; /* the verdict table on stdout */
    /* Offsets that replace run.json's for their vantages (uncertainty 0:
     * the user vouches for them); a vantage without rows is an error. */
    const struct report_clock *clocks;
    size_t nclocks;
    /* A run directory whose summary rows `baseline-run` expectations
     * compare with (NULL: none; such an expectation is then bad usage). */
    const char *baseline;
    const char *junit; /* JUnit XML of the verdicts written there ("-": stdout) */
};

/* report_build's return for bad usage, already logged: an expectation says
 * baseline-run without opts->baseline, or the baseline has no summary.csv. */
#define REPORT_USAGE (-EDOM)

/* Builds the report. With run_dir, the inputs are its probes.csv,
 * connections.csv, events.csv and run.json, and the outputs go there; lab
 * (may be NULL) supplies the settings and the expectations, else the run
 * directory's lab.yaml is loaded if present. Returns the number of failed
 * and not measured expectations (0 when all passed or there are none; not
 * measured: tied to a drill step run.json lists as late), or a negative errno
 * when the report could not be made. */
int report_build(const char *run_dir, const struct lab *lab, const struct report_opts *opts);

/* True when dir holds a run's results: probes.csv, or the per-vantage files
 * (probes-VANTAGE/probes.csv) of a run killed before it merged them. */
bool report_is_run_dir(const char *dir);

/* What a results CSV holds, told by its header (REPORT_FILE_NONE when the
 * file is unreadable or its header is unknown). */
enum report_file_kind {
    REPORT_FILE_NONE = -1,
    REPORT_FILE_PROBES,
    REPORT_FILE_CONNECTIONS,
    REPORT_FILE_EVENTS,
};
int report_file_kind(const char *path);

#endif
