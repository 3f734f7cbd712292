/* The measurement clocks: CLOCK_REALTIME for timestamps written to results
 * files, CLOCK_MONOTONIC for intervals, and the UTC stamp used to name a run's
 * results directory. */
#include "ah/clock.h"

#include <errno.h>
#include <time.h>

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    /* clock_gettime cannot fail for these two clocks on Linux. */
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t ah_clock_realtime_ns(void)
{
    return clock_ns(CLOCK_REALTIME);
}

uint64_t ah_clock_mono_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

int ah_clock_format_stamp(uint64_t realtime_ns, char *buf, unsigned long len)
{
    if (buf == NULL || len < 17)
        return -ENOSPC;
    time_t secs = (time_t)(realtime_ns / 1000000000u);
    struct tm tm;
    /* UINT64_MAX ns is in the year 2554, so the year always has four digits. */
    if (gmtime_r(&secs, &tm) == NULL)
        return -EOVERFLOW;
    if (strftime(buf, len, "%Y%m%dT%H%M%SZ", &tm) != 16)
        return -ENOSPC;
    return 0;
}
