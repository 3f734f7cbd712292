/* Unit tests for the DNS identity codec (lib/ident.c): spec parsing, query
 * building checked against ldns, reply parsing on replies built with ldns,
 * and round trips through the responder's answer function. */
#include "ah/ident.h"
#include "tests/unit/check_main.h"
#include "servers/dns_answer.h"

#include <errno.h>
#include <string.h>

#include <ldns/ldns.h>

START_TEST(parse_specs)
{
    struct ah_ident_query q;
    ck_assert_int_eq(ah_ident_query_parse("hostname.bind", &q), 0);
    ck_assert_int_eq(q.kind, AH_IDENT_HOSTNAME_BIND);
    ck_assert_str_eq(q.qname, "hostname.bind.");
    ck_assert_int_eq(q.qtype, LDNS_RR_TYPE_TXT);
    ck_assert_int_eq(q.qclass, LDNS_RR_CLASS_CH);
    ck_assert_int_eq(q.bufsize, 1232);

    ck_assert_int_eq(ah_ident_query_parse("ID.Server", &q), 0);
    ck_assert_int_eq(q.kind, AH_IDENT_ID_SERVER);
    ck_assert_str_eq(q.qname, "id.server.");

    ck_assert_int_eq(ah_ident_query_parse("nsid:example.com/SOA", &q), 0);
    ck_assert_int_eq(q.kind, AH_IDENT_NSID);
    ck_assert_str_eq(q.qname, "example.com.");
    ck_assert_int_eq(q.qtype, LDNS_RR_TYPE_SOA);
    ck_assert_int_eq(q.qclass, LDNS_RR_CLASS_IN);

    ck_assert_int_eq(ah_ident_query_parse("nsid:.//aaaa", &q), -EINVAL);
    ck_assert_int_eq(ah_ident_query_parse("nsid:./aaaa", &q), 0);
    ck_assert_str_eq(q.qname, ".");
    ck_assert_int_eq(q.qtype, LDNS_RR_TYPE_AAAA);
    ck_assert_int_eq(ah_ident_query_parse("nsid:x.example/TYPE65", &q), 0);
    ck_assert_int_eq(q.qtype, 65);
}
END_TEST

START_TEST(parse_specs_bad)
{
    struct ah_ident_query q;
    const char *bad[] = {
        "",
        "hostname",
        "version.bind",
        "nsid:",
        "nsid:example.com",
        "nsid:/SOA",
        "nsid:example.com/",
        "nsid:example.com/BOGUS",
        "nsid:example.com/AXFR",
        "nsid:a..b/A",
        "nsid:"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com/A"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(ah_ident_query_parse(bad[i], &q) == -EINVAL, "accepted \"%s\"", bad[i]);
}
END_TEST

/* The hand-built query must read back through ldns as the question asked. */
static void check_query_with_ldns(const char *spec, uint16_t id)
{
    struct ah_ident_query q;
    uint8_t buf[512];
    ck_assert_int_eq(ah_ident_query_parse(spec, &q), 0);
    int n = ah_ident_query_build(&q, id, buf, sizeof buf);
    ck_assert_int_gt(n, 0);

    ldns_pkt *p = NULL;
    ck_assert_int_eq(ldns_wire2pkt(&p, buf, (size_t)n), LDNS_STATUS_OK);
    ck_assert_int_eq(ldns_pkt_id(p), id);
    ck_assert(!ldns_pkt_qr(p));
    ck_assert(!ldns_pkt_rd(p));
    ck_assert_int_eq(ldns_pkt_get_opcode(p), LDNS_PACKET_QUERY);
    ck_assert_int_eq(ldns_pkt_qdcount(p), 1);
    ldns_rr *qr = ldns_rr_list_rr(ldns_pkt_question(p), 0);
    ldns_rdf *want = ldns_dname_new_frm_str(q.qname);
    ck_assert_int_eq(ldns_dname_compare(ldns_rr_owner(qr), want), 0);
    ck_assert_int_eq(ldns_rr_get_type(qr), q.qtype);
    ck_assert_int_eq(ldns_rr_get_class(qr), q.qclass);
    ck_assert(ldns_pkt_edns(p));
    ck_assert_int_eq(ldns_pkt_edns_udp_size(p), 1232);
    ck_assert_int_eq(ldns_pkt_edns_version(p), 0);
    ldns_rdf *d = ldns_pkt_edns_data(p);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(ldns_rdf_size(d), 4);
    ck_assert_mem_eq(ldns_rdf_data(d), "\0\3\0\0", 4);
    ldns_rdf_deep_free(want);
    ldns_pkt_free(p);
}

START_TEST(build_matches_ldns)
{
    check_query_with_ldns("hostname.bind", 0x1234);
    check_query_with_ldns("id.server", 0);
    check_query_with_ldns("nsid:example.com/SOA", 0xffff);
    check_query_with_ldns("nsid:Mixed.Case.Example/TXT", 7);
    check_query_with_ldns("nsid:a\\.b.example/A", 9);
    check_query_with_ldns("nsid:./NS", 10);
}
END_TEST

START_TEST(build_nospace)
{
    struct ah_ident_query q;
    uint8_t buf[64];
    ck_assert_int_eq(ah_ident_query_parse("hostname.bind", &q), 0);
    int n = ah_ident_query_build(&q, 1, buf, sizeof buf);
    ck_assert_int_eq(n, 12 + 15 + 4 + 11 + 4);
    ck_assert_int_eq(ah_ident_query_build(&q, 1, buf, (size_t)n - 1), -ENOSPC);
}
END_TEST

/* A reply to q built with ldns: txt strings (NULL-terminated list or NULL
 * for no TXT answer), an NSID value (NULL for none) and an rcode. */
static int make_reply(const struct ah_ident_query *q, uint16_t id, int rcode, const char **txt,
                      const uint8_t *nsid, size_t nsid_len, uint8_t *out, size_t cap)
{
    ldns_pkt *p = ldns_pkt_new();
    ldns_pkt_set_id(p, id);
    ldns_pkt_set_qr(p, true);
    ldns_pkt_set_aa(p, true);
    ldns_pkt_set_rcode(p, (uint8_t)(rcode & 15));
    ldns_rdf *name = ldns_dname_new_frm_str(q->qname);
    ldns_rr *qr = ldns_rr_new();
    ldns_rr_set_owner(qr, ldns_rdf_clone(name));
    ldns_rr_set_type(qr, q->qtype);
    ldns_rr_set_class(qr, q->qclass);
    ldns_rr_set_question(qr, true);
    ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, qr);
    if (txt) {
        ldns_rr *a = ldns_rr_new();
        ldns_rr_set_owner(a, ldns_rdf_clone(name));
        ldns_rr_set_type(a, LDNS_RR_TYPE_TXT);
        ldns_rr_set_class(a, q->qclass);
        for (const char **s = txt; *s; s++) {
            uint8_t b[256];
            size_t l = strlen(*s);
            b[0] = (uint8_t)l;
            memcpy(b + 1, *s, l);
            ldns_rr_push_rdf(a, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, l + 1, b));
        }
        ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, a);
    }
    ldns_pkt_set_edns_udp_size(p, 1232);
    ldns_pkt_set_edns_extended_rcode(p, (uint8_t)(rcode >> 4));
    if (nsid) {
        uint8_t o[300];
        o[0] = 0;
        o[1] = 3;
        o[2] = (uint8_t)(nsid_len >> 8);
        o[3] = (uint8_t)nsid_len;
        memcpy(o + 4, nsid, nsid_len);
        ldns_pkt_set_edns_data(p, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, nsid_len + 4, o));
    }
    uint8_t *w = NULL;
    size_t n = 0;
    ck_assert_int_eq(ldns_pkt2wire(&w, p, &n), LDNS_STATUS_OK);
    ck_assert_uint_le(n, cap);
    memcpy(out, w, n);
    free(w);
    ldns_rdf_deep_free(name);
    ldns_pkt_free(p);
    return (int)n;
}

START_TEST(reply_txt)
{
    struct ah_ident_query q;
    struct ah_ident_reply r;
    uint8_t buf[1024];
    const char *txt[] = {"ams", "-01", NULL};
    ck_assert_int_eq(ah_ident_query_parse("hostname.bind", &q), 0);
    int n = make_reply(&q, 42, 0, txt, (const uint8_t *)"nsid-ams", 8, buf, sizeof buf);
    ck_assert_int_eq(ah_ident_reply_parse(&q, buf, (size_t)n, &r), 0);
    ck_assert_int_eq(r.id, 42);
    ck_assert_int_eq(r.rcode, 0);
    ck_assert(!r.tc);
    ck_assert(r.has_identity);
    /* The TXT answer wins over NSID; strings are concatenated. */
    ck_assert_str_eq(r.identity, "ams-01");
    ck_assert_str_eq(r.detail, "");
}
END_TEST

/* A hostile TXT identity comes through byte for byte (terminal escapes, a
 * newline, invalid UTF-8, shell and gnuplot syntax): it is data, escaped
 * where it is shown. Only NUL cannot be held and becomes '?'. */
START_TEST(reply_txt_exact_bytes)
{
    struct ah_ident_query q;
    struct ah_ident_reply r;
    uint8_t buf[1024];
    const char *txt[] = {"\x1b]0;x\x07\x1b[2J", "a\nb\r\x7f\xe9`id`\"'", NULL};
    ck_assert_int_eq(ah_ident_query_parse("hostname.bind", &q), 0);
    int n = make_reply(&q, 7, 0, txt, NULL, 0, buf, sizeof buf);
    ck_assert_int_eq(ah_ident_reply_parse(&q, buf, (size_t)n, &r), 0);
    ck_assert(r.has_identity);
    ck_assert_str_eq(r.identity, "\x1b]0;x\x07\x1b[2Ja\nb\r\x7f\xe9`id`\"'");

    /* NUL bytes, patched into the wire after "ams". */
    const char *nul[] = {"amsXX", NULL};
    n = make_reply(&q, 8, 0, nul, NULL, 0, buf, sizeof buf);
    uint8_t *at = memmem(buf, (size_t)n, "amsXX", 5);
    ck_assert_ptr_nonnull(at);
    at[3] = at[4] = 0;
    ck_assert_int_eq(ah_ident_reply_parse(&q, buf, (size_t)n, &r), 0);
    ck_assert_str_eq(r.identity, "ams??");
}
END_TEST

START_TEST(reply_nsid_fallback)
{
    struct ah_ident_query q;
    struct ah_ident_reply r;
    uint8_t buf[1024];
    ck_assert_int_eq(ah_ident_query_parse("id.server", &q), 0);
    int n = make_reply(&q, 1, 5, NULL, (const uint8_t *)"nyc", 3, buf, sizeof buf);
    ck_assert_int_eq(ah_ident_reply_parse(&q, buf, (size_t)n, &r), 0);
    ck_assert(r.has_identity);
    ck_assert_str_eq(r.identity, "nyc");
    ck_assert_int_eq(r.rcode, 5);
    ck_assert_str_eq(r.detail, "REFUSED");
}
END_TEST

START_TEST(reply_nsid_kind)
{
    struct ah_ident_query q;
    struct ah_ident_reply r;
    uint8_t buf[1024];
    const uint8_t bin[] = {0x01, 0xab, 0x7f};
    ck_assert_int_eq(ah_ident_query_parse("nsid:example.com/SOA", &q), 0);
    int n = make_reply(&q, 7, 0, NULL, bin, sizeof bin, buf, sizeof buf);
    ck_assert_int_eq(ah_ident_reply_parse(&q, buf, (size_t)n, &r), 0);
    ck_assert(r.has_identity);
    ck_assert_str_eq(r.identity, "01ab7f"); /* not printable: hex */
}
END_TEST

START_TEST(reply_no_identity)
{
    struct ah_ident_query q;
    struct ah_ident_reply r;
    uint8_t buf[1024];
    ck_assert_int_eq(ah_ident_query_parse("hostname.bind", &q), 0);
    int n = make_reply(&q, 7, 0, NULL, NULL, 0, buf, sizeof buf);
    ck_assert_int_eq(ah_ident_reply_parse(&q, buf, (size_t)n, &r), 0);
    ck_assert(!r.has_identity);
    ck_assert_str_eq(r.identity, "");
    ck_assert_str_eq(r.detail, "no-identity");
    /* Empty NSID is no identity either. */
    n = make_reply(&q, 7, 0, NULL, (const uint8_t *)"", 0, buf, sizeof buf);
    ck_assert_int_eq(ah_ident_reply_parse(&q, buf, (size_t)n, &r), 0);
    ck_assert(!r.has_identity);
    /* Truncated reply without identity says so. */
    buf[2] |= 0x02;
    ck_assert_int_eq(ah_ident_reply_parse(&q, buf, (size_t)n, &r), 0);
    ck_assert(r.tc);
    ck_assert_str_eq(r.detail, "truncated");
}
END_TEST

START_TEST(reply_extended_rcode)
{
    struct ah_ident_query q;
    struct ah_ident_reply r;
    uint8_t buf[1024];
    ck_assert_int_eq(ah_ident_query_parse("hostname.bind", &q), 0);
    int n = make_reply(&q, 7, 16, NULL, NULL, 0, buf, sizeof buf);
    ck_assert_int_eq(ah_ident_reply_parse(&q, buf, (size_t)n, &r), 0);
    ck_assert_int_eq(r.rcode, 16);
    ck_assert_str_eq(r.detail, "BADVERS");
}
END_TEST

START_TEST(reply_rejects)
{
    struct ah_ident_query q, other;
    struct ah_ident_reply r;
    uint8_t buf[1024];
    const char *txt[] = {"ams", NULL};
    ck_assert_int_eq(ah_ident_query_parse("hostname.bind", &q), 0);
    ck_assert_int_eq(ah_ident_query_parse("id.server", &other), 0);
    int n = make_reply(&q, 7, 0, txt, NULL, 0, buf, sizeof buf);
    /* Another question. */
    ck_assert_int_eq(ah_ident_reply_parse(&other, buf, (size_t)n, &r), -EBADMSG);
    /* Every truncation of a good reply is rejected, never read past. */
    for (int cut = 0; cut < n; cut++) {
        uint8_t *copy = malloc((size_t)cut + 1);
        memcpy(copy, buf, (size_t)cut);
        ck_assert_int_eq(ah_ident_reply_parse(&q, copy, (size_t)cut, &r), -EBADMSG);
        free(copy);
    }
    /* A query is no reply. */
    buf[2] &= 0x7f;
    ck_assert_int_eq(ah_ident_reply_parse(&q, buf, (size_t)n, &r), -EBADMSG);
}
END_TEST

START_TEST(reply_compression_loop)
{
    struct ah_ident_query q;
    struct ah_ident_reply r;
    ck_assert_int_eq(ah_ident_query_parse("hostname.bind", &q), 0);
    /* Header, question, then an answer whose owner points at itself. */
    uint8_t m[64] = {0, 1, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0};
    size_t p = 12;
    memcpy(m + p,
           "\x08hostname\x04"
           "bind\0\0\x10\0\x03",
           19);
    p += 19;
    m[p] = 0xc0;
    m[p + 1] = (uint8_t)p;
    memcpy(m + p + 2,
           "\0\x10\0\x03\0\0\0\0\0\x04\x03"
           "abc",
           14);
    ck_assert_int_eq(ah_ident_reply_parse(&q, m, p + 16, &r), -EBADMSG);
    /* Pointing back at the question instead works. */
    m[p + 1] = 12;
    ck_assert_int_eq(ah_ident_reply_parse(&q, m, p + 16, &r), 0);
    ck_assert_str_eq(r.identity, "abc");
}
END_TEST

START_TEST(rcode_names)
{
    ck_assert_str_eq(ah_ident_rcode_name(0), "NOERROR");
    ck_assert_str_eq(ah_ident_rcode_name(3), "NXDOMAIN");
    ck_assert_str_eq(ah_ident_rcode_name(16), "BADVERS");
    ck_assert_str_eq(ah_ident_rcode_name(12), "RCODE12");
    ck_assert_str_eq(ah_ident_rcode_name(4000), "RCODE4000");
}
END_TEST

/* Round trip: ident builds, the responder's dns_answer answers, ident reads
 * the identity back, over UDP and TCP limits. */
static void round_trip(const char *spec, const char *identity, const char *want)
{
    struct dns_answerer *a = NULL;
    struct ah_ident_query q;
    struct ah_ident_reply r;
    uint8_t qb[512], ab[65535];
    ck_assert_int_eq(dns_answerer_new(&a, identity, NULL), 0);
    ck_assert_int_eq(ah_ident_query_parse(spec, &q), 0);
    for (int udp = 0; udp <= 1; udp++) {
        int qn = ah_ident_query_build(&q, 0xbeef, qb, sizeof qb);
        ck_assert_int_gt(qn, 0);
        enum dns_verdict v;
        int an = dns_answer(a, qb, (size_t)qn, udp, ab, sizeof ab, &v);
        ck_assert_int_gt(an, 0);
        ck_assert_int_eq(ah_ident_reply_parse(&q, ab, (size_t)an, &r), 0);
        ck_assert_int_eq(r.id, 0xbeef);
        ck_assert(r.has_identity);
        ck_assert_str_eq(r.identity, want);
    }
    dns_answerer_free(a);
}

START_TEST(round_trips)
{
    round_trip("hostname.bind", "ams-1", "ams-1");
    round_trip("id.server", "nyc.example", "nyc.example");
    /* nsid: a REFUSED answer still carries the NSID. */
    round_trip("nsid:example.com/SOA", "sin", "sin");
    /* 300 bytes: two TXT strings, cut to AH_IDENT_MAX - 1 on the probe. */
    char longid[301];
    memset(longid, 'x', 300);
    longid[300] = '\0';
    char want[AH_IDENT_MAX];
    memset(want, 'x', AH_IDENT_MAX - 1);
    want[AH_IDENT_MAX - 1] = '\0';
    round_trip("hostname.bind", longid, want);
}
END_TEST

static Suite *ident_suite(void)
{
    Suite *s = suite_create("ident");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, parse_specs);
    tcase_add_test(tc, parse_specs_bad);
    tcase_add_test(tc, build_matches_ldns);
    tcase_add_test(tc, build_nospace);
    tcase_add_test(tc, reply_txt);
    tcase_add_test(tc, reply_txt_exact_bytes);
    tcase_add_test(tc, reply_nsid_fallback);
    tcase_add_test(tc, reply_nsid_kind);
    tcase_add_test(tc, reply_no_identity);
    tcase_add_test(tc, reply_extended_rcode);
    tcase_add_test(tc, reply_rejects);
    tcase_add_test(tc, reply_compression_loop);
    tcase_add_test(tc, rcode_names);
    tcase_add_test(tc, round_trips);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(ident_suite)
