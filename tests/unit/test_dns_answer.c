/* Unit tests for the responder's DNS answer layer (servers/dns_answer.c,
 * dns_fast.c, dns_zone.c): bytes in, bytes out, no sockets. Every answer a
 * test asks for is also computed by the ldns path alone and, where the
 * template path takes the query, compared byte for byte (differential). */
#include "check_main.h"
#include "../../servers/dns_answer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>
#include <pthread.h>

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
static size_t make_query(const char *name, ldns_rr_type type, ldns_rr_class cls,
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
static int answer(const struct dns_answerer *a, const uint8_t *q, size_t qlen, bool udp,
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

static bool fast_path_takes(const struct dns_answerer *a, const uint8_t *q, size_t qlen)
{
    uint8_t out[4096];
    return dns_answer_fast(a, q, qlen, true, out, sizeof out, NULL) != -EAGAIN;
}

static ldns_pkt *parse(const uint8_t *w, int n)
{
    ldns_pkt *p = NULL;
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(ldns_wire2pkt(&p, w, (size_t)n), LDNS_STATUS_OK);
    ck_assert(ldns_pkt_qr(p));
    return p;
}

/* The TXT strings of the first answer RR, concatenated. */
static void txt_of(const ldns_pkt *p, char *buf, size_t cap)
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
static char *nsid_of(const ldns_pkt *p, char *buf, size_t cap)
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

static struct dns_answerer *new_answerer(const char *identity, const struct dns_zone *z)
{
    struct dns_answerer *a = NULL;
    ck_assert_int_eq(dns_answerer_new(&a, identity, z), 0);
    return a;
}

START_TEST(hostname_bind)
{
    struct dns_answerer *a = new_answerer(IDENTITY, NULL);
    uint8_t q[512], out[4096];
    char txt[512];
    enum dns_verdict v;
    size_t ql = make_query("hostname.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, &PLAIN, q, 512);
    ck_assert(fast_path_takes(a, q, ql));
    int n = answer(a, q, ql, true, out, sizeof out, &v);
    ck_assert_int_eq(v, DNS_ANSWERED);
    ldns_pkt *p = parse(out, n);
    ck_assert_int_eq(ldns_pkt_id(p), 0x1234);
    ck_assert(ldns_pkt_aa(p));
    ck_assert(ldns_pkt_rd(p));
    ck_assert(!ldns_pkt_tc(p));
    ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
    ck_assert_int_eq(ldns_pkt_ancount(p), 1);
    ck_assert(!ldns_pkt_edns(p)); /* no EDNS asked, none given */
    txt_of(p, txt, sizeof txt);
    ck_assert_str_eq(txt, IDENTITY);
    const ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
    ck_assert_int_eq(ldns_rr_get_class(rr), LDNS_RR_CLASS_CH);
    ldns_pkt_free(p);
    dns_answerer_free(a);
}
END_TEST

START_TEST(id_server_case_and_any)
{
    struct dns_answerer *a = new_answerer(IDENTITY, NULL);
    uint8_t q[512], out[4096];
    char txt[512];
    enum dns_verdict v;
    size_t ql = make_query("ID.SeRvEr.", LDNS_RR_TYPE_ANY, LDNS_RR_CLASS_CH, &PLAIN, q, 512);
    ck_assert(fast_path_takes(a, q, ql));
    int n = answer(a, q, ql, true, out, sizeof out, &v);
    ck_assert_int_eq(v, DNS_ANSWERED);
    /* The question comes back with the client's case (0x20 randomisation). */
    ck_assert_mem_eq(out + 12, q + 12, ql - 12);
    ldns_pkt *p = parse(out, n);
    txt_of(p, txt, sizeof txt);
    ck_assert_str_eq(txt, IDENTITY);
    ldns_pkt_free(p);
    dns_answerer_free(a);
}
END_TEST

START_TEST(ch_other_type_nodata)
{
    struct dns_answerer *a = new_answerer(IDENTITY, NULL);
    uint8_t q[512], out[4096];
    enum dns_verdict v;
    size_t ql = make_query("hostname.bind.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_CH, &PLAIN, q, 512);
    int n = answer(a, q, ql, true, out, sizeof out, &v);
    ck_assert_int_eq(v, DNS_ANSWERED);
    ldns_pkt *p = parse(out, n);
    ck_assert(ldns_pkt_aa(p));
    ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
    ck_assert_int_eq(ldns_pkt_ancount(p), 0);
    ldns_pkt_free(p);
    dns_answerer_free(a);
}
END_TEST

START_TEST(class_mix_refused)
{
    struct dns_answerer *a = new_answerer(IDENTITY, NULL);
    uint8_t q[512], out[4096];
    enum dns_verdict v;
    struct {
        const char *name;
        ldns_rr_type t;
        ldns_rr_class c;
    } cases[] = {
        {"hostname.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN},
        {"id.server.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_ANY},
        {"version.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH},
        {"hostname.bind.example.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH},
        {"example.com.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t ql = make_query(cases[i].name, cases[i].t, cases[i].c, &PLAIN, q, 512);
        int n = answer(a, q, ql, true, out, sizeof out, &v);
        ck_assert_int_eq(v, DNS_REFUSED);
        ldns_pkt *p = parse(out, n);
        ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
        ck_assert(!ldns_pkt_aa(p));
        ck_assert(ldns_pkt_rd(p));
        ck_assert_int_eq(ldns_pkt_qdcount(p), 1);
        ck_assert_int_eq(ldns_pkt_ancount(p), 0);
        ck_assert_mem_eq(out + 12, q + 12, ql - 12);
        ldns_pkt_free(p);
    }
    dns_answerer_free(a);
}
END_TEST

START_TEST(nsid_on_every_answer)
{
    struct dns_answerer *a = new_answerer(IDENTITY, NULL);
    uint8_t q[512], out[4096];
    char nsid[512];
    enum dns_verdict v;
    /* Identity answer, REFUSED, NODATA: all carry NSID when asked. */
    const char *names[] = {"hostname.bind.", "example.com.", "id.server."};
    ldns_rr_class classes[] = {LDNS_RR_CLASS_CH, LDNS_RR_CLASS_IN, LDNS_RR_CLASS_CH};
    ldns_rr_type types[] = {LDNS_RR_TYPE_TXT, LDNS_RR_TYPE_SOA, LDNS_RR_TYPE_A};
    for (int i = 0; i < 3; i++) {
        size_t ql = make_query(names[i], types[i], classes[i], &EDNS_NSID, q, 512);
        ck_assert(fast_path_takes(a, q, ql));
        int n = answer(a, q, ql, true, out, sizeof out, &v);
        ldns_pkt *p = parse(out, n);
        ck_assert(ldns_pkt_edns(p));
        ck_assert_int_eq(ldns_pkt_edns_udp_size(p), 1232);
        ck_assert_ptr_nonnull(nsid_of(p, nsid, sizeof nsid));
        ck_assert_str_eq(nsid, IDENTITY);
        ldns_pkt_free(p);
    }
    /* EDNS without NSID: an OPT without the option; DO is copied. */
    struct qopt o = EDNS_NSID;
    o.nsid = false;
    o.do_bit = true;
    size_t ql = make_query("hostname.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, &o, q, 512);
    int n = answer(a, q, ql, true, out, sizeof out, &v);
    ldns_pkt *p = parse(out, n);
    ck_assert(ldns_pkt_edns(p));
    ck_assert(ldns_pkt_edns_do(p));
    ck_assert_ptr_null(nsid_of(p, nsid, sizeof nsid));
    ldns_pkt_free(p);
    dns_answerer_free(a);
}
END_TEST

START_TEST(badvers)
{
    struct dns_answerer *a = new_answerer(IDENTITY, NULL);
    uint8_t q[512], out[4096];
    char nsid[512];
    enum dns_verdict v;
    struct qopt o = EDNS_NSID;
    o.version = 1;
    size_t ql = make_query("hostname.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, &o, q, 512);
    ck_assert(!fast_path_takes(a, q, ql));
    int n = answer(a, q, ql, true, out, sizeof out, &v);
    ck_assert_int_eq(v, DNS_FORMERR);
    ldns_pkt *p = parse(out, n);
    ck_assert_int_eq(ldns_pkt_get_rcode(p), 0);
    ck_assert_int_eq(ldns_pkt_edns_extended_rcode(p), 1); /* 16 = BADVERS */
    ck_assert_int_eq(ldns_pkt_edns_version(p), 0);
    ck_assert_int_eq(ldns_pkt_ancount(p), 0);
    ck_assert_ptr_nonnull(nsid_of(p, nsid, sizeof nsid));
    ldns_pkt_free(p);
    dns_answerer_free(a);
}
END_TEST

/* A header-only FORMERR echoing the id, with QR set. */
static void expect_formerr(const struct dns_answerer *a, const uint8_t *q, size_t ql)
{
    uint8_t out[4096];
    enum dns_verdict v;
    int n = answer(a, q, ql, true, out, sizeof out, &v);
    ck_assert_int_eq(v, DNS_FORMERR);
    ck_assert_int_eq(n, 12);
    ck_assert_mem_eq(out, q, 2);
    ck_assert(out[2] & 0x80);
    ck_assert_int_eq(out[3] & 15, LDNS_RCODE_FORMERR);
}

START_TEST(formerr_cases)
{
    struct dns_answerer *a = new_answerer(IDENTITY, NULL);
    uint8_t q[600];
    size_t ql = make_query("hostname.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, &PLAIN, q, 512);

    /* QDCOUNT 0 and 2. */
    uint8_t m[600];
    memcpy(m, q, ql);
    m[5] = 0;
    expect_formerr(a, m, 12);
    m[5] = 2;
    expect_formerr(a, m, ql);
    /* Truncated question, at every length between header and end. */
    for (size_t cut = 13; cut < ql; cut++)
        expect_formerr(a, q, cut);
    /* A question name that points at itself. */
    memcpy(m, q, 12);
    m[12] = 0xc0;
    m[13] = 12;
    memcpy(m + 14, "\0\x10\0\x03", 4);
    expect_formerr(a, m, 18);
    /* Pointer past the end. */
    m[13] = 200;
    expect_formerr(a, m, 18);
    /* A label type 0x40 / 0x80 (reserved). */
    m[12] = 0x41;
    expect_formerr(a, m, 18);
    /* Two OPT records. */
    struct qopt o = EDNS_NSID;
    ql = make_query("hostname.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, &o, q, 512);
    memcpy(m, q, ql);
    memcpy(m + ql, q + ql - 15, 15);
    m[11] = 2;
    expect_formerr(a, m, ql + 15);
    /* OPT with a non-root owner. */
    ql = make_query("hostname.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, &o, q, 512);
    memcpy(m, q, ql - 15);
    m[ql - 15] = 1;
    m[ql - 14] = 'x';
    m[ql - 13] = 0;
    memcpy(m + ql - 12, q + ql - 14, 14);
    expect_formerr(a, m, ql + 2);
    /* A truncated option inside the OPT. */
    memcpy(m, q, ql);
    m[ql - 1 - 14 + 10] = 6; /* rdlen 6, but only 4 bytes follow */
    memcpy(m + ql, "\0", 1);
    expect_formerr(a, m, ql + 1);
    dns_answerer_free(a);
}
END_TEST

START_TEST(notimp)
{
    struct dns_answerer *a = new_answerer(IDENTITY, NULL);
    uint8_t q[512], out[512];
    enum dns_verdict v;
    size_t ql = make_query("hostname.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, &PLAIN, q, 512);
    for (int op = 1; op < 16; op++) {
        q[2] = (uint8_t)((q[2] & 0x87) | op << 3);
        int n = answer(a, q, ql, true, out, sizeof out, &v);
        ck_assert_int_eq(v, DNS_NOTIMP);
        ck_assert_int_eq(n, 12);
        ck_assert_int_eq((out[2] >> 3) & 15, op);
        ck_assert_int_eq(out[3] & 15, LDNS_RCODE_NOTIMPL);
    }
    dns_answerer_free(a);
}
END_TEST

START_TEST(silence)
{
    struct dns_answerer *a = new_answerer(IDENTITY, NULL);
    uint8_t q[512], out[512];
    enum dns_verdict v = DNS_ANSWERED;
    size_t ql = make_query("hostname.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, &PLAIN, q, 512);
    for (size_t l = 0; l < 12; l++) {
        v = DNS_ANSWERED;
        ck_assert_int_eq(answer(a, q, l, true, out, sizeof out, &v), 0);
        ck_assert_int_eq(v, DNS_DROPPED);
    }
    q[2] |= 0x80; /* a response */
    v = DNS_ANSWERED;
    ck_assert_int_eq(answer(a, q, ql, true, out, sizeof out, &v), 0);
    ck_assert_int_eq(v, DNS_DROPPED);
    dns_answerer_free(a);
}
END_TEST

START_TEST(tc_long_identity)
{
    char id[1501];
    memset(id, 'n', 1500);
    id[600] = '\0';
    struct dns_answerer *a = new_answerer(id, NULL);
    uint8_t q[512], out[65535];
    char txt[2048];
    enum dns_verdict v;

    /* UDP without EDNS: 512 bytes, so TC with the question only. */
    size_t ql = make_query("hostname.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, &PLAIN, q, 512);
    int n = answer(a, q, ql, true, out, sizeof out, &v);
    ck_assert_int_le(n, 512);
    ldns_pkt *p = parse(out, n);
    ck_assert(ldns_pkt_tc(p));
    ck_assert_int_eq(ldns_pkt_qdcount(p), 1);
    ck_assert_int_eq(ldns_pkt_ancount(p), 0);
    ldns_pkt_free(p);

    /* TCP: the whole answer, in three TXT strings (255 + 255 + 90). */
    n = answer(a, q, ql, false, out, sizeof out, &v);
    p = parse(out, n);
    ck_assert(!ldns_pkt_tc(p));
    ck_assert_int_eq(ldns_rr_rd_count(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), 3);
    txt_of(p, txt, sizeof txt);
    ck_assert_str_eq(txt, id);
    ldns_pkt_free(p);

    /* EDNS 1232 without NSID: fits; with NSID (600 more bytes) it does not. */
    struct qopt o = EDNS_NSID;
    o.nsid = false;
    ql = make_query("hostname.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, &o, q, 512);
    n = answer(a, q, ql, true, out, sizeof out, &v);
    ck_assert_int_gt(n, 512);
    ck_assert_int_le(n, 1232);
    p = parse(out, n);
    ck_assert(!ldns_pkt_tc(p));
    ldns_pkt_free(p);
    ql = make_query("hostname.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, &EDNS_NSID, q, 512);
    n = answer(a, q, ql, true, out, sizeof out, &v);
    ck_assert_int_le(n, 1232);
    p = parse(out, n);
    ck_assert(ldns_pkt_tc(p));
    ck_assert_int_eq(ldns_pkt_ancount(p), 0);
    char nsid[700];
    ck_assert_ptr_nonnull(nsid_of(p, nsid, sizeof nsid)); /* still fits without the TXT */
    ck_assert_str_eq(nsid, id);
    ldns_pkt_free(p);
    dns_answerer_free(a);

    /* 1500 bytes with NSID in 1232: TC, and even the NSID does not fit. */
    id[600] = 'n';
    a = new_answerer(id, NULL);
    n = answer(a, q, ql, true, out, sizeof out, &v);
    ck_assert_int_le(n, 1232);
    p = parse(out, n);
    ck_assert(ldns_pkt_tc(p));
    ck_assert(ldns_pkt_edns(p));
    ck_assert_int_eq(ldns_pkt_ancount(p), 0);
    ck_assert_ptr_null(nsid_of(p, nsid, sizeof nsid));
    ldns_pkt_free(p);
    /* A client payload size below 512 still gets 512. */
    o.udp_size = 100;
    o.nsid = false;
    ql = make_query("hostname.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, &o, q, 512);
    n = answer(a, q, ql, true, out, sizeof out, &v);
    ck_assert_int_gt(n, 0);
    ck_assert_int_le(n, 512);
    dns_answerer_free(a);
}
END_TEST

START_TEST(answerer_args)
{
    struct dns_answerer *a = NULL;
    char big[DNS_IDENTITY_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(dns_answerer_new(&a, "", NULL), -EINVAL);
    ck_assert_int_eq(dns_answerer_new(&a, NULL, NULL), -EINVAL);
    ck_assert_int_eq(dns_answerer_new(&a, big, NULL), -EINVAL);
    big[DNS_IDENTITY_MAX] = '\0';
    ck_assert_int_eq(dns_answerer_new(&a, big, NULL), 0);
    dns_answerer_free(a);
    ck_assert_str_eq(dns_verdict_name(DNS_REFUSED), "refused");
    ck_assert_str_eq(dns_verdict_name(DNS_DROPPED), "dropped");
}
END_TEST

/* ---- zone ---- */

static char zone_path[64];

static void write_zone(const char *text)
{
    snprintf(zone_path, sizeof zone_path, "/tmp/ah-test-zone.XXXXXX");
    int fd = mkstemp(zone_path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static const char *ZONE = "$ORIGIN example.test.\n"
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

static struct dns_zone *load_zone(const char *extra)
{
    char text[8192];
    char err[256] = "";
    struct dns_zone *z = NULL;
    snprintf(text, sizeof text, "%s%s", ZONE, extra);
    write_zone(text);
    int rc = dns_zone_load(zone_path, &z, err, sizeof err);
    unlink(zone_path);
    ck_assert_msg(rc == 0, "zone load: %d %s", rc, err);
    return z;
}

static ldns_pkt *zone_query(const struct dns_answerer *a, const char *name, ldns_rr_type t,
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

START_TEST(zone_answers)
{
    struct dns_zone *z = load_zone("");
    struct dns_answerer *a = new_answerer(IDENTITY, z);
    enum dns_verdict v;

    /* Hit. */
    ldns_pkt *p = zone_query(a, "WWW.example.test.", LDNS_RR_TYPE_A, true, &v, NULL);
    ck_assert_int_eq(v, DNS_ANSWERED);
    ck_assert(ldns_pkt_aa(p));
    ck_assert_int_eq(ldns_pkt_get_rcode(p), 0);
    ck_assert_int_eq(ldns_pkt_ancount(p), 1);
    char *s = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(p), 0), 0));
    ck_assert_str_eq(s, "198.51.100.10");
    free(s);
    ldns_pkt_free(p);

    /* CNAME followed inside the zone. */
    p = zone_query(a, "alias.example.test.", LDNS_RR_TYPE_AAAA, true, &v, NULL);
    ck_assert_int_eq(ldns_pkt_ancount(p), 2);
    ck_assert_int_eq(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), LDNS_RR_TYPE_CNAME);
    ck_assert_int_eq(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p), 1)), LDNS_RR_TYPE_AAAA);
    ldns_pkt_free(p);

    /* A CNAME loop ends after each record once. */
    p = zone_query(a, "loop1.example.test.", LDNS_RR_TYPE_A, true, &v, NULL);
    ck_assert_int_eq(ldns_pkt_get_rcode(p), 0);
    ck_assert_int_eq(ldns_pkt_ancount(p), 2);
    ldns_pkt_free(p);

    /* NXDOMAIN with the SOA, TTL lowered to the SOA minimum. */
    p = zone_query(a, "nope.example.test.", LDNS_RR_TYPE_A, true, &v, NULL);
    ck_assert_int_eq(v, DNS_NXDOMAIN);
    ck_assert(ldns_pkt_aa(p));
    ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
    ck_assert_int_eq(ldns_pkt_ancount(p), 0);
    ck_assert_int_eq(ldns_pkt_nscount(p), 1);
    const ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_authority(p), 0);
    ck_assert_int_eq(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
    ck_assert_int_eq(ldns_rr_ttl(soa), 60);
    ldns_pkt_free(p);

    /* NODATA: the name exists, the type does not. */
    p = zone_query(a, "www.example.test.", LDNS_RR_TYPE_MX, true, &v, NULL);
    ck_assert_int_eq(v, DNS_ANSWERED);
    ck_assert_int_eq(ldns_pkt_get_rcode(p), 0);
    ck_assert_int_eq(ldns_pkt_ancount(p), 0);
    ck_assert_int_eq(ldns_pkt_nscount(p), 1);
    ldns_pkt_free(p);

    /* An empty non-terminal is NODATA, not NXDOMAIN. */
    p = zone_query(a, "c.example.test.", LDNS_RR_TYPE_A, true, &v, NULL);
    ck_assert_int_eq(ldns_pkt_get_rcode(p), 0);
    ck_assert_int_eq(ldns_pkt_nscount(p), 1);
    ldns_pkt_free(p);

    /* Referral below a delegation: NS + glue, not authoritative. */
    p = zone_query(a, "host.sub.example.test.", LDNS_RR_TYPE_A, true, &v, NULL);
    ck_assert(!ldns_pkt_aa(p));
    ck_assert_int_eq(ldns_pkt_get_rcode(p), 0);
    ck_assert_int_eq(ldns_pkt_ancount(p), 0);
    ck_assert_int_eq(ldns_pkt_nscount(p), 1);
    ck_assert_int_eq(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_authority(p), 0)), LDNS_RR_TYPE_NS);
    ck_assert_int_eq(ldns_pkt_arcount(p), 1);
    ldns_pkt_free(p);

    /* Wildcards: synthesised with the name asked, also two labels down. */
    const char *wild[] = {"x.wild.example.test.", "Y.x.wild.example.test."};
    for (int i = 0; i < 2; i++) {
        p = zone_query(a, wild[i], LDNS_RR_TYPE_A, true, &v, NULL);
        ck_assert_int_eq(v, DNS_ANSWERED);
        ck_assert(ldns_pkt_aa(p));
        ck_assert_int_eq(ldns_pkt_ancount(p), 1);
        const ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
        ldns_rdf *want = ldns_dname_new_frm_str(wild[i]);
        ck_assert_int_eq(ldns_dname_compare(ldns_rr_owner(rr), want), 0);
        ldns_rdf_deep_free(want);
        ldns_pkt_free(p);
    }
    p = zone_query(a, "x.wild.example.test.", LDNS_RR_TYPE_MX, true, &v, NULL);
    ck_assert_int_eq(ldns_pkt_get_rcode(p), 0);
    ck_assert_int_eq(ldns_pkt_ancount(p), 0);
    ck_assert_int_eq(ldns_pkt_nscount(p), 1);
    ldns_pkt_free(p);
    /* The wildcard's parent is an empty non-terminal; a name under another
     * existing name without a wildcard is NXDOMAIN. */
    p = zone_query(a, "wild.example.test.", LDNS_RR_TYPE_A, true, &v, NULL);
    ck_assert_int_eq(ldns_pkt_get_rcode(p), 0);
    ck_assert_int_eq(ldns_pkt_ancount(p), 0);
    ldns_pkt_free(p);
    p = zone_query(a, "q.www.example.test.", LDNS_RR_TYPE_A, true, &v, NULL);
    ck_assert_int_eq(v, DNS_NXDOMAIN);
    ldns_pkt_free(p);

    /* Outside the zone, and the identity still answers. */
    p = zone_query(a, "example.org.", LDNS_RR_TYPE_A, true, &v, NULL);
    ck_assert_int_eq(v, DNS_REFUSED);
    ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
    ldns_pkt_free(p);
    uint8_t q[512], out[512];
    size_t ql = make_query("hostname.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, &PLAIN, q, 512);
    ck_assert(fast_path_takes(a, q, ql));
    ck_assert_int_gt(answer(a, q, ql, true, out, sizeof out, &v), 0);
    ck_assert_int_eq(v, DNS_ANSWERED);
    /* Names in the zone go to the ldns path; names outside it are refused
     * by the template path (compared label-aligned, any case). */
    ql = make_query("www.example.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, &PLAIN, q, 512);
    ck_assert(!fast_path_takes(a, q, ql));
    ql = make_query("EXAMPLE.Test.", LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, &PLAIN, q, 512);
    ck_assert(!fast_path_takes(a, q, ql));
    const char *outside[] = {"example.org.", "xexample.test.", "test.", "www.example.test.org."};
    for (int i = 0; i < 4; i++) {
        ql = make_query(outside[i], LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, &PLAIN, q, 512);
        ck_assert(fast_path_takes(a, q, ql));
        ck_assert_int_gt(answer(a, q, ql, true, out, sizeof out, &v), 0);
        ck_assert_int_eq(v, DNS_REFUSED);
    }

    dns_answerer_free(a);
    dns_zone_free(z);
}
END_TEST

START_TEST(zone_big_rrset_tc)
{
    char extra[8192] = "";
    for (int i = 0; i < 40; i++) {
        char line[128];
        snprintf(line, sizeof line, "big IN TXT \"record %02d padding padding padding\"\n", i);
        strcat(extra, line);
    }
    struct dns_zone *z = load_zone(extra);
    struct dns_answerer *a = new_answerer(IDENTITY, z);
    enum dns_verdict v;
    uint8_t q[512], out[65535];
    size_t ql = make_query("big.example.test.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, &PLAIN, q, 512);
    int n = answer(a, q, ql, true, out, sizeof out, &v);
    ck_assert_int_le(n, 512);
    ldns_pkt *p = parse(out, n);
    ck_assert(ldns_pkt_tc(p));
    ck_assert_int_eq(ldns_pkt_ancount(p), 0);
    ldns_pkt_free(p);
    n = answer(a, q, ql, false, out, sizeof out, &v);
    ck_assert_int_gt(n, 1232);
    p = parse(out, n);
    ck_assert(!ldns_pkt_tc(p));
    ck_assert_int_eq(ldns_pkt_ancount(p), 40);
    ldns_pkt_free(p);
    /* A TCP answer larger than the caller's buffer is truncated too. */
    n = answer(a, q, ql, false, out, 600, &v);
    ck_assert_int_le(n, 600);
    p = parse(out, n);
    ck_assert(ldns_pkt_tc(p));
    ldns_pkt_free(p);
    /* ANY returns every RRset at the name. */
    p = zone_query(a, "www.example.test.", LDNS_RR_TYPE_ANY, false, &v, NULL);
    ck_assert_int_eq(ldns_pkt_ancount(p), 2);
    ldns_pkt_free(p);
    dns_answerer_free(a);
    dns_zone_free(z);
}
END_TEST

static int load_text(const char *text, char *err, size_t errlen)
{
    struct dns_zone *z = NULL;
    write_zone(text);
    int rc = dns_zone_load(zone_path, &z, err, errlen);
    unlink(zone_path);
    dns_zone_free(z);
    return rc;
}

START_TEST(zone_errors)
{
    char err[256];
    struct dns_zone *z = NULL;
    ck_assert_int_eq(dns_zone_load("/nonexistent/zone", &z, err, sizeof err), -ENOENT);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/zone"));

    ck_assert_int_eq(
        load_text("$ORIGIN x.test.\n@ IN SOA a b 1 2 3 4 5\nwww IN A 1.2.3\n", err, sizeof err),
        -EINVAL);
    ck_assert_msg(strstr(err, ":3:") != NULL, "no line number in \"%s\"", err);

    ck_assert_int_eq(load_text("$ORIGIN x.test.\nwww IN A 1.2.3.4\n", err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "SOA"));

    ck_assert_int_eq(load_text("$ORIGIN x.test.\n@ IN SOA a b 1 2 3 4 5\nwww.other. IN A 1.2.3.4\n",
                               err, sizeof err),
                     -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "outside"));
    ck_assert_msg(strstr(err, ":3:") != NULL, "no line number in \"%s\"", err);

    ck_assert_int_eq(
        load_text("$ORIGIN x.test.\n@ IN SOA a b 1 2 3 4 5\n\n@ IN SOA a b 2 2 3 4 5\n", err,
                  sizeof err),
        -EINVAL);
    ck_assert_msg(strstr(err, ":4:") && strstr(err, "SOA"), "got \"%s\"", err);

    ck_assert_int_eq(load_text("", err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "no SOA"));

    ck_assert_int_eq(
        load_text("$ORIGIN x.test.\n@ IN SOA a b 1 2 3 4 5\nw IN CNAME a\nw IN A 1.2.3.4\n", err,
                  sizeof err),
        -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "CNAME"));
}
END_TEST

/* ---- differential over a grid of queries ---- */

START_TEST(differential_grid)
{
    struct dns_zone *z = load_zone("");
    struct dns_answerer *with_zone = new_answerer(IDENTITY, z);
    struct dns_answerer *plain = new_answerer("x", NULL);
    const char *names[] = {"hostname.bind.",    "HOSTNAME.BIND.", "Id.Server.", "id.server.",
                           "www.example.test.", "example.com.",   ".",          "bind.",
                           "hostname.bind.x."};
    ldns_rr_type types[] = {LDNS_RR_TYPE_TXT, LDNS_RR_TYPE_ANY, LDNS_RR_TYPE_A, LDNS_RR_TYPE_SOA,
                            LDNS_RR_TYPE_AXFR};
    ldns_rr_class classes[] = {LDNS_RR_CLASS_CH, LDNS_RR_CLASS_IN, LDNS_RR_CLASS_ANY,
                               LDNS_RR_CLASS_HS};
    uint16_t sizes[] = {0, 100, 512, 1232, 65535};
    uint8_t q[600], out[65535];
    enum dns_verdict v;
    int fast = 0, total = 0;
    for (size_t ni = 0; ni < sizeof names / sizeof names[0]; ni++)
        for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++)
            for (size_t ci = 0; ci < sizeof classes / sizeof classes[0]; ci++)
                for (int variant = 0; variant < 12; variant++) {
                    struct qopt o = {.id = (uint16_t)(ni * 1000 + variant),
                                     .rd = variant & 1,
                                     .cd = (variant >> 1) & 1,
                                     .edns = variant >= 2,
                                     .udp_size = sizes[variant % 5],
                                     .do_bit = variant & 4,
                                     .nsid = variant & 8};
                    size_t ql = make_query(names[ni], types[ti], classes[ci], &o, q, sizeof q);
                    for (int w = 0; w < 2; w++) {
                        const struct dns_answerer *a = w ? plain : with_zone;
                        fast += fast_path_takes(a, q, ql);
                        total++;
                        /* answer() asserts fast == slow whenever fast answers. */
                        ck_assert_int_gt(answer(a, q, ql, true, out, sizeof out, &v), 0);
                        ck_assert_int_gt(answer(a, q, ql, false, out, sizeof out, &v), 0);
                    }
                }
    /* The template path must actually be exercised. */
    ck_assert_int_gt(fast, total / 4);
    dns_answerer_free(with_zone);
    dns_answerer_free(plain);
    dns_zone_free(z);
}
END_TEST

/* Random and mutated inputs: never a crash, answers always parse. */
START_TEST(random_inputs)
{
    struct dns_answerer *a = new_answerer(IDENTITY, NULL);
    uint8_t q[600], m[600], out[65535];
    enum dns_verdict v;
    size_t ql =
        make_query("hostname.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, &EDNS_NSID, q, 600);
    uint32_t seed = 12345;
    for (int i = 0; i < 20000; i++) {
        size_t len = ql;
        memcpy(m, q, ql);
        int flips = 1 + i % 4;
        for (int f = 0; f < flips; f++) {
            seed = seed * 1103515245u + 12345u;
            m[(seed >> 8) % ql] = (uint8_t)(seed >> 20);
        }
        seed = seed * 1103515245u + 12345u;
        if (i % 3 == 0)
            len = (seed >> 8) % (ql + 1);
        int n = answer(a, m, len, true, out, sizeof out, &v);
        ck_assert_int_ge(n, 0);
        if (n > 0) {
            ck_assert_int_le(n, 65535);
            ck_assert_mem_eq(out, m, 2);
            ldns_pkt *p = parse(out, n);
            ldns_pkt_free(p);
        }
    }
    dns_answerer_free(a);
}
END_TEST

/* One answerer shared by several threads gives every thread the same bytes
 * as a single thread does (it is immutable; run under TSan to check more). */
struct thread_job {
    const struct dns_answerer *a;
    const uint8_t (*queries)[64];
    const size_t *qlens;
    const uint8_t (*expect)[2048];
    const int *elens;
    int nq;
    int mismatches;
};

static void *thread_main(void *arg)
{
    struct thread_job *j = arg;
    uint8_t out[2048];
    enum dns_verdict v;
    for (int round = 0; round < 300; round++)
        for (int i = 0; i < j->nq; i++) {
            int n = dns_answer(j->a, j->queries[i], j->qlens[i], true, out, sizeof out, &v);
            if (n != j->elens[i] || (n > 0 && memcmp(out, j->expect[i], (size_t)n) != 0))
                j->mismatches++;
        }
    return NULL;
}

START_TEST(shared_between_threads)
{
    struct dns_zone *z = load_zone("");
    struct dns_answerer *a = new_answerer(IDENTITY, z);
    static uint8_t queries[6][64], expect[6][2048];
    size_t qlens[6];
    int elens[6];
    const char *names[] = {"hostname.bind.",     "id.server.",   "www.example.test.",
                           "nope.example.test.", "example.org.", "alias.example.test."};
    ldns_rr_class cls[] = {LDNS_RR_CLASS_CH, LDNS_RR_CLASS_CH, LDNS_RR_CLASS_IN,
                           LDNS_RR_CLASS_IN, LDNS_RR_CLASS_IN, LDNS_RR_CLASS_IN};
    for (int i = 0; i < 6; i++) {
        ldns_rr_type t = cls[i] == LDNS_RR_CLASS_CH ? LDNS_RR_TYPE_TXT : LDNS_RR_TYPE_A;
        qlens[i] = make_query(names[i], t, cls[i], i % 2 ? &EDNS_NSID : &PLAIN, queries[i], 64);
        enum dns_verdict v;
        elens[i] = dns_answer(a, queries[i], qlens[i], true, expect[i], sizeof expect[i], &v);
        ck_assert_int_gt(elens[i], 0);
    }
    pthread_t th[4];
    struct thread_job jobs[4];
    for (int t = 0; t < 4; t++) {
        jobs[t] = (struct thread_job){
            a, (const uint8_t(*)[64])queries, qlens, (const uint8_t(*)[2048])expect, elens, 6, 0};
        ck_assert_int_eq(pthread_create(&th[t], NULL, thread_main, &jobs[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        ck_assert_int_eq(pthread_join(th[t], NULL), 0);
        ck_assert_int_eq(jobs[t].mismatches, 0);
    }
    dns_answerer_free(a);
    dns_zone_free(z);
}
END_TEST

static Suite *dns_answer_suite(void)
{
    Suite *s = suite_create("dns_answer");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, hostname_bind);
    tcase_add_test(tc, id_server_case_and_any);
    tcase_add_test(tc, ch_other_type_nodata);
    tcase_add_test(tc, class_mix_refused);
    tcase_add_test(tc, nsid_on_every_answer);
    tcase_add_test(tc, badvers);
    tcase_add_test(tc, formerr_cases);
    tcase_add_test(tc, notimp);
    tcase_add_test(tc, silence);
    tcase_add_test(tc, tc_long_identity);
    tcase_add_test(tc, answerer_args);
    tcase_add_test(tc, zone_answers);
    tcase_add_test(tc, zone_big_rrset_tc);
    tcase_add_test(tc, zone_errors);
    tcase_add_test(tc, differential_grid);
    tcase_add_test(tc, random_inputs);
    tcase_add_test(tc, shared_between_threads);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(dns_answer_suite)
