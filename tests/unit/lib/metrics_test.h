/* Record sets for the failover metrics tests (test_metrics.c, test_metrics_scale.c): times
 * relative to an arbitrary epoch T0, and one-line helpers that add an event or a probe row
 * with every field a test does not care about filled in the same way. Each test is its own
 * program, so everything here is static. */
#ifndef TESTS_UNIT_LIB_METRICS_TEST_H
#define TESTS_UNIT_LIB_METRICS_TEST_H

#include "ah/metrics.h"
#include "tests/unit/check_main.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "ah/clock.h"

#define S  AH_NS_PER_S
#define MS AH_NS_PER_MS
#define T0 (1700000000ULL * S) /* an arbitrary epoch time */

/* A metrics computation for a run from T0 to T0 + end_rel. */
static inline struct ah_metrics *metrics_mk(uint64_t end_rel, bool direct)
{
    struct ah_metrics_cfg cfg = {.start_ns = T0, .end_ns = T0 + end_rel, .direct_withdraw = direct};
    struct ah_metrics *m = NULL;
    ck_assert_int_eq(ah_metrics_new(&m, &cfg), 0);
    return m;
}

static inline void metrics_event(struct ah_metrics *m, uint64_t rel, const char *event,
                                 const char *node, const char *detail)
{
    struct ah_metrics_event e = {T0 + rel, event, node, detail};
    ck_assert_int_eq(ah_metrics_add_event(m, &e), 0);
}

/* A probe of flow on transport tr (UDP asks DNS, TCP echo) answered by node, or timed out
 * when node is NULL. */
static inline void metrics_probe(struct ah_metrics *m, uint64_t rel, const char *vantage,
                                 enum ah_transport tr, uint64_t flow, const char *node)
{
    struct ah_metrics_probe p = {
        .ts_ns = T0 + rel,
        .vantage = vantage,
        .transport = tr,
        .service = tr == AH_TR_UDP ? AH_SVC_DNS : AH_SVC_ECHO,
        .conn = flow,
        .result = node ? AH_RES_OK : AH_RES_TIMEOUT,
        .node = node,
    };
    ck_assert_int_eq(ah_metrics_add_probe(m, &p), 0);
}

/* A metric in milliseconds equals want (to a millionth). */
#define ck_ms(v, want) ck_assert_msg(fabs((v) - (want)) < 1e-6, "%s = %f, want %f", #v, (v), (want))

#endif
