/* Unit tests for harness/run/progress_tail.c: rows of a growing probes.csv
 * fed in arbitrary pieces, quoting that would shift a naive split, and the
 * bounds on what a hostile identity can make it keep. */
#include "harness/run/progress_tail.h"
#include "tests/unit/check_main.h"

#include <stdio.h>
#include <string.h>

struct seen {
    unsigned n;
    char result[8][PROGRESS_RESULT_MAX];
    char node[8][PROGRESS_NODE_MAX];
};

static void on_row(void *arg, const char *result, const char *node)
{
    struct seen *s = arg;
    if (s->n < 8) {
        strcpy(s->result[s->n], result);
        strcpy(s->node[s->n], node);
    }
    s->n++;
}

static const char header[] =
    "ts_ns,vantage,target,transport,service,conn,seq,result,node,rtt_us,detail\n";

START_TEST(rows_across_pieces)
{
    const char body[] = "1,eu,198.51.100.53,udp,dns,4000,1,ok,ams,120,\n"
                        "2,eu,198.51.100.53,udp,dns,4000,2,timeout,,,\n"
                        "3,eu,198.51.100.53,udp,dns,4000,3,ok,nyc,98,\n";
    char all[512];
    snprintf(all, sizeof all, "%s%s", header, body);
    /* One byte at a time and all at once give the same rows. */
    for (int piecewise = 0; piecewise < 2; piecewise++) {
        struct progress_tail t = {0};
        struct seen s = {0};
        size_t n = strlen(all);
        if (piecewise)
            for (size_t i = 0; i < n; i++)
                progress_tail_feed(&t, all + i, 1, on_row, &s);
        else
            progress_tail_feed(&t, all, n, on_row, &s);
        ck_assert_uint_eq(s.n, 3);
        ck_assert_str_eq(s.result[0], "ok");
        ck_assert_str_eq(s.node[0], "ams");
        ck_assert_str_eq(s.result[1], "timeout");
        ck_assert_str_eq(s.node[1], "");
        ck_assert_str_eq(s.node[2], "nyc");
    }
}
END_TEST

START_TEST(partial_row_waits)
{
    struct progress_tail t = {0};
    struct seen s = {0};
    progress_tail_feed(&t, header, strlen(header), on_row, &s);
    const char part[] = "1,eu,198.51.100.53,udp,dns,4000,1,ok,am";
    progress_tail_feed(&t, part, strlen(part), on_row, &s);
    ck_assert_uint_eq(s.n, 0);
    progress_tail_feed(&t, "s,120,\n", 7, on_row, &s);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_str_eq(s.node[0], "ams");
}
END_TEST

START_TEST(hostile_identity_quoted)
{
    struct progress_tail t = {0};
    struct seen s = {0};
    progress_tail_feed(&t, header, strlen(header), on_row, &s);
    /* An identity with a comma, a doubled quote and a line end stays one
     * field; the row after it is read as it should be. */
    const char rows[] = "1,eu,x,udp,dns,1,1,ok,\"a,\"\"b\"\"\nc\",5,\n"
                        "2,eu,x,udp,dns,1,2,ok,ams,5,\n";
    progress_tail_feed(&t, rows, strlen(rows), on_row, &s);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_str_eq(s.node[0], "a,\"b\"\nc");
    ck_assert_str_eq(s.node[1], "ams");
    /* A node longer than the bound is cut, the row still counts. */
    char longrow[600];
    char big[400];
    memset(big, 'n', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    snprintf(longrow, sizeof longrow, "3,eu,x,udp,dns,1,3,ok,%s,5,\n", big);
    progress_tail_feed(&t, longrow, strlen(longrow), on_row, &s);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_uint_eq(strlen(s.node[2]), PROGRESS_NODE_MAX - 1);
}
END_TEST

START_TEST(short_rows_ignored)
{
    struct progress_tail t = {0};
    struct seen s = {0};
    const char rows[] = "h\n1,eu\n\n2,eu,x,udp,dns,1,2,ok,ams\n";
    progress_tail_feed(&t, rows, strlen(rows), on_row, &s);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_str_eq(s.node[0], "ams");
}
END_TEST

static Suite *progress_tail_suite(void)
{
    Suite *s = suite_create("progress_tail");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, rows_across_pieces);
    tcase_add_test(tc, partial_row_waits);
    tcase_add_test(tc, hostile_identity_quoted);
    tcase_add_test(tc, short_rows_ignored);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(progress_tail_suite)
