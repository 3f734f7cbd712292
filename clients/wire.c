/* Probe payloads and reply judgement (see wire.h). The DNS work is done by
 * the shared identity codec; this file only adds what a prober needs around
 * it: a reusable query template, request matching and the result words. */
#include "wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ah/echo.h"

int wire_dns_template(const struct ah_ident_query *q, struct wire_dns_tpl *t)
{
    int n = ah_ident_query_build(q, 0, t->buf, sizeof(t->buf));
    if (n < 0)
        return n;
    if (n < 12)
        return -EINVAL;
    t->len = (size_t)n;
    return 0;
}

size_t wire_dns_query(const struct wire_dns_tpl *t, uint16_t id, uint8_t *out)
{
    memcpy(out, t->buf, t->len);
    out[0] = (uint8_t)(id >> 8);
    out[1] = (uint8_t)id;
    return t->len;
}

int wire_dns_id(const uint8_t *buf, size_t len, uint16_t *id)
{
    if (len < 12)
        return -EBADMSG;
    *id = (uint16_t)(buf[0] << 8 | buf[1]);
    return 0;
}

int wire_echo_line(uint64_t flow, uint64_t seq, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "ahp %" PRIu64 " %" PRIu64 "\n", flow, seq);
    if (n < 0 || (size_t)n >= cap)
        return -ENOSPC;
    return n;
}

static int parse_u64(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    const uint8_t *s = *p;

    if (s >= end || *s < '0' || *s > '9')
        return -EBADMSG;
    for (; s < end && *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - 9) / 10)
            return -EBADMSG;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *p = s;
    *out = v;
    return 0;
}

int wire_echo_request_parse(const uint8_t *buf, size_t len, uint64_t *flow, uint64_t *seq)
{
    const uint8_t *p = buf, *end = buf + len;

    if (len < 4 || memcmp(p, "ahp ", 4) != 0)
        return -EBADMSG;
    p += 4;
    if (parse_u64(&p, end, flow) < 0 || p >= end || *p != ' ')
        return -EBADMSG;
    p++;
    if (parse_u64(&p, end, seq) < 0)
        return -EBADMSG;
    /* An ICMP quote may be cut, but what is there must end the line. */
    if (p < end && *p != '\n')
        return -EBADMSG;
    return 0;
}

int wire_echo_reply_parse(const uint8_t *buf, size_t len, uint64_t *flow, uint64_t *seq)
{
    const uint8_t *sp = memchr(buf, ' ', len);
    if (sp == NULL || sp == buf)
        return -EBADMSG;
    sp++;
    return wire_echo_request_parse(sp, len - (size_t)(sp - buf), flow, seq);
}

void wire_dns_judge(const struct ah_ident_query *q, const uint8_t *buf, size_t len,
                    struct wire_verdict *v)
{
    struct ah_ident_reply rep;

    v->node[0] = '\0';
    v->detail[0] = '\0';
    if (ah_ident_reply_parse(q, buf, len, &rep) < 0) {
        v->result = AH_RES_BAD_REPLY;
        snprintf(v->detail, sizeof(v->detail), "malformed");
        return;
    }
    if (rep.has_identity) {
        /* A plain copy: snprintf's format walk was a few per cent of the
         * prober's CPU at 200k answers/s. */
        size_t n = strnlen(rep.identity, sizeof(v->node) - 1);
        v->result = AH_RES_OK;
        memcpy(v->node, rep.identity, n);
        v->node[n] = '\0';
        if (rep.rcode != 0)
            snprintf(v->detail, sizeof(v->detail), "%s", ah_ident_rcode_name(rep.rcode));
        return;
    }
    /* A truncated reply without an identity to a query this small is what a
     * response rate limiter sends instead of an answer (a slip): the server
     * is there and answering, only not to every query. */
    if (rep.tc) {
        v->result = AH_RES_RATELIMITED;
        snprintf(v->detail, sizeof(v->detail), "TC=1");
        return;
    }
    v->result = AH_RES_BAD_REPLY;
    if (rep.detail[0] != '\0')
        snprintf(v->detail, sizeof(v->detail), "%s", rep.detail);
    else if (rep.rcode != 0)
        snprintf(v->detail, sizeof(v->detail), "%s", ah_ident_rcode_name(rep.rcode));
    else
        snprintf(v->detail, sizeof(v->detail), "no identity");
}

void wire_echo_judge(const uint8_t *buf, size_t len, const uint8_t *sent, size_t sent_len,
                     struct wire_verdict *v)
{
    int rc;

    v->node[0] = '\0';
    v->detail[0] = '\0';
    rc = ah_echo_parse_reply(buf, len, sent, sent_len, v->node, sizeof(v->node));
    if (rc == 0 && v->node[0] != '\0') {
        v->result = AH_RES_OK;
        return;
    }
    v->node[0] = '\0';
    v->result = AH_RES_BAD_REPLY;
    snprintf(v->detail, sizeof(v->detail), "%s", rc == -ENOSPC ? "identity too long" : "mismatch");
}
