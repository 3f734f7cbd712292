/* Unit tests for anycast-probe's payloads and reply judgement
 * (clients/wire.c): the DNS template with its id patched in, echo request
 * lines and their parsing back from replies and ICMP quotes, and verdicts on
 * replies built independently with ldns. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include <ldns/ldns.h>

#include "clients/wire.h"
#include "tests/unit/check_main.h"

/* Answers the query in q_wire the way a server would, with ldns: TXT
 * identity (when txt != NULL), the given rcode, optional NSID option. */
static size_t make_reply(const uint8_t *q_wire, size_t q_len, const char *txt, ldns_pkt_rcode rc,
                         const char *nsid, uint8_t *out, size_t cap)
{
    ldns_pkt *p = NULL;
    uint8_t *wire = NULL;
    size_t len = 0;

    ck_assert_int_eq(ldns_wire2pkt(&p, q_wire, q_len), LDNS_STATUS_OK);
    ldns_pkt_set_qr(p, true);
    ldns_pkt_set_rcode(p, (uint8_t)rc);
    if (txt != NULL) {
        char rr_s[300];
        ldns_rr *rr = NULL;
        ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(p), 0);
        char *owner = ldns_rdf2str(ldns_rr_owner(q));
        snprintf(rr_s, sizeof(rr_s), "%s 0 CH TXT \"%s\"", owner, txt);
        free(owner);
        ck_assert_int_eq(ldns_rr_new_frm_str(&rr, rr_s, 0, NULL, NULL), LDNS_STATUS_OK);
        ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
    }
    if (nsid != NULL) {
        ldns_edns_option_list *ol = ldns_edns_option_list_new();
        ldns_edns_option *o = ldns_edns_new_from_data(LDNS_EDNS_NSID, strlen(nsid), nsid);
        ldns_edns_option_list_push(ol, o);
        ldns_pkt_set_edns_option_list(p, ol);
    } else {
        ldns_pkt_set_edns_option_list(p, NULL);
    }
    ck_assert_int_eq(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
    ck_assert_uint_le(len, cap);
    memcpy(out, wire, len);
    LDNS_FREE(wire);
    ldns_pkt_free(p);
    return len;
}

START_TEST(dns_template_ids)
{
    struct ah_ident_query q;
    struct wire_dns_tpl t;
    uint8_t a[WIRE_DNS_MAX], b[WIRE_DNS_MAX];
    uint16_t id;

    ck_assert_int_eq(ah_ident_query_parse("hostname.bind", &q), 0);
    ck_assert_int_eq(wire_dns_template(&q, &t), 0);
    size_t la = wire_dns_query(&t, 0x1234, a);
    size_t lb = wire_dns_query(&t, 0xbeef, b);
    ck_assert_uint_eq(la, lb);
    ck_assert_int_eq(wire_dns_id(a, la, &id), 0);
    ck_assert_uint_eq(id, 0x1234);
    ck_assert_int_eq(wire_dns_id(b, lb, &id), 0);
    ck_assert_uint_eq(id, 0xbeef);
    /* Only the id differs, and the result is a valid query. */
    ck_assert_int_eq(memcmp(a + 2, b + 2, la - 2), 0);
    ldns_pkt *p = NULL;
    ck_assert_int_eq(ldns_wire2pkt(&p, a, la), LDNS_STATUS_OK);
    ck_assert_uint_eq(ldns_pkt_id(p), 0x1234);
    ck_assert(!ldns_pkt_qr(p));
    ldns_pkt_free(p);
    ck_assert_int_eq(wire_dns_id(a, 11, &id), -EBADMSG);
}
END_TEST

START_TEST(dns_judge)
{
    struct ah_ident_query q;
    struct wire_dns_tpl t;
    struct wire_verdict v;
    uint8_t qw[WIRE_DNS_MAX], r[1024];
    size_t ql, rl;

    ck_assert_int_eq(ah_ident_query_parse("hostname.bind", &q), 0);
    ck_assert_int_eq(wire_dns_template(&q, &t), 0);
    ql = wire_dns_query(&t, 77, qw);

    rl = make_reply(qw, ql, "ams-1", LDNS_RCODE_NOERROR, NULL, r, sizeof(r));
    wire_dns_judge(&q, r, rl, &v);
    ck_assert_int_eq(v.result, AH_RES_OK);
    ck_assert_str_eq(v.node, "ams-1");
    ck_assert_str_eq(v.detail, "");

    /* REFUSED without identity: bad_reply, the rcode in detail. */
    rl = make_reply(qw, ql, NULL, LDNS_RCODE_REFUSED, NULL, r, sizeof(r));
    wire_dns_judge(&q, r, rl, &v);
    ck_assert_int_eq(v.result, AH_RES_BAD_REPLY);
    ck_assert_str_eq(v.node, "");
    ck_assert_str_eq(v.detail, "REFUSED");

    /* REFUSED but with NSID: the node is known, the rcode still noted. */
    rl = make_reply(qw, ql, NULL, LDNS_RCODE_REFUSED, "nyc", r, sizeof(r));
    wire_dns_judge(&q, r, rl, &v);
    ck_assert_int_eq(v.result, AH_RES_OK);
    ck_assert_str_eq(v.node, "nyc");
    ck_assert_str_eq(v.detail, "REFUSED");

    /* NOERROR without any identity. */
    rl = make_reply(qw, ql, NULL, LDNS_RCODE_NOERROR, NULL, r, sizeof(r));
    wire_dns_judge(&q, r, rl, &v);
    ck_assert_int_eq(v.result, AH_RES_BAD_REPLY);
    ck_assert_str_ne(v.detail, "");

    /* Garbage and a truncated reply. */
    wire_dns_judge(&q, (const uint8_t *)"\x00\x4dxyz", 5, &v);
    ck_assert_int_eq(v.result, AH_RES_BAD_REPLY);
    ck_assert_str_eq(v.detail, "malformed");
    rl = make_reply(qw, ql, "ams-1", LDNS_RCODE_NOERROR, NULL, r, sizeof(r));
    wire_dns_judge(&q, r, rl - 3, &v);
    ck_assert_int_eq(v.result, AH_RES_BAD_REPLY);
}
END_TEST

START_TEST(echo_lines)
{
    char line[64];
    uint64_t flow, seq;
    int n = wire_echo_line(40000, 123456789012ull, line, sizeof(line));

    ck_assert_int_eq(n, (int)strlen("ahp 40000 123456789012\n"));
    ck_assert_str_eq(line, "ahp 40000 123456789012\n");
    ck_assert_int_eq(wire_echo_request_parse((uint8_t *)line, (size_t)n, &flow, &seq), 0);
    ck_assert_uint_eq(flow, 40000);
    ck_assert_uint_eq(seq, 123456789012ull);
    /* As quoted by an ICMP error, possibly without the newline. */
    ck_assert_int_eq(wire_echo_request_parse((uint8_t *)line, (size_t)n - 1, &flow, &seq), 0);
    ck_assert_int_eq(wire_echo_request_parse((uint8_t *)"ahq 1 2\n", 8, &flow, &seq), -EBADMSG);
    ck_assert_int_eq(wire_echo_request_parse((uint8_t *)"ahp 1\n", 6, &flow, &seq), -EBADMSG);
    ck_assert_int_eq(wire_echo_request_parse((uint8_t *)"ahp 1 2x\n", 9, &flow, &seq), -EBADMSG);
    ck_assert_int_eq(wire_echo_line(1, 2, line, 5), -ENOSPC);

    const char *rep = "sin ahp 7 9\n";
    ck_assert_int_eq(wire_echo_reply_parse((const uint8_t *)rep, strlen(rep), &flow, &seq), 0);
    ck_assert_uint_eq(flow, 7);
    ck_assert_uint_eq(seq, 9);
    ck_assert_int_eq(wire_echo_reply_parse((const uint8_t *)" ahp 7 9\n", 9, &flow, &seq),
                     -EBADMSG);
}
END_TEST

START_TEST(echo_judge)
{
    struct wire_verdict v;
    const char *sent = "ahp 7 9\n";
    const char *good = "sin ahp 7 9\n", *other = "sin ahp 7 10\n";

    wire_echo_judge((const uint8_t *)good, strlen(good), (const uint8_t *)sent, strlen(sent), &v);
    ck_assert_int_eq(v.result, AH_RES_OK);
    ck_assert_str_eq(v.node, "sin");
    wire_echo_judge((const uint8_t *)other, strlen(other), (const uint8_t *)sent, strlen(sent), &v);
    ck_assert_int_eq(v.result, AH_RES_BAD_REPLY);
    ck_assert_str_eq(v.node, "");
    ck_assert_str_eq(v.detail, "mismatch");
}
END_TEST

static Suite *wire_suite(void)
{
    Suite *s = suite_create("probe_wire");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, dns_template_ids);
    tcase_add_test(tc, dns_judge);
    tcase_add_test(tc, echo_lines);
    tcase_add_test(tc, echo_judge);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(wire_suite)
