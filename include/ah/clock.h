/* The two clocks every measurement uses: CLOCK_REALTIME nanoseconds for
 * timestamps written to files and CLOCK_MONOTONIC nanoseconds for intervals. */
#ifndef AH_CLOCK_H
#define AH_CLOCK_H

#include <stdint.h>

/* The one definition of the time units; every duration in the project is an
 * integer count of nanoseconds. */
#define AH_NS_PER_US 1000ULL
#define AH_NS_PER_MS 1000000ULL
#define AH_NS_PER_S  1000000000ULL

uint64_t ah_clock_realtime_ns(void);
uint64_t ah_clock_mono_ns(void);

/* Formats a CLOCK_REALTIME ns value as UTC "yyyymmddThhmmssZ" (the results
 * directory stamp of docs/formats.md); buf needs 17 bytes. Returns 0 or -ENOSPC. */
int ah_clock_format_stamp(uint64_t realtime_ns, char *buf, unsigned long len);

#endif
