/* Unit tests for the responder's DNS answer layer (servers/dns_answer.c,
 * dns_fast.c): bytes in, bytes out, no sockets. Every answer a test asks
 * for is also computed by the ldns path alone and, where the template path
 * takes the query, compared byte for byte (differential). Zone answers are
 * in test_dns_zone.c. */
#include "dns_test_util.h"

#include <pthread.h>

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
    tcase_add_test(tc, differential_grid);
    tcase_add_test(tc, random_inputs);
    tcase_add_test(tc, shared_between_threads);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(dns_answer_suite)