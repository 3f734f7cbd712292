/* Request counters per transport and service. Each worker owns one struct
 * stats and is its only writer, so increments are plain relaxed load+store
 * (no locked instruction on the hot path); the control thread sums them. */
#ifndef RESPONDER_STATS_H
#define RESPONDER_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ah/schema.h"

/* requests: messages read (a DNS message or an echo line/datagram);
 * answers: replies sent, of any rcode; refused/formerr: of those answers,
 * the ones with that rcode; dropped: requests that got no reply (unreadable,
 * paused, drop PERCENT, send failure, queue full); overlong: echo lines over
 * the limit (also counted in dropped); coalesced: UDP requests that arrived
 * with others in one buffer (UDP GRO; also counted in requests); tcp_open/tcp_total: connections
 * now open / accepted since start; tcp_rejected: closed at once over
 * --max-tcp-clients; tcp_evicted: idle connections closed to admit a new one
 * over --max-tcp-clients; tcp_io_timeout: closed because a message did not
 * complete within --tcp-io-timeout; tcp_over_budget: closed because their
 * partial messages or unsent answers came first over --tcp-buffer-budget;
 * tcp_write_timeout: reset because their unsent answers did not move for
 * --tcp-write-timeout. */
enum stat_counter {
    ST_REQUESTS,
    ST_ANSWERS,
    ST_REFUSED,
    ST_FORMERR,
    ST_DROPPED,
    ST_OVERLONG,
    ST_COALESCED,
    ST_TCP_OPEN,
    ST_TCP_TOTAL,
    ST_TCP_REJECTED,
    ST_TCP_EVICTED,
    ST_TCP_IO_TIMEOUT,
    ST_TCP_OVER_BUDGET,
    ST_TCP_WRITE_TIMEOUT,
    ST_COUNT
};

struct stats {
    _Atomic uint64_t v[AH_TR_COUNT][AH_SVC_COUNT][ST_COUNT];
};

static inline void stats_add(struct stats *s, enum ah_transport t, enum ah_service svc,
                             enum stat_counter c, int64_t n)
{
    _Atomic uint64_t *p = &s->v[t][svc][c];
    atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + (uint64_t)n,
                          memory_order_relaxed);
}

static inline uint64_t stats_get(const struct stats *s, enum ah_transport t, enum ah_service svc,
                                 enum stat_counter c)
{
    return atomic_load_explicit(&s->v[t][svc][c], memory_order_relaxed);
}

/* dst += src, counter by counter (dst is private to the caller). */
void stats_accumulate(struct stats *dst, const struct stats *src);

/* Formats one line "udp_dns_requests=N udp_dns_answers=N ..." (no newline).
 * Counters that cannot occur (overlong for DNS, tcp_* for UDP) are left out.
 * Returns the length or -ENOSPC. */
int stats_format(const struct stats *s, char *buf, size_t len);

#endif
