/* The clock of a remote host against the controller's: an NTP-style
 * estimate from four-timestamp exchanges, the combination of the estimates
 * taken at the start and at the end of a run, and the rebasing of a remote
 * timestamp onto the controller's clock. Pure arithmetic, no I/O. */
#ifndef HARNESS_RESULTS_CLOCK_ALIGN_H
#define HARNESS_RESULTS_CLOCK_ALIGN_H

#include <stddef.h>
#include <stdint.h>

/* One exchange, CLOCK_REALTIME ns: t1 the controller sends, t2 the remote
 * receives, t3 the remote answers, t4 the controller receives. */
struct clock_sample {
    uint64_t t1, t2, t3, t4;
};

/* offset_ns = remote clock - controller clock; delay_ns is the round trip
 * without the remote's own time; the true offset lies within
 * offset_ns +- uncertainty_ns. */
struct clock_estimate {
    int64_t offset_ns;
    uint64_t delay_ns, uncertainty_ns;
};

/* The estimate of the sample with the smallest delay (its queues were the
 * shortest, so its two directions are the most alike): offset
 * ((t2 - t1) + (t3 - t4)) / 2, delay (t4 - t1) - (t3 - t2), uncertainty
 * delay / 2 rounded up. A sample whose t4 < t1, t3 < t2 or negative delay
 * cannot be true and is skipped. Returns 0, or -EINVAL when no sample is
 * sane (or s/out is NULL). */
int clock_estimate(const struct clock_sample *s, size_t n, struct clock_estimate *out);

/* One estimate for a whole run from those at its start and end: the mean
 * offset, delay the larger, uncertainty the larger of the two plus half the
 * change of offset between them (the drift over the run), rounded up and
 * saturating. Returns 0 or -EINVAL. */
int clock_combine(const struct clock_estimate *start, const struct clock_estimate *end,
                  struct clock_estimate *out);

/* The controller-clock time of a remote timestamp: remote_ts_ns - offset_ns,
 * saturating to 0..INT64_MAX. */
int64_t clock_rebase(uint64_t remote_ts_ns, int64_t offset_ns);

/* The largest offset --clock-offset takes, in ms: a clock at 1970 on a
 * host in 2026 (an unset clock) still fits, and the nanoseconds fit in 64
 * bits. */
#define CLOCK_OFFSET_MAX_MS 9000000000000LL

/* Parses "VANTAGE=[+-]MS" (`anycast-lab report --clock-offset`): the name
 * is everything before the last '=' (1 byte at least, shorter than vlen),
 * MS a decimal number of milliseconds with at most 6 decimals and at most
 * CLOCK_OFFSET_MAX_MS, the vantage clock minus the controller's (a
 * vantage 5 s ahead is "+5000"). Returns 0 with vantage and *offset_ns set,
 * or -EINVAL with the reason in err. */
int clock_offset_parse(const char *spec, char *vantage, size_t vlen, int64_t *offset_ns, char *err,
                       size_t errlen);

#endif
