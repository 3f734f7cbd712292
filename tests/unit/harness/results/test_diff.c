/* Unit tests for comparing runs (harness/results/diff.c): the judgement of
 * one metric, the matching of rows by key, reading summary.csv by column
 * name with bad rows skipped, and the XML escaper of the JUnit writer
 * (harness/results/junit.c). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/results/diff.h"
#include "harness/results/junit.h"
#include "tests/unit/check_main.h"

static const struct diff_opts O = {10, 20};

START_TEST(judge_metric)
{
    /* A time: more than 10 ms and more than 20 % of A. */
    ck_assert_int_eq(diff_judge(DIFF_OUTAGE_MS, true, 100, true, 125, &O), DIFF_WORSE);
    ck_assert_int_eq(diff_judge(DIFF_OUTAGE_MS, true, 100, true, 115, &O), DIFF_SAME);
    ck_assert_int_eq(diff_judge(DIFF_OUTAGE_MS, true, 10, true, 19, &O), DIFF_SAME);
    ck_assert_int_eq(diff_judge(DIFF_OUTAGE_MS, true, 0, true, 10.5, &O), DIFF_WORSE);
    ck_assert_int_eq(diff_judge(DIFF_OUTAGE_MS, true, 100, true, 70, &O), DIFF_BETTER);
    ck_assert_int_eq(diff_judge(DIFF_RTT_MS_P99, true, 1, true, 30, &O), DIFF_WORSE);
    /* A count: more than 20 % and at least 1. */
    ck_assert_int_eq(diff_judge(DIFF_LOST, true, 0, true, 1, &O), DIFF_WORSE);
    ck_assert_int_eq(diff_judge(DIFF_LOST, true, 10, true, 12, &O), DIFF_SAME);
    ck_assert_int_eq(diff_judge(DIFF_LOST, true, 10, true, 13, &O), DIFF_WORSE);
    ck_assert_int_eq(diff_judge(DIFF_FLIPS, true, 3, true, 0, &O), DIFF_BETTER);
    /* Empty on one side: not comparable, never a regression. */
    ck_assert_int_eq(diff_judge(DIFF_SWITCH_MS, true, 100, false, 0, &O), DIFF_NOT_COMPARABLE);
    ck_assert_int_eq(diff_judge(DIFF_SWITCH_MS, false, 0, true, 900, &O), DIFF_NOT_COMPARABLE);
    ck_assert_int_eq(diff_judge(DIFF_SWITCH_MS, false, 0, false, 0, &O), DIFF_NONE);
    /* Descriptive columns are shown, not judged. */
    ck_assert_int_eq(diff_judge(DIFF_PROBES, true, 100, true, 1000, &O), DIFF_CHANGED);
    ck_assert_int_eq(diff_judge(DIFF_BASE_RTT_MS_P50, true, 1, true, 1, &O), DIFF_SAME);
    ck_assert(!diff_metric_judged(DIFF_CONNS_AT_EVENT));
    ck_assert(diff_metric_judged(DIFF_DETECT_MS));
    ck_assert_str_eq(diff_metric_name(DIFF_RECONNECT_MS), "reconnect_ms");
    struct diff_opts loose = {0, 0};
    ck_assert_int_eq(diff_judge(DIFF_OUTAGE_MS, true, 100, true, 100.001, &loose), DIFF_WORSE);
}
END_TEST

static void add(struct diff_table *t, const char *ev, const char *node, unsigned occ, const char *v,
                enum ah_transport tr, double outage, bool has_switch)
{
    struct diff_row r = {.event = (char *)ev,
                         .node = (char *)node,
                         .vantage = (char *)v,
                         .occurrence = occ,
                         .transport = tr,
                         .service = AH_SVC_DNS};
    r.has[DIFF_OUTAGE_MS] = true;
    r.val[DIFF_OUTAGE_MS] = outage;
    r.has[DIFF_SWITCH_MS] = has_switch;
    r.val[DIFF_SWITCH_MS] = 5;
    ck_assert_int_eq(diff_table_add(t, &r), 0);
}

START_TEST(match_rows)
{
    struct diff_table a = {0}, b = {0};
    struct diff_result res;
    add(&a, "run", "", 1, "eu", AH_TR_UDP, 10, false);
    add(&a, "withdraw", "sin", 1, "eu", AH_TR_UDP, 10, true);
    add(&a, "withdraw", "sin", 2, "eu", AH_TR_UDP, 10, true);
    add(&a, "withdraw", "sin", 1, "eu", AH_TR_TCP, 10, true);
    add(&a, "withdraw", "sin", 1, "ap", AH_TR_UDP, 10, true);
    /* B in another order; #2 regressed, tcp lost its switch, ap is gone,
     * us is new. */
    add(&b, "withdraw", "sin", 2, "eu", AH_TR_UDP, 90, true);
    add(&b, "withdraw", "sin", 1, "eu", AH_TR_TCP, 10, false);
    add(&b, "withdraw", "sin", 1, "us", AH_TR_UDP, 10, true);
    add(&b, "withdraw", "sin", 1, "eu", AH_TR_UDP, 1, true);
    add(&b, "run", "", 1, "eu", AH_TR_UDP, 10, false);
    ck_assert_int_eq(diff_table_index(&b), 0);
    ck_assert_int_eq(diff_compare(&a, &b, &O, &res), 0);
    ck_assert_uint_eq(res.matched, 4);
    ck_assert_uint_eq(res.only_a, 1);
    ck_assert_uint_eq(res.only_b, 1);
    ck_assert_uint_eq(res.worse, 1);
    ck_assert_uint_eq(res.better, 0); /* 10 -> 1 is within 10 ms */
    ck_assert_uint_eq(res.not_comparable, 1);
    ck_assert_uint_eq(res.n, 6);
    /* A's order kept, the occurrence told apart. */
    ck_assert_ptr_eq(res.pairs[2].a, &a.rows[2]);
    ck_assert_ptr_eq(res.pairs[2].b, &b.rows[0]);
    ck_assert_int_eq(res.pairs[2].mark[DIFF_OUTAGE_MS], DIFF_WORSE);
    ck_assert_int_eq(res.pairs[1].mark[DIFF_OUTAGE_MS], DIFF_SAME);
    ck_assert_int_eq(res.pairs[3].mark[DIFF_SWITCH_MS], DIFF_NOT_COMPARABLE);
    ck_assert_int_eq(res.pairs[0].mark[DIFF_SWITCH_MS], DIFF_NONE);
    ck_assert_ptr_null(res.pairs[4].b); /* ap: only in A */
    ck_assert_ptr_null(res.pairs[5].a); /* us: only in B */
    ck_assert_str_eq(res.pairs[5].b->vantage, "us");
    char ev[64];
    diff_row_event(res.pairs[2].a, ev, sizeof ev);
    ck_assert_str_eq(ev, "withdraw sin#2");
    diff_row_event(res.pairs[0].a, ev, sizeof ev);
    ck_assert_str_eq(ev, "run");
    diff_result_free(&res);
    diff_table_free(&a);
    diff_table_free(&b);
}
END_TEST

static char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/ah-test-diff.XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

START_TEST(load_summary)
{
    /* Columns in another order, no occurrence column (counted from the
     * event times), a bad row skipped, an unknown extra column ignored. */
    char *p = write_tmp("event,node,vantage,transport,service,extra,event_ts_ns,outage_ms,"
                        "switch_ms,lost\n"
                        "run,,eu,udp,dns,x,100,1.5,,0\n"
                        "withdraw,sin,eu,udp,dns,x,200,2.5,3,1\n"
                        "withdraw,sin,eu,sctp,dns,x,200,2.5,3,1\n"
                        "withdraw,sin,eu,udp,dns,x,300,7,,2\n"
                        "withdraw,sin,\"e,u\",udp,dns,x,300,nan?,,2\n"
                        "withdraw,sin,us,udp,dns,x,300,8,,2\n");
    struct diff_table t = {0};
    ck_assert_int_eq(diff_table_load(&t, p), 0);
    ck_assert_uint_eq(t.n, 4);
    ck_assert_uint_eq(t.skipped, 2);
    ck_assert_str_eq(t.rows[0].node, "");
    ck_assert(t.rows[0].has[DIFF_OUTAGE_MS] && t.rows[0].val[DIFF_OUTAGE_MS] == 1.5);
    ck_assert(!t.rows[0].has[DIFF_SWITCH_MS]);
    ck_assert(!t.rows[0].has[DIFF_RTT_MS_P50]); /* no such column */
    ck_assert_uint_eq(t.rows[1].occurrence, 1);
    ck_assert_uint_eq(t.rows[2].occurrence, 2);
    ck_assert_uint_eq(t.rows[3].occurrence, 2);
    struct diff_row key = {.event = "withdraw", .node = "sin", .vantage = "eu", .occurrence = 2};
    const struct diff_row *r = diff_table_find(&t, &key);
    ck_assert_ptr_nonnull(r);
    ck_assert(r->val[DIFF_LOST] == 2);
    key.occurrence = 3;
    ck_assert_ptr_null(diff_table_find(&t, &key));
    diff_table_free(&t);
    unlink(p);
    /* The report's own form: "withdraw#2" is the word and occurrence 2. */
    p = write_tmp("event_ts_ns,event,node,vantage,transport,service,lost\n"
                  "200,withdraw,sin,eu,udp,dns,1\n"
                  "300,withdraw#2,sin,eu,udp,dns,5\n");
    t = (struct diff_table){0};
    ck_assert_int_eq(diff_table_load(&t, p), 0);
    ck_assert_uint_eq(t.n, 2);
    ck_assert_str_eq(t.rows[1].event, "withdraw");
    ck_assert_uint_eq(t.rows[0].occurrence, 1);
    ck_assert_uint_eq(t.rows[1].occurrence, 2);
    key.occurrence = 2;
    r = diff_table_find(&t, &key);
    ck_assert_ptr_nonnull(r);
    ck_assert(r->val[DIFF_LOST] == 5);
    diff_table_free(&t);
    unlink(p);

    /* An occurrence column is used as it is; a header without the key
     * columns is not a summary. */
    p = write_tmp("event_ts_ns,event,node,occurrence,vantage,transport,service,lost\n"
                  "200,withdraw,sin,5,eu,tcp,echo,3\n");
    ck_assert_int_eq(diff_table_load(&t, p), 0);
    ck_assert_uint_eq(t.rows[0].occurrence, 5);
    ck_assert_int_eq(t.rows[0].service, AH_SVC_ECHO);
    diff_table_free(&t);
    unlink(p);
    p = write_tmp("ts_ns,vantage,target\n1,eu,x\n");
    ck_assert_int_eq(diff_table_load(&t, p), -EINVAL);
    diff_table_free(&t);
    unlink(p);
}
END_TEST

static char *xml(const char *s)
{
    static char buf[512];
    memset(buf, 0, sizeof buf);
    FILE *f = fmemopen(buf, sizeof buf, "w");
    junit_xml_str(f, s);
    fclose(f);
    return buf;
}

START_TEST(xml_escape)
{
    ck_assert_str_eq(xml("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
    /* Control bytes (not allowed in XML 1.0 even as references), invalid
     * UTF-8 and U+FFFF become visible \xNN text; valid UTF-8 stays. */
    ck_assert_str_eq(xml("x\x01y\x1b[2J\n"), "x\\x01y\\x1b[2J\\x0a");
    ck_assert_str_eq(xml("\xff\xc3("), "\\xff\\xc3(");
    ck_assert_str_eq(xml("caf\xc3\xa9"), "caf\xc3\xa9");
    ck_assert_str_eq(xml("a\xef\xbf\xbf"), "a\\xEF\\xBF\\xBF");
    ck_assert_str_eq(xml("back\\slash"), "back\\\\slash");
    ck_assert_str_eq(xml(NULL), "");

    char buf[2048];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    struct junit_case c[] = {{"ok one", JUNIT_PASS, NULL},
                             {"bad <one>", JUNIT_FAIL, "measured \"5\""},
                             {"late", JUNIT_SKIP, "not measured"}};
    ck_assert_int_eq(junit_write_file(f, "lab&", c, 3), 0);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "<testsuite name=\"lab&amp;\" tests=\"3\" failures=\"1\" "
                                      "errors=\"0\" skipped=\"1\">"));
    ck_assert_ptr_nonnull(strstr(buf, "<testcase classname=\"lab&amp;\" name=\"ok one\"/>"));
    ck_assert_ptr_nonnull(strstr(buf, "name=\"bad &lt;one&gt;\">\n      <failure "
                                      "message=\"measured &quot;5&quot;\"/>"));
    ck_assert_ptr_nonnull(strstr(buf, "<skipped message=\"not measured\"/>"));
}
END_TEST

static Suite *diff_suite(void)
{
    Suite *s = suite_create("diff");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, judge_metric);
    tcase_add_test(tc, match_rows);
    tcase_add_test(tc, load_summary);
    tcase_add_test(tc, xml_escape);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(diff_suite)
