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

int dns_answer_fast(const struct dns_answerer *a, const uint8_t *q, size_t qlen, bool udp,
                    uint8_t *out, size_t cap, enum dns_verdict *verdict)
{
    /* Header: QR=0, opcode QUERY, QDCOUNT 1, no answer/authority records,
     * at most one additional record (the OPT). */
    if (qlen < DNS_HDR_LEN + 5 || (q[2] & 0xf8) || q[4] || q[5] != 1 || q[6] || q[7] || q[8] ||
        q[9] || q[10] || q[11] > 1)
        return -EAGAIN;

    /* Question name: plain labels only (a compressed question is legal but
     * odd, so the ldns path takes it). */
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
    size_t name_len = pos - DNS_HDR_LEN;
    if (name_len > LDNS_MAX_DOMAINLEN || pos + 4 > qlen)
        return -EAGAIN;
    uint16_t qtype = dns_rd16(q + pos), qclass = dns_rd16(q + pos + 2);
    pos += 4;
    size_t qend = pos;

    bool edns = false, nsid = false;
    uint8_t do_bit = 0;
    uint16_t udp_size = 0;
    if (q[11] == 1) {
        /* The OPT RR: root owner, version 0, options well formed, and it
         * ends the message exactly. */
        if (qlen - pos < 11 || q[pos] != 0 || dns_rd16(q + pos + 1) != DNS_TYPE_OPT ||
            q[pos + 6] != 0)
            return -EAGAIN;
        udp_size = dns_rd16(q + pos + 3);
        do_bit = q[pos + 7] & DNS_OPT_DO_HI;
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
                nsid = true;
            pos += olen;
        }
        edns = true;
    } else if (pos != qlen) {
        return -EAGAIN;
    }

    const uint8_t *qname = q + DNS_HDR_LEN;
    bool ident = qclass == DNS_CLASS_CH &&
                 ((name_len == sizeof wire_hostname_bind &&
                   name_is(qname, wire_hostname_bind, sizeof wire_hostname_bind)) ||
                  (name_len == sizeof wire_id_server &&
                   name_is(qname, wire_id_server, sizeof wire_id_server)));
    bool with_txt = false;
    uint8_t rcode = 0;
    enum dns_verdict v = DNS_ANSWERED;
    if (ident) {
        with_txt = qtype == DNS_TYPE_TXT || qtype == DNS_TYPE_ANY;
    } else if (!a->zone || qclass != DNS_CLASS_IN ||
               !in_zone(qname, name_len, a->apex, a->apex_len)) {
        rcode = LDNS_RCODE_REFUSED;
        v = DNS_REFUSED;
    } else {
        return -EAGAIN; /* a zone lookup */
    }

    size_t qsec = qend - DNS_HDR_LEN;
    const uint8_t *opt = nsid ? a->opt_nsid : a->opt_plain;
    size_t opt_len = edns ? (nsid ? a->opt_nsid_len : a->opt_plain_len) : 0;
    size_t total = DNS_HDR_LEN + qsec + (with_txt ? a->txt_tail_len : 0) + opt_len;
    if (total > dns_limit(udp, edns, udp_size, cap))
        return -EAGAIN; /* the ldns path truncates */

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
    out[11] = edns;
    uint8_t *p = out + DNS_HDR_LEN;
    memcpy(p, q + DNS_HDR_LEN, qsec);
    p += qsec;
    if (with_txt) {
        memcpy(p, a->txt_tail, a->txt_tail_len);
        p += a->txt_tail_len;
    }
    if (edns) {
        memcpy(p, opt, opt_len);
        p[7] = do_bit; /* high byte of the OPT flags */
    }
    if (verdict)
        *verdict = v;
    return (int)total;
}
