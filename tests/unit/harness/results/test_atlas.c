/* Unit tests for the RIPE Atlas decoder and scanner (harness/results/atlas.c,
 * atlas_scan.c): one result becomes the rows docs/atlas.md describes (node
 * from hostname.bind, id.server or NSID, errors as failed rows, no usable
 * answer as bad_reply), and the scanner cuts both file forms into elements
 * with an element over the bound or cut by the end reported, not kept. The
 * abufs are DNS wire made by tests/atlas/gen_fixtures.py. */
#include "tests/unit/check_main.h"
#include "harness/results/atlas.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define AB_HOSTNAME "EmeEAAABAAEAAAAACGhvc3RuYW1lBGJpbmQAABAAA8AMABAAAwAAAAAABgVhbXMtMQ=="
#define AB_IDSERVER "EmeEAAABAAEAAAAAAmlkBnNlcnZlcgAAEAADwAwAEAADAAAAAAAGBWZyYS0x"
#define AB_NSID     "EmeEAAABAAAAAAABCGhvc3RuYW1lBGJpbmQAABAAAwAAKQTQAAAAAAAJAAMABXNpbi0x"
#define AB_REFUSED  "EmeEBQABAAAAAAAACGhvc3RuYW1lBGJpbmQAABAAAw=="
#define AB_HOSTILE  "EmeEAAABAAEAAAAACGhvc3RuYW1lBGJpbmQAABAAA8AMABAAAwAAAAAABwZhLCJiIgo="
#define AB_NSID_SOA "EmeEAAABAAAAAAABB2V4YW1wbGUDY29tAAAGAAEAACkE0AAAAAAACQADAAVueWMtMg=="

static struct atlas_row rows[8];
static int nrows;
static char err[256];

static int collect(void *arg, const struct atlas_row *r)
{
    (void)arg;
    ck_assert_int_lt(nrows, 8);
    rows[nrows++] = *r;
    return 0;
}

static int decode(const char *json)
{
    nrows = 0;
    err[0] = '\0';
    return atlas_decode(json, strlen(json), collect, NULL, err, sizeof err);
}

#define ONE(abuf)                                                                                  \
    "{\"type\":\"dns\",\"prb_id\":42,\"msm_id\":7,\"timestamp\":1700000000,\"dst_addr\":"          \
    "\"198.51.100.53\",\"proto\":\"UDP\",\"result\":{\"rt\":12.5,\"abuf\":\"" abuf "\"}}"

START_TEST(hostname_bind_ok)
{
    ck_assert_int_eq(decode(ONE(AB_HOSTNAME)), 1);
    ck_assert_int_eq(rows[0].result, AH_RES_OK);
    ck_assert_str_eq(rows[0].node, "ams-1");
    ck_assert_uint_eq(rows[0].prb_id, 42);
    ck_assert_uint_eq(rows[0].ts_ns, 1700000000000000000ULL);
    ck_assert_int_eq(rows[0].rtt_us, 12500);
    ck_assert_uint_eq(rows[0].conn, 7 * 256);
    ck_assert_str_eq(rows[0].target, "198.51.100.53");
    ck_assert_int_eq(rows[0].transport, AH_TR_UDP);
}
END_TEST

START_TEST(id_server_nsid_and_hostile)
{
    ck_assert_int_eq(decode(ONE(AB_IDSERVER)), 1);
    ck_assert_str_eq(rows[0].node, "fra-1");
    ck_assert_int_eq(decode(ONE(AB_NSID)), 1);
    ck_assert_int_eq(rows[0].result, AH_RES_OK);
    ck_assert_str_eq(rows[0].node, "sin-1");
    ck_assert_int_eq(decode(ONE(AB_NSID_SOA)), 1);
    ck_assert_str_eq(rows[0].node, "nyc-2");
    /* The identity is data: every byte kept for the CSV to quote. */
    ck_assert_int_eq(decode(ONE(AB_HOSTILE)), 1);
    ck_assert_str_eq(rows[0].node, "a,\"b\"\n");
}
END_TEST

START_TEST(no_usable_answer_is_bad_reply)
{
    ck_assert_int_eq(decode(ONE(AB_REFUSED)), 1);
    ck_assert_int_eq(rows[0].result, AH_RES_BAD_REPLY);
    ck_assert_str_eq(rows[0].detail, "REFUSED");
    ck_assert_int_eq(decode(ONE("!!not base64")), 1);
    ck_assert_int_eq(rows[0].result, AH_RES_BAD_REPLY);
    ck_assert_str_eq(rows[0].detail, "abuf: not base64");
    ck_assert_int_eq(decode(ONE("AAAA")), 1);
    ck_assert_int_eq(rows[0].result, AH_RES_BAD_REPLY);
    ck_assert_int_eq(
        decode("{\"type\":\"dns\",\"prb_id\":1,\"timestamp\":5,\"result\":{\"rt\":3.0}}"), 1);
    ck_assert_int_eq(rows[0].result, AH_RES_BAD_REPLY);
    ck_assert_str_eq(rows[0].detail, "no abuf");
    ck_assert_int_eq(rows[0].rtt_us, 3000);
}
END_TEST

START_TEST(errors_are_failed_rows)
{
    ck_assert_int_eq(
        decode("{\"prb_id\":1,\"timestamp\":5,\"proto\":\"TCP\",\"error\":{\"timeout\":5000}}"), 1);
    ck_assert_int_eq(rows[0].result, AH_RES_TIMEOUT);
    ck_assert_str_eq(rows[0].detail, "timeout: 5000");
    ck_assert_int_eq(rows[0].transport, AH_TR_TCP);
    ck_assert_int_eq(decode("{\"prb_id\":1,\"timestamp\":5,\"error\":{\"socket\":\"connect "
                            "failed\"}}"),
                     1);
    ck_assert_int_eq(rows[0].result, AH_RES_ERROR);
    ck_assert_str_eq(rows[0].detail, "socket: connect failed");
    ck_assert_int_eq(rows[0].rtt_us, -1);
}
END_TEST

START_TEST(resultset_rows)
{
    const char *j =
        "{\"type\":\"dns\",\"prb_id\":9,\"msm_id\":3,\"timestamp\":100,"
        "\"resultset\":[{\"time\":101,\"dst_addr\":\"203.0.113.101\",\"result\":{\"rt\":"
        "1.5,\"abuf\":\"" AB_HOSTNAME "\"}},{\"dst_addr\":\"203.0.113.102\",\"error\":"
        "{\"timeout\":1000}}]}";
    ck_assert_int_eq(decode(j), 2);
    ck_assert_uint_eq(rows[0].ts_ns, 101000000000ULL);
    ck_assert_str_eq(rows[0].node, "ams-1");
    ck_assert_uint_eq(rows[0].conn, 3 * 256 + 1);
    ck_assert_uint_eq(rows[1].ts_ns, 100000000000ULL); /* the result's timestamp */
    ck_assert_int_eq(rows[1].result, AH_RES_TIMEOUT);
    ck_assert_str_eq(rows[1].target, "203.0.113.102");
    ck_assert_uint_eq(rows[1].conn, 3 * 256 + 2);
}
END_TEST

START_TEST(unusable_elements_rejected)
{
    ck_assert_int_eq(decode("{\"type\":\"ping\",\"prb_id\":1,\"timestamp\":5}"), -EBADMSG);
    ck_assert_int_eq(decode("{\"type\":\"dns\",\"timestamp\":5}"), -EBADMSG);
    ck_assert_int_eq(decode("{\"type\":\"dns\",\"prb_id\":1}"), -EBADMSG);
    ck_assert_int_eq(decode("{\"prb_id\":1,\"timestamp\":-5}"), -EBADMSG);
    ck_assert_int_eq(decode("{\"prb_id\":1,\"prb_id\":2,\"timestamp\":5}"), -EBADMSG);
    ck_assert_int_eq(decode("[1,2]"), -EBADMSG);
    ck_assert_int_eq(decode("{\"prb_id\": 1, \"timestamp\": }"), -EBADMSG);
    ck_assert_int_eq(decode("{\"prb_id\":1,\"timestamp\":5,\"resultset\":[]}"), -EBADMSG);
    ck_assert_int_eq(nrows, 0);
}
END_TEST

/* ---- scanner ---- */

struct seen {
    int good, bad;
    char last[64];
    unsigned long n[16];
};

static int on_elem(void *arg, unsigned long n, uint64_t off, const char *text, size_t len,
                   const char *why)
{
    struct seen *s = arg;
    (void)off;
    (void)why;
    if (n == 0)
        return 0;
    if (text) {
        snprintf(s->last, sizeof s->last, "%.*s", (int)len, text);
        s->good++;
    } else {
        s->bad++;
    }
    s->n[(s->good + s->bad - 1) & 15] = n;
    return 0;
}

static struct seen scan(const char *text, size_t max)
{
    struct seen s = {0};
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(write(p[1], text, strlen(text)), (ssize_t)strlen(text));
    close(p[1]);
    long n = atlas_scan_fd(p[0], max, on_elem, &s);
    close(p[0]);
    ck_assert_int_eq(n, s.good + s.bad);
    return s;
}

START_TEST(scanner_forms)
{
    struct seen s = scan("[{\"a\":\"]}\\\"[{\"}, {\"b\":[1,{\"c\":2}]} ,\n{}]", 1024);
    ck_assert_int_eq(s.good, 3);
    ck_assert_str_eq(s.last, "{}");
    s = scan("{\"x\":1}\n{\"y\":\"}\\n\"}\n\n{\"z\":3}\n", 1024);
    ck_assert_int_eq(s.good, 3);
    ck_assert_str_eq(s.last, "{\"z\":3}");
    s = scan("[{\"a\":1}][{\"b\":2}]", 1024); /* pages one after the other */
    ck_assert_int_eq(s.good, 2);
}
END_TEST

START_TEST(scanner_bounds_and_truncation)
{
    struct seen s = scan("[{\"a\":\"0123456789012345678901234567890123456789\"},{\"b\":1}]", 16);
    ck_assert_int_eq(s.bad, 1);
    ck_assert_int_eq(s.good, 1);
    ck_assert_uint_eq(s.n[1], 2);
    ck_assert_str_eq(s.last, "{\"b\":1}");
    s = scan("[{\"a\":1},{\"b\":\"cut", 1024);
    ck_assert_int_eq(s.good, 1);
    ck_assert_int_eq(s.bad, 1);
    s = scan("[{\"a\":1},,{\"b\":2}", 1024); /* an empty slot is skipped */
    ck_assert_int_eq(s.good, 2);
    s = scan("}{\"a\":1}", 1024);
    ck_assert_int_eq(s.bad, 1);
    ck_assert_int_eq(s.good, 1);
}
END_TEST

static Suite *atlas_suite(void)
{
    Suite *s = suite_create("atlas");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, hostname_bind_ok);
    tcase_add_test(tc, id_server_nsid_and_hostile);
    tcase_add_test(tc, no_usable_answer_is_bad_reply);
    tcase_add_test(tc, errors_are_failed_rows);
    tcase_add_test(tc, resultset_rows);
    tcase_add_test(tc, unusable_elements_rejected);
    tcase_add_test(tc, scanner_forms);
    tcase_add_test(tc, scanner_bounds_and_truncation);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(atlas_suite)
