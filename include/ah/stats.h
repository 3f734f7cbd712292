/* Probe statistics as pure functions on records: results classified from
 * errno values (their words are in ah/schema.h), an RTT histogram with
 * bounded memory and percentiles, node identity counts and flips per flow
 * (docs/formats.md). */
#ifndef AH_STATS_H
#define AH_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ah/schema.h"

/* Classifies an errno value (positive or negative; libuv status codes are
 * negative errnos on Linux, and UV_EOF means an orderly close):
 * ECONNRESET/EPIPE -> reset, ETIMEDOUT -> timeout, ECONNREFUSED -> refused,
 * ENETUNREACH/EHOSTUNREACH/EHOSTDOWN/ENONET -> unreachable, UV_EOF -> eof,
 * anything else -> error. 0 is ok. */
enum ah_result ah_result_from_errno(int err);
enum ah_reason ah_reason_from_result(enum ah_result r);

/* Name of an errno value (positive or negative) for the "detail" column:
 * "ECONNRESET", "EOF" for libuv's UV_EOF, "E<n>" if unknown. */
const char *ah_errno_name(int err);

/* RTT histogram on nanoseconds: exact below 128 ns, then 64 sub-buckets per
 * power of two, so a percentile is within 1/64 (1.6%) of the true value;
 * fixed size (about 15 KiB) whatever the number of samples. */
#define AH_HIST_SUB     64
#define AH_HIST_BUCKETS (128 + (64 - 7) * AH_HIST_SUB)

struct ah_hist {
    uint64_t count;
    uint64_t min, max, sum;
    uint32_t bucket[AH_HIST_BUCKETS];
};

void ah_hist_init(struct ah_hist *h);
void ah_hist_add(struct ah_hist *h, uint64_t ns);
/* Merges b into a. */
void ah_hist_merge(struct ah_hist *a, const struct ah_hist *b);
/* Nearest-rank percentile (p in (0, 100]): the value of the ceil(p/100*n)-th
 * smallest sample, as the middle of its bucket clamped to [min, max]; p=100
 * is the exact max. 0 if the histogram is empty. */
uint64_t ah_hist_percentile(const struct ah_hist *h, double p);

/* Bucket index of a value and the lowest value of a bucket (exposed for
 * tests). */
unsigned ah_hist_bucket_of(uint64_t ns);
uint64_t ah_hist_bucket_low(unsigned b);

/* Node identities seen, interned to small indexes with counts. Names beyond
 * AH_NODES_MAX distinct ones are counted under "(other)". */
#define AH_NODES_MAX     64
#define AH_NODE_NAME_MAX 64

struct ah_nodes {
    unsigned n;
    char name[AH_NODES_MAX][AH_NODE_NAME_MAX];
    uint64_t count[AH_NODES_MAX];
};

void ah_nodes_init(struct ah_nodes *ns);
/* Returns the index for name (adding it if new), without counting. Long
 * names are cut to AH_NODE_NAME_MAX - 1 bytes. */
unsigned ah_nodes_index(struct ah_nodes *ns, const char *name);
/* Interns name and counts one answer from it; returns its index. */
unsigned ah_nodes_add(struct ah_nodes *ns, const char *name);

/* Flips (docs/formats.md, "Metrics"): two consecutive ok answers on the same flow from
 * different nodes. Flows are keyed by a 64-bit id (the "conn" column); the
 * table is an open-addressing hash that grows as flows appear. */
struct ah_flips {
    uint64_t flips;
    size_t cap, used;
    uint64_t *key;  /* flow id + 1, 0 = empty slot */
    uint16_t *node; /* last node index answering on that flow */
};

void ah_flips_init(struct ah_flips *f);
void ah_flips_free(struct ah_flips *f);
/* Records an ok answer from node index on flow; returns 1 if it was a flip,
 * 0 if not, -ENOMEM if the table could not grow. */
int ah_flips_add(struct ah_flips *f, uint64_t flow, unsigned node);

/* Everything the summary reports for one (transport, service). */
struct ah_group_stats {
    uint64_t probes;
    uint64_t result[AH_RES_COUNT];
    struct ah_hist rtt;
    struct ah_nodes nodes;
    struct ah_flips flips;
    uint64_t conns_opened;
    uint64_t conns_ended[AH_REASON_COUNT];
};

void ah_group_stats_init(struct ah_group_stats *g);
void ah_group_stats_free(struct ah_group_stats *g);
/* Counts one probe. node may be NULL or "" when there was no answer; rtt_ns
 * is used only for ok results. Returns 0 or -ENOMEM. */
int ah_group_stats_add(struct ah_group_stats *g, enum ah_result r, const char *node, uint64_t flow,
                       uint64_t rtt_ns);
/* Probes that did not get an ok answer. */
uint64_t ah_group_stats_lost(const struct ah_group_stats *g);

#endif
