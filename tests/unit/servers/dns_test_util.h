/* Helpers shared by the DNS answer unit tests (test_dns_answer.c,
 * test_dns_zone.c): queries built with ldns, dns_answer with the
 * differential check against the ldns path, answer inspection, and a
 * small test zone written to a temporary file. */
#ifndef DNS_TEST_UTIL_H
#define DNS_TEST_UTIL_H

#include "tests/unit/check_main.h"
#include "servers/dns_answer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

#define IDENTITY "ams-node-1"

struct qopt {
    uint16_t id;
    bool rd, cd;
    bool edns;
    uint16_t udp_size;
    uint8_t version;
    bool do_bit;
    bool nsid;
};

static const struct qopt PLAIN = {.id = 0x1234, .rd = true};
static const struct qopt EDNS_NSID = {.id = 0x4321, .edns = true, .udp_size = 1232, .nsid = true};

/* A query built with ldns. */
static inline size_t make_query(const char *name, ldns_rr_type type, ldns_rr_class cls,
                                const struct qopt *o, uint8_t *buf, size_t cap)
{
    ldns_pkt *p = ldns_pkt_new();
    ldns_pkt_set_id(p, o->id);
    ldns_pkt_set_rd(p, o->rd);
    ldns_pkt_set_cd(p, o->cd);
    ldns_rr *q = ldns_rr_new();
    ldns_rdf *dn = ldns_dname_new_frm_str(name);
    ck_assert_ptr_nonnull(dn);
    ldns_rr_set_owner(q, dn);
    ldns_rr_set_type(q, type);
    ldns_rr_set_class(q, cls);
    ldns_rr_set_question(q, true);
    ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, q);
    size_t n = 0;
    uint8_t *w = NULL;
    ck_assert_int_eq(ldns_pkt2wire(&w, p, &n), LDNS_STATUS_OK);
    ck_assert_uint_le(n + 15, cap);
    memcpy(buf, w, n);
    free(w);
    ldns_pkt_free(p);
    if (o->edns) {
        /* Appended by hand so that odd values (version, size 0) are exact. */
        uint8_t *e = buf + n;
        e[0] = 0;
        e[1] = 0;
        e[2] = 41;
        e[3] = (uint8_t)(o->udp_size >> 8);
        e[4] = (uint8_t)o->udp_size;
        e[5] = 0;
        e[6] = o->version;
        e[7] = o->do_bit ? 0x80 : 0;
        e[8] = 0;
        e[9] = 0;
        e[10] = o->nsid ? 4 : 0;
        n += 11;
        if (o->nsid) {
            memcpy(buf + n, "\0\3\0\0", 4);
            n += 4;
        }
        buf[11] = 1;
    }
    return n;
}

/* dns_answer plus the differential check against the ldns path. */
static inline int answer(const struct dns_answerer *a, const uint8_t *q, size_t qlen, bool udp,
                         uint8_t *out, size_t cap, enum dns_verdict *v)
{
    static uint8_t fast[65535], slow[65535];
    enum dns_verdict vf = DNS_DROPPED, vs = DNS_DROPPED;
    int nf = dns_answer_fast(a, q, qlen, udp, fast, cap, &vf);
    int ns = dns_answer_slow(a, q, qlen, udp, slow, cap, &vs);
    if (nf != -EAGAIN) {
        ck_assert_int_eq(nf, ns);
        ck_assert_int_eq(vf, vs);
        if (nf > 0)
            ck_assert_mem_eq(fast, slow, (size_t)nf);
    }
    int n = dns_answer(a, q, qlen, udp, out, cap, v);
    ck_assert_int_eq(n, ns);
    ck_assert_int_eq(*v, vs);
    if (n > 0)
        ck_assert_mem_eq(out, slow, (size_t)n);
    return n;
}

static inline bool fast_path_takes(const struct dns_answerer *a, const uint8_t *q, size_t qlen)
{
    uint8_t out[4096];
    return dns_answer_fast(a, q, qlen, true, out, sizeof out, NULL) != -EAGAIN;
}

static inline ldns_pkt *parse(const uint8_t *w, int n)
{
    ldns_pkt *p = NULL;
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(ldns_wire2pkt(&p, w, (size_t)n), LDNS_STATUS_OK);
    ck_assert(ldns_pkt_qr(p));
    return p;
}

/* The TXT strings of the first answer RR, concatenated. */
static inline void txt_of(const ldns_pkt *p, char *buf, size_t cap)
{
    const ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
    ck_assert_ptr_nonnull(rr);
    ck_assert_int_eq(ldns_rr_get_type(rr), LDNS_RR_TYPE_TXT);
    size_t o = 0;
    for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
        const ldns_rdf *r = ldns_rr_rdf(rr, i);
        size_t l = ldns_rdf_data(r)[0];
        ck_assert_uint_lt(o + l, cap);
        memcpy(buf + o, ldns_rdf_data(r) + 1, l);
        o += l;
    }
    buf[o] = '\0';
}

/* The NSID option value in p's OPT, or NULL. */
static inline char *nsid_of(const ldns_pkt *p, char *buf, size_t cap)
{
    const ldns_rdf *d = ldns_pkt_edns_data(p);
    if (!d)
        return NULL;
    const uint8_t *o = ldns_rdf_data(d);
    size_t n = ldns_rdf_size(d);
    for (size_t i = 0; i + 4 <= n;) {
        size_t code = (size_t)(o[i] << 8 | o[i + 1]), l = (size_t)(o[i + 2] << 8 | o[i + 3]);
        if (code == 3 && l < cap && i + 4 + l <= n) {
            memcpy(buf, o + i + 4, l);
            buf[l] = '\0';
            return buf;
        }
        i += 4 + l;
    }
    return NULL;
}

static inline struct dns_answerer *new_answerer(const char *identity, const struct dns_zone *z)
{
    struct dns_answerer *a = NULL;
    ck_assert_int_eq(dns_answerer_new(&a, identity, z), 0);
    return a;
}

static char zone_path[64];

static inline void write_zone(const char *text)
{
    snprintf(zone_path, sizeof zone_path, "/tmp/ah-test-zone.XXXXXX");
    int fd = mkstemp(zone_path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static const char *const ZONE = "$ORIGIN example.test.\n"
                                "$TTL 300\n"
                                "@ IN SOA ns1 hostmaster 1 3600 600 86400 60\n"
                                "@ IN NS ns1\n"
                                "ns1 IN A 198.51.100.1\n"
                                "www IN A 198.51.100.10\n"
                                "www IN AAAA 2001:db8::10\n"
                                "alias IN CNAME www\n"
                                "a.b.c IN TXT \"deep\"\n"
                                "sub IN NS ns.sub\n"
                                "ns.sub IN A 198.51.100.20\n"
                                "*.wild IN A 198.51.100.99\n"
                                "loop1 IN CNAME loop2\n"
                                "loop2 IN CNAME loop1\n";

static inline struct dns_zone *load_zone(const char *extra)
{
    char text[16384];
    char err[256] = "";
    struct dns_zone *z = NULL;
    int n = snprintf(text, sizeof text, "%s%s", ZONE, extra);
    ck_assert(n > 0 && (size_t)n < sizeof text);
    write_zone(text);
    int rc = dns_zone_load(zone_path, &z, err, sizeof err);
    unlink(zone_path);
    ck_assert_msg(rc == 0, "zone load: %d %s", rc, err);
    return z;
}

static inline ldns_pkt *zone_query(const struct dns_answerer *a, const char *name, ldns_rr_type t,
                                   bool udp, enum dns_verdict *v, int *len)
{
    uint8_t q[512];
    static uint8_t out[65535];
    size_t ql = make_query(name, t, LDNS_RR_CLASS_IN, &EDNS_NSID, q, sizeof q);
    int n = answer(a, q, ql, udp, out, sizeof out, v);
    if (len)
        *len = n;
    ldns_pkt *p = parse(out, n);
    char nsid[64];
    ck_assert_ptr_nonnull(nsid_of(p, nsid, sizeof nsid));
    ck_assert_str_eq(nsid, IDENTITY);
    return p;
}

#endif
