/* The controller's half of the clock exchange with `anycast-probe
 * --clock-echo` on a remote host, over any pair of descriptors (an ssh
 * session's stdin and stdout, or pipes to a local child). */
#ifndef HARNESS_RUN_CLOCK_EXCHANGE_H
#define HARNESS_RUN_CLOCK_EXCHANGE_H

#include <stdint.h>

#include "harness/results/clock_align.h"

/* The longest answer line accepted, "T2 T3\n" with two 20-digit numbers. */
#define CLOCK_EXCHANGE_LINE_MAX 64

/* Runs n exchanges one after the other: writes a line to to_fd (t1 just
 * before), reads one "T2 T3" line from from_fd (t4 as it arrives) and fills
 * out[i]. Each exchange may take at most timeout_ns. Returns 0 with n
 * samples, or -ETIMEDOUT, -EPIPE (the remote closed its output), -EPROTO
 * (an answer that is not two decimal numbers) or another negative errno of
 * write/read/poll; out[] then holds the samples taken before the failure.
 * SIGPIPE must be ignored (anycast-lab does), or a remote that went away
 * kills the caller instead. Feed the samples to clock_estimate(). */
int clock_exchange(int to_fd, int from_fd, unsigned n, uint64_t timeout_ns,
                   struct clock_sample *out);

#endif
