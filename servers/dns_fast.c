/* The template path of the DNS answer layer: a strict, bounds-checked scan
 * of header, question and OPT, then an answer assembled by memcpy from
 * templates built with ldns in dns_answerer_new. It handles the identity
 * questions and REFUSED for queries no zone could answer, which is nearly
 * all real traffic at a node's identity, in a few dozen nanoseconds.
 * Anything it does not recognise exactly returns -EAGAIN and goes to the
 * ldns path, which produces the same bytes for what this path accepts (the
 * unit tests and fuzz_dns_answer check that). */
#include "dns_int.h"

#include <errno.h>
#include <string.h>

static const uint8_t wire_hostname_bind[] = "\x08hostname\x04"
                                            "bind";         /* + root */
static const uint8_t wire_id_server[] = "\x02id\x06server"; /* + root */

/* ASCII case-insensitive compare of a wire name with a lower-case one of
 * the same length (label lengths are below 'A', so folding is safe). */
static bool name_is(const uint8_t *n, const uint8_t *want, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t c = n[i];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c + 32);
        if (c != want[i])
            return false;
    }
    return true;
}

/* Whether the wire name (uncompressed, name_len bytes with the root) is the
 * apex or below it: the apex must match a label-aligned suffix. */
static bool in_zone(const uint8_t *name, size_t name_len, const uint8_t *apex, size_t apex_len)
{
    if (name_len < apex_len)
        return false;
    size_t off = 0, want = name_len - apex_len;
    while (off < want)
        off += 1u + name[off];
    return off == want && name_is(name + off, apex, apex_len);
}

/* What the scan of a query found: the question's extent and its EDNS. */
struct fast_query {
    size_t name_len, qend; /* question name with root; end of the question */
    uint16_t qtype, qclass, udp_size;
    uint8_t do_bit;
    bool edns, nsid;
};

/* Header and question: QR=0, opcode QUERY, QDCOUNT 1, no answer/authority
 * records, at most one additional record (the OPT); the name in plain labels
 * only (a compressed question is legal but odd, so the ldns path takes it). */
static int scan_question(const uint8_t *q, size_t qlen, struct fast_query *fq)
{
    if (qlen < DNS_HDR_LEN + 5 || (q[2] & 0xf8) || q[4] || q[5] != 1 || q[6] || q[7] || q[8] ||
        q[9] || q[10] || q[11] > 1)
        return -EAGAIN;
    size_t pos = DNS_HDR_LEN;
    for (;;) {
        if (pos >= qlen)
            return -EAGAIN;
        uint8_t l = q[pos];
        if (l == 0)
            break;
        if (l > 63)
            return -EAGAIN;
        pos += 1u + l;
    }
    pos++;
    fq->name_len = pos - DNS_HDR_LEN;
    if (fq->name_len > LDNS_MAX_DOMAINLEN || pos + 4 > qlen)
        return -EAGAIN;
    fq->qtype = dns_rd16(q + pos);
    fq->qclass = dns_rd16(q + pos + 2);
    fq->qend = pos + 4;
    return 0;
}

/* The OPT RR, if any: root owner, version 0, options well formed, and it
 * ends the message exactly; without one the question must end it. */
static int scan_opt(const uint8_t *q, size_t qlen, struct fast_query *fq)
{
    size_t pos = fq->qend;
    if (q[11] != 1)
        return pos == qlen ? 0 : -EAGAIN;
    if (qlen - pos < 11 || q[pos] != 0 || dns_rd16(q + pos + 1) != DNS_TYPE_OPT || q[pos + 6] != 0)
        return -EAGAIN;
    fq->udp_size = dns_rd16(q + pos + 3);
    fq->do_bit = q[pos + 7] & DNS_OPT_DO_HI;
    size_t rdlen = dns_rd16(q + pos + 9);
    pos += 11;
    if (rdlen != qlen - pos)
        return -EAGAIN;
    while (pos < qlen) {
        if (qlen - pos < 4)
            return -EAGAIN;
        uint16_t code = dns_rd16(q + pos), olen = dns_rd16(q + pos + 2);
        pos += 4;
        if (olen > qlen - pos)
            return -EAGAIN;
        if (code == DNS_OPT_NSID)
            fq->nsid = true;
        pos += olen;
    }
    fq->edns = true;
    return 0;
}

/* Assembles the answer from the query's header and question and the
 * templates; total is its length, checked against the limit already. */
static void write_answer(const struct dns_answerer *a, const uint8_t *q,
                         const struct fast_query *fq, bool ident, bool with_txt, uint8_t rcode,
                         uint8_t *out)
{
    size_t qsec = fq->qend - DNS_HDR_LEN;
    out[0] = q[0];
    out[1] = q[1];
    out[2] = (uint8_t)(0x80 | (ident ? 0x04 : 0) | (q[2] & DNS_FLAG2_RD));
    out[3] = (uint8_t)((q[3] & DNS_FLAG3_CD) | rcode);
    out[4] = 0;
    out[5] = 1;
    out[6] = 0;
    out[7] = with_txt;
    out[8] = 0;
    out[9] = 0;
    out[10] = 0;
    out[11] = fq->edns;
    uint8_t *p = out + DNS_HDR_LEN;
    memcpy(p, q + DNS_HDR_LEN, qsec);
    p += qsec;
    if (with_txt) {
        memcpy(p, a->txt_tail, a->txt_tail_len);
        p += a->txt_tail_len;
    }
    if (fq->edns) {
        memcpy(p, fq->nsid ? a->opt_nsid : a->opt_plain,
               fq->nsid ? a->opt_nsid_len : a->opt_plain_len);
        p[7] = fq->do_bit; /* high byte of the OPT flags */
    }
}

int dns_answer_fast(const struct dns_answerer *a, const uint8_t *q, size_t qlen, bool udp,
                    uint8_t *out, size_t cap, enum dns_verdict *verdict)
{
    struct fast_query fq = {0};
    if (scan_question(q, qlen, &fq) < 0 || scan_opt(q, qlen, &fq) < 0)
        return -EAGAIN;

    const uint8_t *qname = q + DNS_HDR_LEN;
    size_t name_len = fq.name_len;
    bool ident = fq.qclass == DNS_CLASS_CH &&
                 ((name_len == sizeof wire_hostname_bind &&
                   name_is(qname, wire_hostname_bind, sizeof wire_hostname_bind)) ||
                  (name_len == sizeof wire_id_server &&
                   name_is(qname, wire_id_server, sizeof wire_id_server)));
    bool with_txt = false;
    uint8_t rcode = 0;
    enum dns_verdict v = DNS_ANSWERED;
    if (ident) {
        with_txt = fq.qtype == DNS_TYPE_TXT || fq.qtype == DNS_TYPE_ANY;
    } else if (!a->zone || fq.qclass != DNS_CLASS_IN ||
               !in_zone(qname, name_len, a->apex, a->apex_len)) {
        rcode = LDNS_RCODE_REFUSED;
        v = DNS_REFUSED;
    } else {
        return -EAGAIN; /* a zone lookup */
    }

    size_t opt_len = fq.edns ? (fq.nsid ? a->opt_nsid_len : a->opt_plain_len) : 0;
    size_t total =
        DNS_HDR_LEN + (fq.qend - DNS_HDR_LEN) + (with_txt ? a->txt_tail_len : 0) + opt_len;
    if (total > dns_limit(udp, fq.edns, fq.udp_size, cap))
        return -EAGAIN; /* the ldns path truncates */
    write_answer(a, q, &fq, ident, with_txt, rcode, out);
    if (verdict)
        *verdict = v;
    return (int)total;
}
