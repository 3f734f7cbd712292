/* The responder's DNS query layer, kept apart from sockets (as in Knot DNS):
 * one query in wire form becomes one answer in wire form, or silence. The
 * identity questions are answered from precomputed wire templates (the hot
 * path); zone lookups and everything unusual go through ldns. */
#ifndef DNS_ANSWER_H
#define DNS_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dns_zone;

/* Loads a master file with the ldns zone parser. On error returns a negative
 * errno and writes "FILE:LINE: message" into err. */
int dns_zone_load(const char *path, struct dns_zone **out, char *err, size_t errlen);
void dns_zone_free(struct dns_zone *z);

/* Immutable per-responder answering context; safe to share between worker
 * threads once built. */
struct dns_answerer;

#define DNS_IDENTITY_MAX 4096 /* bytes; longer identities are -EINVAL */

/* Builds the answerer for a non-empty identity and an optional zone (NULL
 * for none). The zone is borrowed: it must outlive the answerer. Returns 0,
 * -EINVAL or -ENOMEM. */
int dns_answerer_new(struct dns_answerer **out, const char *identity, const struct dns_zone *zone);
void dns_answerer_free(struct dns_answerer *a);

enum dns_verdict {
    DNS_ANSWERED, /* NOERROR answer (identity or zone data, incl. NODATA) */
    DNS_NXDOMAIN, /* authoritative NXDOMAIN from the zone */
    DNS_REFUSED,  /* not ours */
    DNS_FORMERR,  /* malformed but with a readable header; also BADVERS */
    DNS_NOTIMP,   /* opcode other than QUERY */
    DNS_DROPPED,  /* unreadable or a response: silence */
};

/* Answers one query. udp selects the size limit: the client's EDNS buffer
 * size (512 without EDNS), truncating with TC=1 above it; TCP answers are
 * limited only by cap (at most 65535; a larger answer is truncated the same
 * way). A truncated answer keeps the question and the OPT (with NSID if that
 * still fits). Returns the answer length (> 0), 0 for silence (verdict
 * DNS_DROPPED), or a negative errno on an internal error (-ENOMEM, or
 * -ENOSPC when cap cannot hold even a truncated answer). verdict may be
 * NULL. The full answer policy is described at the top of dns_answer.c. */
int dns_answer(const struct dns_answerer *a, const uint8_t *query, size_t qlen, bool udp,
               uint8_t *out, size_t cap, enum dns_verdict *verdict);

const char *dns_verdict_name(enum dns_verdict v);

/* The two halves of dns_answer, exposed for differential tests, fuzzing and
 * benchmarks. dns_answer_fast answers the common queries (CH TXT/ANY
 * hostname.bind and id.server, and REFUSED for queries no zone can answer)
 * from templates and returns -EAGAIN for anything it does not handle;
 * dns_answer_slow answers everything through ldns. For every query the fast
 * path accepts, both produce the same bytes. */
int dns_answer_fast(const struct dns_answerer *a, const uint8_t *query, size_t qlen, bool udp,
                    uint8_t *out, size_t cap, enum dns_verdict *verdict);
int dns_answer_slow(const struct dns_answerer *a, const uint8_t *query, size_t qlen, bool udp,
                    uint8_t *out, size_t cap, enum dns_verdict *verdict);

#endif
