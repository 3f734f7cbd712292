/* The responder's DNS answers: the answerer (identity templates built with
 * ldns), the general path that parses and builds every message with ldns,
 * and dns_answer, which tries the template path (dns_fast.c) first.
 *
 * Policy, in order: shorter than a header or QR=1 -> silence; opcode other
 * than QUERY -> NOTIMP (header only); unparsable, QDCOUNT != 1, more than one
 * OPT, an OPT outside the additional section or not owned by the root, or a
 * malformed option list -> FORMERR (header only); EDNS version != 0 ->
 * BADVERS; CH hostname.bind / id.server -> AA, one TXT RR with the identity
 * for qtype TXT and ANY, an empty NOERROR (NODATA) for other types; class IN
 * with a zone -> the zone's authoritative answer (dns_zone.c); anything else
 * REFUSED. RD and CD are copied, the question is echoed with its case.
 * EDNS is answered only when asked, with our payload size, DO copied, and
 * the NSID option holding the identity whenever the query carried NSID. */
#include "dns_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HOPS 64 /* compression pointers followed in one name */

const char *dns_verdict_name(enum dns_verdict v)
{
    switch (v) {
    case DNS_ANSWERED:
        return "answered";
    case DNS_NXDOMAIN:
        return "nxdomain";
    case DNS_REFUSED:
        return "refused";
    case DNS_FORMERR:
        return "formerr";
    case DNS_NOTIMP:
        return "notimp";
    case DNS_DROPPED:
        return "dropped";
    }
    return "unknown";
}

/* Wire form of everything after the owner name of rr. */
static int rr_tail_wire(const ldns_rr *rr, uint8_t **out, size_t *len)
{
    uint8_t *w = NULL;
    size_t n = 0;
    if (ldns_rr2wire(&w, rr, LDNS_SECTION_ANSWER, &n) != LDNS_STATUS_OK)
        return -ENOMEM;
    size_t own = ldns_rdf_size(ldns_rr_owner(rr));
    *len = n - own;
    *out = malloc(*len ? *len : 1);
    if (!*out) {
        free(w);
        return -ENOMEM;
    }
    memcpy(*out, w + own, *len);
    free(w);
    return 0;
}

/* Our OPT RR as ldns writes it: a header-only packet with EDNS set, minus
 * the header. */
static int opt_wire(const uint8_t *options, size_t olen, uint8_t **out, size_t *len)
{
    ldns_pkt *p = ldns_pkt_new();
    uint8_t *w = NULL;
    size_t n = 0;
    int rc = -ENOMEM;
    if (!p)
        return -ENOMEM;
    ldns_pkt_set_edns_udp_size(p, DNS_OUR_UDP);
    if (olen) {
        ldns_rdf *d = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, olen, options);
        if (!d)
            goto out;
        ldns_pkt_set_edns_data(p, d);
    }
    if (ldns_pkt2wire(&w, p, &n) != LDNS_STATUS_OK || n <= DNS_HDR_LEN)
        goto out;
    *len = n - DNS_HDR_LEN;
    *out = malloc(*len);
    if (!*out)
        goto out;
    memcpy(*out, w + DNS_HDR_LEN, *len);
    rc = 0;
out:
    free(w);
    ldns_pkt_free(p);
    return rc;
}

/* The NSID option (code, length, identity) for our OPT. */
static uint8_t *nsid_option(const struct dns_answerer *a, size_t *len)
{
    uint8_t *o = malloc(4 + a->identity_len);
    if (!o)
        return NULL;
    dns_wr16(o, DNS_OPT_NSID);
    dns_wr16(o + 2, (uint16_t)a->identity_len);
    memcpy(o + 4, a->identity, a->identity_len);
    *len = 4 + a->identity_len;
    return o;
}

int dns_answerer_new(struct dns_answerer **out, const char *identity, const struct dns_zone *zone)
{
    size_t ilen = identity ? strlen(identity) : 0;
    if (!out || ilen == 0 || ilen > DNS_IDENTITY_MAX)
        return -EINVAL;
    struct dns_answerer *a = calloc(1, sizeof *a);
    uint8_t *opt = NULL;
    int rc = -ENOMEM;
    if (!a)
        return -ENOMEM;
    a->identity = strdup(identity);
    a->identity_len = ilen;
    a->zone = zone;
    if (zone) {
        const ldns_rdf *apex = dns_zone_apex(zone);
        a->apex_len = ldns_rdf_size(apex);
        if (a->apex_len > sizeof a->apex)
            goto out;
        memcpy(a->apex, ldns_rdf_data(apex), a->apex_len);
        /* Lower case for the template path's compare; label length bytes
         * are below 'A' and stay as they are. */
        for (size_t i = 0; i < a->apex_len; i++)
            if (a->apex[i] >= 'A' && a->apex[i] <= 'Z')
                a->apex[i] = (uint8_t)(a->apex[i] + 32);
    }
    a->name_hostname_bind = ldns_dname_new_frm_str("hostname.bind.");
    a->name_id_server = ldns_dname_new_frm_str("id.server.");
    a->txt_rr = ldns_rr_new();
    if (!a->identity || !a->name_hostname_bind || !a->name_id_server || !a->txt_rr)
        goto out;

    /* The TXT RR: the identity in strings of at most 255 bytes, TTL 0. */
    ldns_rr_set_owner(a->txt_rr, ldns_rdf_clone(a->name_hostname_bind));
    ldns_rr_set_type(a->txt_rr, LDNS_RR_TYPE_TXT);
    ldns_rr_set_class(a->txt_rr, LDNS_RR_CLASS_CH);
    ldns_rr_set_ttl(a->txt_rr, 0);
    for (size_t off = 0; off < ilen; off += 255) {
        uint8_t s[256];
        size_t n = ilen - off > 255 ? 255 : ilen - off;
        s[0] = (uint8_t)n;
        memcpy(s + 1, identity + off, n);
        ldns_rdf *r = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, n + 1, s);
        if (!r || !ldns_rr_push_rdf(a->txt_rr, r)) {
            ldns_rdf_deep_free(r);
            goto out;
        }
    }

    /* Templates: 0xc00c + the TXT RR's tail, and both OPT variants. */
    uint8_t *tail = NULL;
    size_t tail_len = 0;
    if ((rc = rr_tail_wire(a->txt_rr, &tail, &tail_len)) < 0)
        goto out;
    a->txt_tail = malloc(tail_len + 2);
    if (!a->txt_tail) {
        free(tail);
        rc = -ENOMEM;
        goto out;
    }
    a->txt_tail[0] = 0xc0;
    a->txt_tail[1] = DNS_HDR_LEN;
    memcpy(a->txt_tail + 2, tail, tail_len);
    a->txt_tail_len = tail_len + 2;
    free(tail);

    size_t olen = 0;
    rc = -ENOMEM;
    if (!(opt = nsid_option(a, &olen)))
        goto out;
    if ((rc = opt_wire(NULL, 0, &a->opt_plain, &a->opt_plain_len)) < 0)
        goto out;
    if ((rc = opt_wire(opt, olen, &a->opt_nsid, &a->opt_nsid_len)) < 0)
        goto out;
    rc = 0;
out:
    free(opt);
    if (rc < 0) {
        dns_answerer_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void dns_answerer_free(struct dns_answerer *a)
{
    if (!a)
        return;
    free(a->identity);
    ldns_rdf_deep_free(a->name_hostname_bind);
    ldns_rdf_deep_free(a->name_id_server);
    ldns_rr_free(a->txt_rr);
    free(a->txt_tail);
    free(a->opt_plain);
    free(a->opt_nsid);
    free(a);
}

/* What the structural scan learns about a query before ldns sees it. */
struct scan_info {
    int opt_count;
    bool opt_misplaced; /* in the answer/authority section or not owned by the root */
    bool opt_bad_options;
    uint16_t udp_size;
    uint8_t version;
    bool dnssec_ok;
    bool nsid;
};

/* Skips one name with bounds and a hop limit, so that ldns (which follows
 * up to 65535 pointers) never spins on a compression loop. Returns the
 * position after the name in the message or -1. */
static long skip_name(const uint8_t *m, size_t len, size_t pos, bool *is_root)
{
    size_t after = 0, total = 0;
    int hops = 0;
    *is_root = pos < len && m[pos] == 0;
    for (;;) {
        if (pos >= len)
            return -1;
        uint8_t l = m[pos];
        if ((l & 0xc0) == 0xc0) {
            if (pos + 2 > len || ++hops > MAX_HOPS)
                return -1;
            if (!after)
                after = pos + 2;
            pos = (size_t)((l & 0x3f) << 8 | m[pos + 1]);
            continue;
        }
        if (l & 0xc0)
            return -1;
        total += 1u + l;
        if (total > LDNS_MAX_DOMAINLEN)
            return -1;
        if (l == 0)
            return (long)(after ? after : pos + 1);
        pos += 1u + l;
    }
}

static bool scan_options(const uint8_t *o, size_t n, struct scan_info *si)
{
    size_t i = 0;
    while (i < n) {
        if (n - i < 4)
            return false;
        uint16_t code = dns_rd16(o + i), olen = dns_rd16(o + i + 2);
        i += 4;
        if (olen > n - i)
            return false;
        if (code == DNS_OPT_NSID)
            si->nsid = true;
        i += olen;
    }
    return true;
}

/* Walks every section of the message. Returns false when it is malformed. */
static bool scan_message(const uint8_t *m, size_t len, struct scan_info *si)
{
    unsigned qd = dns_rd16(m + 4), an = dns_rd16(m + 6), ns = dns_rd16(m + 8),
             ar = dns_rd16(m + 10);
    size_t pos = DNS_HDR_LEN;
    bool root;
    memset(si, 0, sizeof *si);
    for (unsigned i = 0; i < qd; i++) {
        long p = skip_name(m, len, pos, &root);
        if (p < 0 || (size_t)p + 4 > len)
            return false;
        pos = (size_t)p + 4;
    }
    for (unsigned i = 0; i < an + ns + ar; i++) {
        long p = skip_name(m, len, pos, &root);
        if (p < 0 || (size_t)p + 10 > len)
            return false;
        const uint8_t *f = m + p;
        size_t rdlen = dns_rd16(f + 8);
        if (rdlen > len - (size_t)p - 10)
            return false;
        if (dns_rd16(f) == DNS_TYPE_OPT) {
            si->opt_count++;
            if (i < an + ns || !root)
                si->opt_misplaced = true;
            si->udp_size = dns_rd16(f + 2);
            si->version = f[5];
            si->dnssec_ok = (f[6] & DNS_OPT_DO_HI) != 0;
            if (!scan_options(f + 10, rdlen, si))
                si->opt_bad_options = true;
        }
        pos = (size_t)p + 10 + rdlen;
    }
    return true;
}

/* A header-only answer (NOTIMP, FORMERR), built with ldns. */
static int header_only(const uint8_t *q, int rcode, uint8_t **wire, size_t *n)
{
    ldns_pkt *p = ldns_pkt_new();
    if (!p)
        return -ENOMEM;
    ldns_pkt_set_id(p, dns_rd16(q));
    ldns_pkt_set_qr(p, true);
    ldns_pkt_set_opcode(p, (ldns_pkt_opcode)((q[2] >> 3) & 15));
    ldns_pkt_set_rd(p, q[2] & DNS_FLAG2_RD);
    ldns_pkt_set_cd(p, q[3] & DNS_FLAG3_CD);
    ldns_pkt_set_rcode(p, (uint8_t)rcode);
    ldns_status st = ldns_pkt2wire(wire, p, n);
    ldns_pkt_free(p);
    return st == LDNS_STATUS_OK ? 0 : -ENOMEM;
}

/* Sets our OPT on resp: payload size, extended rcode, DO copied, NSID. */
static int set_edns(const struct dns_answerer *a, ldns_pkt *resp, const struct scan_info *si,
                    int rcode, bool with_nsid)
{
    ldns_pkt_set_edns_udp_size(resp, DNS_OUR_UDP);
    ldns_pkt_set_edns_version(resp, 0);
    ldns_pkt_set_edns_extended_rcode(resp, (uint8_t)(rcode >> 4));
    ldns_pkt_set_edns_do(resp, si->dnssec_ok);
    if (with_nsid) {
        size_t olen = 0;
        uint8_t *o = nsid_option(a, &olen);
        ldns_rdf *d = o ? ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, olen, o) : NULL;
        free(o);
        if (!d)
            return -ENOMEM;
        ldns_pkt_set_edns_data(resp, d);
    }
    return 0;
}

static bool is_identity_name(const struct dns_answerer *a, const ldns_rdf *n)
{
    return ldns_dname_compare(n, a->name_hostname_bind) == 0 ||
           ldns_dname_compare(n, a->name_id_server) == 0;
}

/* Fills resp for the question and sets *v. Returns 0 or a negative errno. */
static int answer_question(const struct dns_answerer *a, const ldns_rr *question, ldns_pkt *resp,
                           enum dns_verdict *v)
{
    const ldns_rdf *qname = ldns_rr_owner(question);
    ldns_rr_type qtype = ldns_rr_get_type(question);
    ldns_rr_class qclass = ldns_rr_get_class(question);

    if (qclass == LDNS_RR_CLASS_CH && is_identity_name(a, qname)) {
        ldns_pkt_set_aa(resp, true);
        *v = DNS_ANSWERED;
        if (qtype != LDNS_RR_TYPE_TXT && qtype != LDNS_RR_TYPE_ANY)
            return 0; /* NODATA: the name exists, the type does not */
        ldns_rr *rr = ldns_rr_clone(a->txt_rr);
        ldns_rdf *owner = rr ? ldns_rdf_clone(qname) : NULL;
        if (!owner) {
            ldns_rr_free(rr);
            return -ENOMEM;
        }
        ldns_rdf_deep_free(ldns_rr_owner(rr));
        ldns_rr_set_owner(rr, owner);
        if (!ldns_pkt_push_rr(resp, LDNS_SECTION_ANSWER, rr)) {
            ldns_rr_free(rr);
            return -ENOMEM;
        }
        return 0;
    }
    if (a->zone && qclass == LDNS_RR_CLASS_IN) {
        int rc = dns_zone_answer(a->zone, qname, qtype, resp, v);
        if (rc < 0 || *v != DNS_REFUSED)
            return rc;
    }
    ldns_pkt_set_rcode(resp, LDNS_RCODE_REFUSED);
    *v = DNS_REFUSED;
    return 0;
}

/* Drops every record but the question and our OPT, and sets TC; then drops
 * the NSID option too if even that does not fit. */
static int truncate_answer(ldns_pkt *resp, size_t limit, uint8_t **wire, size_t *n)
{
    ldns_pkt_set_tc(resp, true);
    ldns_rr_list_deep_free(ldns_pkt_answer(resp));
    ldns_rr_list_deep_free(ldns_pkt_authority(resp));
    ldns_rr_list_deep_free(ldns_pkt_additional(resp));
    ldns_pkt_set_answer(resp, ldns_rr_list_new());
    ldns_pkt_set_authority(resp, ldns_rr_list_new());
    ldns_pkt_set_additional(resp, ldns_rr_list_new());
    ldns_pkt_set_ancount(resp, 0);
    ldns_pkt_set_nscount(resp, 0);
    ldns_pkt_set_arcount(resp, 0);
    for (int attempt = 0; attempt < 2; attempt++) {
        free(*wire);
        *wire = NULL;
        if (ldns_pkt2wire(wire, resp, n) != LDNS_STATUS_OK)
            return -ENOMEM;
        if (*n <= limit)
            return 0;
        ldns_rdf_deep_free(ldns_pkt_edns_data(resp));
        ldns_pkt_set_edns_data(resp, NULL);
    }
    return -ENOSPC;
}

int dns_answer_slow(const struct dns_answerer *a, const uint8_t *q, size_t qlen, bool udp,
                    uint8_t *out, size_t cap, enum dns_verdict *verdict)
{
    enum dns_verdict v = DNS_DROPPED;
    struct scan_info si;
    ldns_pkt *query = NULL, *resp = NULL;
    uint8_t *wire = NULL;
    size_t n = 0;
    int rc = 0;

    if (qlen < DNS_HDR_LEN || (q[2] & 0x80))
        goto out; /* nothing to answer, or a response: silence */
    if (((q[2] >> 3) & 15) != LDNS_PACKET_QUERY) {
        v = DNS_NOTIMP;
        rc = header_only(q, LDNS_RCODE_NOTIMPL, &wire, &n);
        goto out;
    }
    if (!scan_message(q, qlen, &si) || dns_rd16(q + 4) != 1 || si.opt_count > 1 ||
        si.opt_misplaced || si.opt_bad_options ||
        ldns_wire2pkt(&query, q, qlen) != LDNS_STATUS_OK) {
        v = DNS_FORMERR;
        rc = header_only(q, LDNS_RCODE_FORMERR, &wire, &n);
        goto out;
    }

    bool edns = si.opt_count == 1;
    size_t limit = dns_limit(udp, edns, si.udp_size, cap);
    const ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(query), 0);
    ldns_rr *qcopy = ldns_rr_clone(question);
    rc = -ENOMEM;
    if (!(resp = ldns_pkt_new()) || !qcopy ||
        !ldns_pkt_push_rr(resp, LDNS_SECTION_QUESTION, qcopy)) {
        ldns_rr_free(qcopy);
        goto out;
    }
    ldns_pkt_set_id(resp, dns_rd16(q));
    ldns_pkt_set_qr(resp, true);
    ldns_pkt_set_rd(resp, q[2] & DNS_FLAG2_RD);
    ldns_pkt_set_cd(resp, q[3] & DNS_FLAG3_CD);

    int rcode = 0;
    if (edns && si.version != 0) {
        v = DNS_FORMERR; /* BADVERS is counted with the format errors */
        rcode = DNS_RCODE_BADVERS;
    } else {
        if ((rc = answer_question(a, question, resp, &v)) < 0)
            goto out;
        rcode = ldns_pkt_get_rcode(resp);
    }
    ldns_pkt_set_rcode(resp, (uint8_t)(rcode & 15));
    if (edns && (rc = set_edns(a, resp, &si, rcode, si.nsid)) < 0)
        goto out;

    rc = -ENOMEM;
    if (ldns_pkt2wire(&wire, resp, &n) != LDNS_STATUS_OK)
        goto out;
    rc = 0;
    if (n > limit)
        rc = truncate_answer(resp, limit, &wire, &n);
out:
    if (rc == 0 && wire) {
        if (n > cap) {
            rc = -ENOSPC;
        } else {
            memcpy(out, wire, n);
            rc = (int)n;
        }
    }
    if (rc < 0)
        v = DNS_DROPPED;
    free(wire);
    ldns_pkt_free(query);
    ldns_pkt_free(resp);
    if (verdict)
        *verdict = v;
    return rc;
}

int dns_answer(const struct dns_answerer *a, const uint8_t *query, size_t qlen, bool udp,
               uint8_t *out, size_t cap, enum dns_verdict *verdict)
{
    int rc = dns_answer_fast(a, query, qlen, udp, out, cap, verdict);
    if (rc != -EAGAIN)
        return rc;
    return dns_answer_slow(a, query, qlen, udp, out, cap, verdict);
}
