/* Probe payloads and reply judgement for anycast-probe, pure functions on
 * bytes: the DNS identity query (built once, then only its id changes), the
 * echo request line that carries the flow and sequence number, and the
 * verdict (result, node, detail) for a reply. */
#ifndef PROBE_WIRE_H
#define PROBE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "ah/ident.h"
#include "ah/stats.h"

#define WIRE_DNS_MAX 512

struct wire_dns_tpl {
    uint8_t buf[WIRE_DNS_MAX];
    size_t len;
};

/* Builds the query template for q (id 0). Returns 0 or a negative errno. */
int wire_dns_template(const struct ah_ident_query *q, struct wire_dns_tpl *t);
/* Copies the template into out (WIRE_DNS_MAX bytes) with the given id;
 * returns the length. */
size_t wire_dns_query(const struct wire_dns_tpl *t, uint16_t id, uint8_t *out);
/* The id of a DNS message; -EBADMSG if it is shorter than a header. */
int wire_dns_id(const uint8_t *buf, size_t len, uint16_t *id);

/* Echo request "ahp <flow> <seq>\n"; returns its length or -ENOSPC. */
int wire_echo_line(uint64_t flow, uint64_t seq, char *buf, size_t cap);
/* Parses a request line (as sent, or as quoted back in an ICMP error).
 * Returns 0 or -EBADMSG. */
int wire_echo_request_parse(const uint8_t *buf, size_t len, uint64_t *flow, uint64_t *seq);
/* Finds the request inside a reply "<identity> <request>" and parses it. */
int wire_echo_reply_parse(const uint8_t *buf, size_t len, uint64_t *flow, uint64_t *seq);

struct wire_verdict {
    enum ah_result result;
    char node[AH_IDENT_MAX];
    char detail[64];
};

/* Judges a DNS reply to q: ok with the node when it carries an identity (the
 * rcode goes to detail when it is not NOERROR), ratelimited (detail "TC=1")
 * for a truncated reply without one, else bad_reply with the reason. */
void wire_dns_judge(const struct ah_ident_query *q, const uint8_t *buf, size_t len,
                    struct wire_verdict *v);
/* Judges an echo reply against the line that was sent. */
void wire_echo_judge(const uint8_t *buf, size_t len, const uint8_t *sent, size_t sent_len,
                     struct wire_verdict *v);

#endif
