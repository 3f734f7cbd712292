/* --query auto and rate-limit naming for anycast-probe, pure functions on
 * bytes and counts: which identity query a target answers without being
 * rate-limited (judged from a short burst per candidate), and whether a
 * group's answers stopped in the pattern response rate limiting leaves. */
#ifndef PROBE_QUERY_AUTO_H
#define PROBE_QUERY_AUTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ah/ident.h"

/* Candidates in order of preference: hostname.bind (with NSID), NSID on an
 * ordinary IN query for the root SOA (answered, often REFUSED, by every
 * server measured in docs/interop.md), then id.server. */
#define QAUTO_NCAND 3
/* Queries per candidate burst: more than the few per second a CHAOS rate
 * limit (BIND's built-in 3/s) lets through. */
#define QAUTO_BURST 8

struct qauto {
    struct ah_ident_query cand[QAUTO_NCAND];
    size_t cur;                  /* candidate whose burst is being judged */
    unsigned ident[QAUTO_NCAND]; /* replies with an identity */
    unsigned tc[QAUTO_NCAND];    /* TC=1 replies (a rate limiter's slip) */
    unsigned other[QAUTO_NCAND]; /* replies without an identity */
    unsigned sent[QAUTO_NCAND];  /* queries sent in the burst */
    bool done;
    size_t chosen;
    char why[160]; /* why chosen, e.g. "hostname.bind answered 2 of 8" */
};

/* Sets up the candidates. Returns 0 or a negative errno. */
int qauto_init(struct qauto *a);
/* The query to send now: the current candidate, or the chosen one once done. */
const struct ah_ident_query *qauto_query(const struct qauto *a);
/* The spec ("hostname.bind", "nsid:./SOA", ...) of candidate i. */
const char *qauto_spec(size_t i);
/* Counts one reply (any message received for the current burst). */
void qauto_reply(struct qauto *a, const uint8_t *buf, size_t len);
/* Closes the current burst after sent queries: settles on the candidate when
 * every query was answered with an identity, else moves to the next; after
 * the last, settles on the one with the most identified answers (the first
 * on a tie, the first when none answered). Returns true once settled. */
bool qauto_burst_done(struct qauto *a, unsigned sent);

/* What a group's results look like when a server rate-limits them. */
struct qauto_rl_input {
    uint64_t probes;    /* probes sent */
    uint64_t ok;        /* answered with an identity */
    uint64_t timeouts;  /* no answer */
    uint64_t tc;        /* TC=1 replies without an identity */
    uint64_t window_ns; /* time over which the probes were sent */
};

/* True when the results fit response rate limiting: at least 20 probes,
 * some answered (a rate limiter lets a steady trickle through), at least a
 * fifth not, and every loss a timeout or a TC=1 slip, so nothing else
 * (refused, unreachable, bad replies) explains it. *per_s gets the answered
 * rate over the window. */
bool qauto_ratelimited(const struct qauto_rl_input *in, double *per_s);

#endif
