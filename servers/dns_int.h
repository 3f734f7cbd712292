/* Internals shared by the DNS answer layer's files (dns_answer.c: the ldns
 * path and the answerer; dns_fast.c: the template path; dns_zone.c: zone
 * loading and lookup). Not for other modules. */
#ifndef DNS_INT_H
#define DNS_INT_H

#include "dns_answer.h"

#include <ldns/ldns.h>

#define DNS_HDR_LEN       12
#define DNS_OUR_UDP       1232 /* the payload size we advertise in our OPT */
#define DNS_OPT_NSID      3
#define DNS_MIN_UDP       512
#define DNS_MAX_MSG       65535
#define DNS_TYPE_TXT      16
#define DNS_TYPE_OPT      41
#define DNS_TYPE_ANY      255
#define DNS_CLASS_IN      1
#define DNS_CLASS_CH      3
#define DNS_FLAG2_RD      0x01
#define DNS_FLAG3_CD      0x10
#define DNS_OPT_DO_HI     0x80 /* DO bit in the high byte of the OPT flags */
#define DNS_RCODE_BADVERS 16

struct dns_answerer {
    char *identity;
    size_t identity_len;
    const struct dns_zone *zone; /* borrowed: outlives the answerer */

    /* ldns path: the identity names and the TXT RR (owner set per query). */
    ldns_rdf *name_hostname_bind;
    ldns_rdf *name_id_server;
    ldns_rr *txt_rr;

    /* Template path, built with ldns at creation: the answer TXT RR with its
     * owner compressed to the question (0xc00c), and our OPT RR without and
     * with the NSID option. The DO bit is patched per query. */
    uint8_t *txt_tail;
    size_t txt_tail_len;
    uint8_t *opt_plain;
    size_t opt_plain_len;
    uint8_t *opt_nsid;
    size_t opt_nsid_len;

    /* The zone's apex in lower-case wire form, so the template path can
     * refuse names outside the zone without a lookup. */
    uint8_t apex[LDNS_MAX_DOMAINLEN + 1];
    size_t apex_len; /* 0 without a zone */
};

static inline uint16_t dns_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void dns_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* The answer size limit for a query: UDP takes the client's EDNS payload
 * size (at least 512; 512 without EDNS), TCP only the 16-bit length. Both
 * are bounded by the caller's buffer. */
static inline size_t dns_limit(bool udp, bool edns, uint16_t udp_size, size_t cap)
{
    size_t lim = DNS_MAX_MSG;
    if (udp)
        lim = edns && udp_size > DNS_MIN_UDP ? udp_size : DNS_MIN_UDP;
    return lim < cap ? lim : cap;
}

/* The zone's apex name. */
const ldns_rdf *dns_zone_apex(const struct dns_zone *z);

/* Answers qname/qtype (class IN) from the zone into resp: sets rcode, AA
 * and sections, and *verdict (DNS_REFUSED for names outside the zone, with
 * resp untouched). Returns 0 or a negative errno. */
int dns_zone_answer(const struct dns_zone *z, const ldns_rdf *qname, ldns_rr_type qtype,
                    ldns_pkt *resp, enum dns_verdict *verdict);

#endif
