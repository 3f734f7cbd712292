/* The probe's statistics in the Prometheus text exposition format (0.0.4),
 * for `anycast-probe --metrics`: a pure function from the per (transport,
 * service) statistics to text, tested without sockets (docs/anycast-probe.md,
 * "Metrics endpoint"). */
#ifndef PROM_H
#define PROM_H

#include <stdbool.h>
#include <stdio.h>

#include "ah/schema.h"
#include "ah/stats.h"

struct prom_input {
    const char *vantage, *target; /* labels of every sample */
    /* The groups probed (NULL: that transport and service is not probed). */
    const struct ah_group_stats *group[AH_TR_COUNT][AH_SVC_COUNT];
    unsigned tcp_up; /* TCP connections open now */
};

/* The RTT histogram's upper bounds, in seconds (then +Inf). */
#define PROM_RTT_BOUNDS 15

/* Writes the exposition to f. Node names are the servers' bytes: label
 * values escape backslash, quote and line feed, and bytes that are not
 * UTF-8 become U+FFFD, so a hostile identity cannot break a line or the
 * format. Returns 0, or -EIO when f failed. */
int prom_write(FILE *f, const struct prom_input *in);

#endif
