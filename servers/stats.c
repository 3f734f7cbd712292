/* Summing and formatting of the responder's per-worker counters; the stats
 * line is the reply to the control command "stats" and the SIGUSR1 log. */
#include "stats.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

static const char *const counter_names[ST_COUNT] = {
    "requests", "answers", "refused",  "formerr", "dropped",    "overlong",    "coalesced",
    "open",     "total",   "rejected", "evicted", "io_timeout", "over_budget", "write_timeout",
};

void stats_accumulate(struct stats *dst, const struct stats *src)
{
    for (int t = 0; t < AH_TR_COUNT; t++)
        for (int s = 0; s < AH_SVC_COUNT; s++)
            for (int c = 0; c < ST_COUNT; c++)
                stats_add(dst, t, s, c, (int64_t)stats_get(src, t, s, c));
}

static bool counter_applies(int t, int s, int c)
{
    if (c == ST_OVERLONG)
        return s == AH_SVC_ECHO;
    if (c == ST_COALESCED)
        return t == AH_TR_UDP;
    if (c == ST_REFUSED || c == ST_FORMERR)
        return s == AH_SVC_DNS;
    if (c >= ST_TCP_OPEN)
        return t == AH_TR_TCP;
    return true;
}

int stats_format(const struct stats *st, char *buf, size_t len)
{
    size_t off = 0;
    if (len == 0)
        return -ENOSPC;
    buf[0] = '\0';
    for (int t = 0; t < AH_TR_COUNT; t++) {
        for (int s = 0; s < AH_SVC_COUNT; s++) {
            for (int c = 0; c < ST_COUNT; c++) {
                if (!counter_applies(t, s, c))
                    continue;
                int n = snprintf(buf + off, len - off, "%s%s_%s_%s=%llu", off ? " " : "",
                                 ah_transport_name((enum ah_transport)t),
                                 ah_service_name((enum ah_service)s), counter_names[c],
                                 (unsigned long long)stats_get(st, t, s, c));
                if (n < 0 || (size_t)n >= len - off)
                    return -ENOSPC;
                off += (size_t)n;
            }
        }
    }
    return (int)off;
}
