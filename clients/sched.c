/* Send-schedule arithmetic (see sched.h). 128-bit intermediates keep the
 * deadline of probe k exact for any run length and rate. */
#include "sched.h"

#include <errno.h>
#include <stdbool.h>

#include "ah/clock.h"

#define RATE_MAX   (10000000ull * SCHED_RATE_SCALE)
#define SCALED_SEC ((unsigned __int128)AH_NS_PER_S * SCHED_RATE_SCALE)

int sched_rate_parse(const char *s, uint64_t *rate_milli)
{
    uint64_t v = 0;
    unsigned frac = 0, mult = 1;
    bool digits = false, dot = false;
    const char *p = s;

    for (; *p != '\0'; p++) {
        if (*p >= '0' && *p <= '9') {
            if (dot) {
                if (++frac > 3)
                    return -EINVAL;
            }
            if (v > UINT64_MAX / 100)
                return -ERANGE;
            v = v * 10 + (uint64_t)(*p - '0');
            digits = true;
        } else if (*p == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    if (!digits)
        return -EINVAL;
    if (*p == 'k' || *p == 'K') {
        mult = 1000;
        p++;
    } else if (*p == 'M') {
        mult = 1000000;
        p++;
    }
    if (*p != '\0')
        return -EINVAL;
    for (; frac < 3; frac++)
        v *= 10;
    if (v > RATE_MAX / mult)
        return -ERANGE;
    v *= mult;
    if (v == 0)
        return -ERANGE;
    *rate_milli = v;
    return 0;
}

uint64_t sched_deadline(uint64_t start_ns, uint64_t rate_milli, uint64_t k)
{
    return start_ns + (uint64_t)((unsigned __int128)k * SCALED_SEC / rate_milli);
}

uint64_t sched_due(uint64_t start_ns, uint64_t rate_milli, uint64_t now_ns)
{
    /* deadline(k) <= now  <=>  k * S / r < d + 1  <=>  k < (d + 1) * r / S,
     * with d = now - start and S one second in scaled units; the count of
     * such k is ceil((d + 1) * r / S). */
    if (now_ns < start_ns)
        return 0;
    unsigned __int128 x = (unsigned __int128)(now_ns - start_ns + 1) * rate_milli;
    return (uint64_t)((x + SCALED_SEC - 1) / SCALED_SEC);
}

uint64_t sched_total(uint64_t rate_milli, uint64_t duration_ns)
{
    if (duration_ns == 0)
        return 0;
    return sched_due(0, rate_milli, duration_ns - 1);
}

uint64_t sched_slot_offset(unsigned i, unsigned n, uint64_t interval_ns)
{
    if (n == 0)
        return 0;
    return (uint64_t)((unsigned __int128)interval_ns * i / n);
}

uint64_t sched_next_tick(uint64_t base_ns, uint64_t interval_ns, uint64_t now_ns)
{
    if (now_ns < base_ns || interval_ns == 0)
        return now_ns < base_ns ? base_ns : now_ns;
    return base_ns + ((now_ns - base_ns) / interval_ns + 1) * interval_ns;
}

uint64_t sched_backoff(unsigned fails)
{
    const uint64_t first = 100000000ull, cap = 10 * AH_NS_PER_S;
    uint64_t d = first;

    for (unsigned i = 1; i < fails && d < cap; i++)
        d *= 2;
    return d < cap ? d : cap;
}

uint32_t sched_ring_size(uint64_t rate_milli, uint64_t timeout_ns)
{
    unsigned __int128 need =
        (unsigned __int128)rate_milli * (timeout_ns + timeout_ns / 2) / SCALED_SEC + 16;
    uint32_t n = 16;

    while (n < 65536 && n < need)
        n *= 2;
    return n;
}
