/* Unit tests for the responder's zone answers (servers/dns_zone.c through
 * dns_answer): hits, CNAME, NXDOMAIN and NODATA with the SOA, empty
 * non-terminals, wildcards, referrals, truncation of big RRsets, and load
 * errors with file and line. */
#include "dns_test_util.h"

/* Every test here asks the same zone, loaded fresh by the fixture. */
static struct dns_zone *zone;
static struct dns_answerer *answerer;

static void zone_setup(void)
{
    zone = load_zone("");
    answerer = new_answerer(IDENTITY, zone);
}

static void zone_teardown(void)
{
    dns_answerer_free(answerer);
    dns_zone_free(zone);
}

START_TEST(zone_hit_and_cname)
{
    struct dns_answerer *a = answerer;
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
}
END_TEST

START_TEST(zone_nxdomain_nodata)
{
    struct dns_answerer *a = answerer;
    enum dns_verdict v;

    /* NXDOMAIN with the SOA, TTL lowered to the SOA minimum. */
    ldns_pkt *p = zone_query(a, "nope.example.test.", LDNS_RR_TYPE_A, true, &v, NULL);
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
}
END_TEST

START_TEST(zone_referral)
{
    struct dns_answerer *a = answerer;
    enum dns_verdict v;

    /* Referral below a delegation: NS + glue, not authoritative. */
    ldns_pkt *p = zone_query(a, "host.sub.example.test.", LDNS_RR_TYPE_A, true, &v, NULL);
    ck_assert(!ldns_pkt_aa(p));
    ck_assert_int_eq(ldns_pkt_get_rcode(p), 0);
    ck_assert_int_eq(ldns_pkt_ancount(p), 0);
    ck_assert_int_eq(ldns_pkt_nscount(p), 1);
    ck_assert_int_eq(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_authority(p), 0)), LDNS_RR_TYPE_NS);
    ck_assert_int_eq(ldns_pkt_arcount(p), 1);
    ldns_pkt_free(p);
}
END_TEST

START_TEST(zone_wildcard)
{
    struct dns_answerer *a = answerer;
    enum dns_verdict v;

    /* Wildcards: synthesised with the name asked, also two labels down. */
    ldns_pkt *p;
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
}
END_TEST

START_TEST(zone_outside)
{
    struct dns_answerer *a = answerer;
    enum dns_verdict v;

    /* Outside the zone, and the identity still answers. */
    ldns_pkt *p = zone_query(a, "example.org.", LDNS_RR_TYPE_A, true, &v, NULL);
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

static Suite *dns_zone_suite(void)
{
    Suite *s = suite_create("dns_zone");
    TCase *answers = tcase_create("answers");
    tcase_add_checked_fixture(answers, zone_setup, zone_teardown);
    tcase_add_test(answers, zone_hit_and_cname);
    tcase_add_test(answers, zone_nxdomain_nodata);
    tcase_add_test(answers, zone_referral);
    tcase_add_test(answers, zone_wildcard);
    tcase_add_test(answers, zone_outside);
    suite_add_tcase(s, answers);
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, zone_big_rrset_tc);
    tcase_add_test(tc, zone_errors);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(dns_zone_suite)
