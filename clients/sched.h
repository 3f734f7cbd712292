/* Send-schedule arithmetic for anycast-probe, kept pure so it can be tested
 * without a loop: UDP probe k is due at an absolute deadline computed from the
 * start time (so a long run never drifts), TCP connection slots are spread
 * evenly over one interval, and reconnection back-off grows geometrically. */
#ifndef PROBE_SCHED_H
#define PROBE_SCHED_H

#include <stdint.h>

/* Rates are kept in milli-probes per second so "0.5" and "2500.25" are exact. */
#define SCHED_RATE_SCALE 1000u

/* Parses a rate: a positive decimal with at most three fraction digits and an
 * optional k/M suffix ("100", "0.5", "2.5k", "1M"). Returns 0, -EINVAL or
 * -ERANGE (zero, or more than 10M/s). */
int sched_rate_parse(const char *s, uint64_t *rate_milli);

/* Deadline of probe k (0-based), in the clock start_ns is in. */
uint64_t sched_deadline(uint64_t start_ns, uint64_t rate_milli, uint64_t k);

/* Number of probes due at now_ns: the count of k with deadline(k) <= now_ns
 * (0 before start_ns). */
uint64_t sched_due(uint64_t start_ns, uint64_t rate_milli, uint64_t now_ns);

/* Number of probes a run of duration_ns sends: the count of k with
 * deadline(k) < start + duration. */
uint64_t sched_total(uint64_t rate_milli, uint64_t duration_ns);

/* First tick of connection slot i of n: slots start evenly spread over one
 * interval so n connections at one probe per interval send at a steady rate. */
uint64_t sched_slot_offset(unsigned i, unsigned n, uint64_t interval_ns);

/* The first tick of the grid base + j*interval (j >= 0) that is strictly
 * after now_ns; base itself if now_ns < base. A late tick thus skips the
 * ticks it missed instead of bunching them. */
uint64_t sched_next_tick(uint64_t base_ns, uint64_t interval_ns, uint64_t now_ns);

/* Reconnection back-off after `fails` consecutive failures (fails >= 1):
 * 100 ms doubling up to 10 s. */
uint64_t sched_backoff(unsigned fails);

/* Number of outstanding-probe slots a UDP socket needs for per-socket rate
 * rate_milli and timeout_ns: a power of two with room for 1.5 timeouts of
 * probes, at least 16 and at most 65536 (the DNS id space). */
uint32_t sched_ring_size(uint64_t rate_milli, uint64_t timeout_ns);

#endif
