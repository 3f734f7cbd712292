/* Unit tests for harness/results/results.c: results directory names, the events log
 * (appended as it comes, rewritten in time order), the windowed merge of
 * per-vantage CSV files, run.json and JSON escaping. */
#include "harness/lab/drill.h"
#include "harness/results/results.h"
#include "ah/csv.h"
#include "tests/unit/check_main.h"
#include "tests/unit/test_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void dir_setup(void)
{
    tmpdir_make("results");
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(dir_name_is_utc_stamp)
{
    char buf[64];
    /* 1700000000 s = 2023-11-14 22:13:20 UTC. */
    ck_assert_int_eq(
        results_dir_name(1700000000ULL * 1000000000ULL + 999, "quickstart", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "20231114T221320Z-quickstart");
    ck_assert_int_eq(results_dir_name(0, "x", buf, 8), -ENOSPC);
}
END_TEST

START_TEST(make_dir_avoids_collisions)
{
    char a[256], b[256];
    const char *base = tmp_path("results");
    uint64_t t = 1700000000ULL * 1000000000ULL;
    ck_assert_int_eq(results_make_dir(base, t, "lab", a, sizeof a), 0);
    ck_assert_int_eq(results_make_dir(base, t, "lab", b, sizeof b), 0);
    ck_assert_str_ne(a, b);
    char want[300];
    snprintf(want, sizeof want, "%s/20231114T221320Z-lab-2", base);
    ck_assert_str_eq(b, want);
    struct stat st;
    ck_assert_int_eq(stat(b, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
}
END_TEST

START_TEST(copy_file_exact)
{
    const char *from = tmp_path("a.yaml"), *to = tmp_path("b.yaml");
    spit(from, "name: x\nduration: 1s\n");
    ck_assert_int_eq(results_copy_file(from, to), 0);
    ck_assert_str_eq(slurp(to), "name: x\nduration: 1s\n");
    ck_assert_int_eq(results_copy_file(tmp_path("missing"), to), -ENOENT);
}
END_TEST

START_TEST(events_written_at_once_then_sorted)
{
    struct events *ev;
    const char *p = tmp_path("events.csv");
    ck_assert_int_eq(events_open(&ev, p), 0);
    ck_assert_int_eq(events_add(ev, 300, "withdraw", "ams", ""), 0);
    /* Already on disk before close (a killed run keeps it). */
    ck_assert_str_eq(slurp(p), "ts_ns,event,node,detail\n300,withdraw,ams,\n");
    ck_assert_int_eq(events_add(ev, 200, "route", "nyc", "router=eu nexthop=nyc"), 0);
    ck_assert_int_eq(events_add(ev, 300, "exit", "nyc", "responder pid 7 signal 9"), 0);
    ck_assert_uint_eq(events_count(ev), 3);
    ck_assert_int_eq(events_close(ev), 0);
    ck_assert_str_eq(slurp(p), "ts_ns,event,node,detail\n"
                               "200,route,nyc,router=eu nexthop=nyc\n"
                               "300,withdraw,ams,\n"
                               "300,exit,nyc,responder pid 7 signal 9\n");
}
END_TEST

START_TEST(events_empty)
{
    struct events *ev;
    const char *p = tmp_path("empty.csv");
    ck_assert_int_eq(events_open(&ev, p), 0);
    ck_assert_int_eq(events_close(ev), 0);
    ck_assert_str_eq(slurp(p), "ts_ns,event,node,detail\n");
    ck_assert_int_eq(events_close(NULL), 0);
}
END_TEST

static const char *const hdr3[] = {"ts_ns", "vantage", "x"};

START_TEST(merge_orders_within_window)
{
    const char *a = tmp_path("a.csv"), *b = tmp_path("b.csv"), *out = tmp_path("out.csv");
    /* Each input is out of order by up to 5 (rows written at completion). */
    spit(a, "ts_ns,vantage,x\n10,eu,a1\n5,eu,a0\n20,eu,a2\n30,eu,\"q,uoted\"\n");
    spit(b, "ts_ns,vantage,x\n7,us,b0\n12,us,b1\n11,us,b2\n40,us,b3\n");
    const char *in[] = {a, tmp_path("missing.csv"), b};
    unsigned long late = 99;
    long n = results_merge(in, 3, out, 0, 10, hdr3, 3, &late);
    ck_assert_int_eq(n, 8);
    ck_assert_uint_eq(late, 0);
    ck_assert_str_eq(slurp(out), "ts_ns,vantage,x\n5,eu,a0\n7,us,b0\n10,eu,a1\n11,us,b2\n"
                                 "12,us,b1\n20,eu,a2\n30,eu,\"q,uoted\"\n40,us,b3\n");
}
END_TEST

START_TEST(merge_beyond_window_keeps_rows_and_counts_them)
{
    const char *a = tmp_path("a.csv"), *out = tmp_path("out.csv");
    /* Row "1" arrives 1000 after newer rows: beyond a window of 10. */
    char text[4096] = "ts_ns,vantage,x\n";
    for (int i = 100; i < 1100; i += 50) {
        char row[64];
        snprintf(row, sizeof row, "%d,eu,r\n", i);
        strcat(text, row);
    }
    strcat(text, "1,eu,late\n");
    spit(a, text);
    const char *in[] = {a};
    unsigned long late = 0;
    long n = results_merge(in, 1, out, 0, 10, hdr3, 3, &late);
    ck_assert_int_eq(n, 21);
    ck_assert_uint_eq(late, 1);
    ck_assert_ptr_nonnull(strstr(slurp(out), "1,eu,late\n"));
    /* An unbounded window sorts everything. */
    n = results_merge(in, 1, out, 0, UINT64_MAX, hdr3, 3, &late);
    ck_assert_int_eq(n, 21);
    ck_assert_uint_eq(late, 0);
    ck_assert_ptr_nonnull(strstr(slurp(out), "ts_ns,vantage,x\n1,eu,late\n100,eu,r\n"));
}
END_TEST

START_TEST(merge_by_other_column_and_stable)
{
    const char *a = tmp_path("a.csv"), *b = tmp_path("b.csv"), *out = tmp_path("out.csv");
    spit(a, "id,opened\n1,50\n2,10\n");
    spit(b, "id,opened\n3,10\n4,5\n");
    const char *in[] = {a, b};
    unsigned long late;
    ck_assert_int_eq(results_merge(in, 2, out, 1, UINT64_MAX, NULL, 0, &late), 4);
    ck_assert_str_eq(slurp(out), "id,opened\n4,5\n2,10\n3,10\n1,50\n");
}
END_TEST

START_TEST(merge_rejects_other_header_and_skips_bad_rows)
{
    const char *a = tmp_path("a.csv"), *b = tmp_path("b.csv"), *out = tmp_path("out.csv");
    spit(a, "ts_ns,vantage,x\n1,eu,a\n2,eu\n3,eu,c\n");
    spit(b, "ts_ns,vantage,y\n1,us,b\n");
    const char *in[] = {a, b};
    unsigned long late;
    ck_assert_int_eq(results_merge(in, 2, out, 0, 10, hdr3, 3, &late), -EBADMSG);
    const char *one[] = {a};
    ck_assert_int_eq(results_merge(one, 1, out, 0, 10, hdr3, 3, &late), 2);
    ck_assert_str_eq(slurp(out), "ts_ns,vantage,x\n1,eu,a\n3,eu,c\n");
}
END_TEST

START_TEST(merge_skips_a_record_over_the_reader_limits)
{
    const char *a = tmp_path("wide.csv"), *out = tmp_path("out.csv");
    char text[4096];
    int n = snprintf(text, sizeof text, "ts_ns,vantage,x\n1,eu,a\n2");
    for (int i = 0; i < AH_CSV_READ_FIELDS_MAX + 10; i++)
        text[n++] = ',';
    snprintf(text + n, sizeof text - (size_t)n, "\n3,eu,c\n");
    spit(a, text);
    const char *in[] = {a};
    unsigned long late;
    /* The wide record alone is lost; the rows after it are merged. */
    ck_assert_int_eq(results_merge(in, 1, out, 0, 10, hdr3, 3, &late), 2);
    ck_assert_str_eq(slurp(out), "ts_ns,vantage,x\n1,eu,a\n3,eu,c\n");
}
END_TEST

START_TEST(merge_without_inputs_writes_header)
{
    const char *out = tmp_path("p.csv");
    const char *in[] = {tmp_path("nope.csv")};
    unsigned long late;
    ck_assert_int_eq(
        results_merge(in, 1, out, 0, 10, ah_schema_probes_cols, AH_SCHEMA_PROBES_COLS, &late), 0);
    ck_assert_str_eq(slurp(out), "ts_ns,vantage,target,transport,service,conn,seq,result,node,"
                                 "rtt_us,detail\n");
    ck_assert_int_eq(results_merge(in, 1, tmp_path("c.csv"), 4, 10, ah_schema_connections_cols,
                                   AH_SCHEMA_CONNECTIONS_COLS, &late),
                     0);
    ck_assert_str_eq(slurp(tmp_path("c.csv")), "conn,vantage,target,service,opened_ns,node,"
                                               "closed_ns,reason,probes_ok,probes_failed\n");
}
END_TEST

START_TEST(run_json_fields)
{
    const char *keys[] = {"anycast-lab"}, *vals[] = {"anycast-lab 0.1.0"};
    struct drill_step steps[2] = {
        {.at_ns = 2000000000, .verb = AH_VERB_WITHDRAW, .node = 0, .done = 1, .ack_ns = 77},
        {.at_ns = 5000000000, .verb = AH_VERB_ANNOUNCE, .node = 0},
    };
    struct drill d = {.steps = steps, .n = 2};
    struct lab_node nodes[1] = {{.name = "ams"}};
    struct lab lab = {.nodes = nodes, .nnodes = 1};
    struct results_run_info ri = {.lab_name = "q",
                                  .lab_file = "labs/q.yaml",
                                  .run_id = "abc",
                                  .routing = "static",
                                  .status = "ok",
                                  .kernel = "Linux 6",
                                  .start_ns = 5,
                                  .end_ns = 9,
                                  .version_keys = keys,
                                  .version_vals = vals,
                                  .nversions = 1,
                                  .probes_rows = 10,
                                  .connections_rows = 2,
                                  .events_rows = 3,
                                  .lab = &lab,
                                  .drill = &d};
    const char *p = tmp_path("run.json");
    ck_assert_int_eq(results_write_run_json(p, &ri), 0);
    const char *j = slurp(p);
    expect_contains(j, "\"lab\": \"q\"", "\"start_ns\": 5,", "\"drill_start_ns\": null,",
                    "\"anycast-lab\": \"anycast-lab 0.1.0\"",
                    "\"event\": \"withdraw\", \"node\": \"ams\", \"ack_ns\": 77",
                    "\"detail\": \"not executed\"",
                    "\"probes\": 10, \"connections\": 2, \"events\": 3");
}
END_TEST

/* run.json names each vantage whose router has a mode of its own (a
 * vantage's routing: key), and only those. */
START_TEST(run_json_vantage_routing)
{
    struct lab_vantage v[3] = {{.name = "eu", .own_routing = true, .routing = LAB_ROUTING_ECMP},
                               {.name = "us", .own_routing = true, .routing = LAB_ROUTING_STATIC},
                               {.name = "apac"}};
    struct lab lab = {.routing = LAB_ROUTING_STATIC, .vantages = v, .nvantages = 3};
    struct results_run_info ri = {
        .lab_name = "q", .status = "ok", .routing = "static", .lab = &lab};
    const char *p = tmp_path("run.json");
    ck_assert_int_eq(results_write_run_json(p, &ri), 0);
    expect_contains(slurp(p),
                    "\"routing\": \"static\",\n  \"vantage_routing\": {\"eu\": \"ecmp\"},");
    v[2].own_routing = true;
    v[2].routing = LAB_ROUTING_ECMP_RESILIENT;
    ck_assert_int_eq(results_write_run_json(p, &ri), 0);
    expect_contains(slurp(p),
                    "\"vantage_routing\": {\"eu\": \"ecmp\", \"apac\": \"ecmp-resilient\"},");
    v[0].own_routing = v[2].own_routing = false;
    ck_assert_int_eq(results_write_run_json(p, &ri), 0);
    expect_contains(slurp(p), "\"vantage_routing\": {},");
}
END_TEST

/* run.json lists the steps that started later than the tolerance, named
 * as expectations name them, and the expectations they leave unmeasured;
 * the report reads them back. */
START_TEST(run_json_late_steps)
{
    struct drill_step steps[3] = {
        {.at_ns = 2000000000, .verb = AH_VERB_WITHDRAW, .late_ns = 1000, .done = 1},
        {.at_ns = 5000000000, .verb = AH_VERB_ANNOUNCE, .late_ns = 30000000, .done = 1},
        {.at_ns = 8000000000, .verb = AH_VERB_WITHDRAW, .late_ns = 9000000000, .done = 1},
    };
    struct drill d = {.steps = steps, .n = 3};
    struct lab_node nodes[1] = {{.name = "ams"}};
    char t1[] = "eu udp after withdraw ams#2 answered-by nyc", t2[] = "eu udp lost == 0",
         t3[] = "eu udp after withdraw ams answered-by nyc";
    struct lab_expect ex[3] = {
        {.text = t1, .line = 20}, {.text = t2, .line = 21}, {.text = t3, .line = 22}};
    struct lab lab = {.nodes = nodes, .nnodes = 1, .expect = ex, .nexpect = 3};
    struct results_run_info ri = {.lab_name = "q",
                                  .status = "failed",
                                  .lab = &lab,
                                  .drill = &d,
                                  .tolerance_ns = 20000000,
                                  .topology_ns = 1400000000,
                                  .probes_ns = 5000000000};
    const char *p = tmp_path("run.json");
    ck_assert_int_eq(results_write_run_json(p, &ri), 0);
    const char *j = slurp(p);
    expect_contains(j, "\"tolerance_ns\": 20000000,",
                    "\"startup\": {\"topology_ns\": 1400000000, "
                    "\"responders_ns\": null, \"probes_ns\": 5000000000}",
                    "\"late_steps\": [{\"step\": \"announce ams\", \"late_ns\": "
                    "30000000}, {\"step\": \"withdraw ams#2\", \"late_ns\": "
                    "9000000000}],",
                    "\"late_steps_truncated\": false",
                    "\"not_measured\": [{\"line\": 20, \"text\": \"eu udp after "
                    "withdraw ams#2 answered-by nyc\", \"step\": \"withdraw "
                    "ams#2\"}]",
                    "\"late_ns\": 1000, \"late\": false",
                    "\"late_ns\": 9000000000, \"late\": true");

    struct results_late l;
    uint64_t late;
    ck_assert_int_eq(results_late_read(p, &l), 0);
    ck_assert_uint_eq(l.tolerance_ns, 20000000);
    ck_assert(!l.truncated);
    ck_assert(results_late_has(&l, "withdraw ams#2", &late));
    ck_assert_uint_eq(late, 9000000000ULL);
    ck_assert(results_late_has(&l, "announce ams", &late));
    ck_assert_uint_eq(late, 30000000);
    ck_assert(!results_late_has(&l, "withdraw ams", &late)); /* on time */
    ck_assert(!results_late_has(&l, "withdraw am", &late));  /* no prefix matches */
    ck_assert(!results_late_has(&l, "withdraw ams\"", &late));
    results_late_free(&l);
    /* No run.json: nothing is late. */
    ck_assert_int_eq(results_late_read(tmp_path("none.json"), &l), 0);
    ck_assert(!results_late_has(&l, "withdraw ams", &late));
    results_late_free(&l);
}
END_TEST

START_TEST(late_parse_bounds)
{
    struct results_late l;
    uint64_t late;
    /* Truncated list: every step counts as late, its lateness unknown. */
    const char *t = "{\"late_steps\": [], \"late_steps_truncated\": true}";
    ck_assert_int_eq(results_late_parse(t, strlen(t), &l), 0);
    ck_assert(results_late_has(&l, "stop nyc", &late));
    ck_assert_uint_eq(late, UINT64_MAX);
    results_late_free(&l);
    /* Cut off inside the list: not JSON, so nothing is late; the length
     * bounds the text (what follows len is not looked at). */
    t = "{\"late_steps\": [{\"step\": \"stop nyc\", \"late_ns\": 5}, {\"step\": \"start nyc\"";
    ck_assert_int_eq(results_late_parse(t, strlen(t), &l), -EBADMSG);
    ck_assert(!results_late_has(&l, "stop nyc", &late));
    results_late_free(&l);
    t = "{\"late_steps\": [{\"step\": \"stop nyc\", \"late_ns\": 5}]}, garbage";
    ck_assert_int_eq(results_late_parse(t, strlen(t) - 9, &l), 0);
    ck_assert(results_late_has(&l, "stop nyc", &late));
    ck_assert_uint_eq(late, 5);
    ck_assert(!results_late_has(&l, "start nyc", &late));
    results_late_free(&l);
    /* A number too large for JSON's integers is not JSON either. */
    t = "{\"late_steps\": [{\"step\": \"stop nyc\", \"late_ns\": 99999999999999999999999}]}";
    ck_assert_int_eq(results_late_parse(t, strlen(t), &l), -EBADMSG);
    results_late_free(&l);
    /* Members of another type count as absent; a step without late_ns is
     * not late, one whose late_ns is not a number is late by an unknown
     * time. */
    t = "{\"late_steps\": [{\"step\": \"stop nyc\"}, {\"late_ns\": \"x\", \"step\": "
        "\"start nyc\"}, 7], \"late_steps_truncated\": \"true\", \"tolerance_ns\": \"5\"}";
    ck_assert_int_eq(results_late_parse(t, strlen(t), &l), 0);
    ck_assert(!l.truncated);
    ck_assert_uint_eq(l.tolerance_ns, 0);
    ck_assert(!results_late_has(&l, "stop nyc", &late));
    ck_assert(results_late_has(&l, "start nyc", &late));
    ck_assert_uint_eq(late, UINT64_MAX);
    results_late_free(&l);
    t = "{\"late_steps\": {\"step\": \"stop nyc\", \"late_ns\": 5}}";
    ck_assert_int_eq(results_late_parse(t, strlen(t), &l), 0);
    ck_assert(!results_late_has(&l, "stop nyc", &late));
    results_late_free(&l);
}
END_TEST

static Suite *results_suite(void)
{
    Suite *s = suite_create("results");
    TCase *tc = tcase_create("core");
    tcase_add_unchecked_fixture(tc, dir_setup, tmpdir_remove);
    tcase_add_test(tc, dir_name_is_utc_stamp);
    tcase_add_test(tc, make_dir_avoids_collisions);
    tcase_add_test(tc, copy_file_exact);
    tcase_add_test(tc, events_written_at_once_then_sorted);
    tcase_add_test(tc, events_empty);
    tcase_add_test(tc, merge_orders_within_window);
    tcase_add_test(tc, merge_beyond_window_keeps_rows_and_counts_them);
    tcase_add_test(tc, merge_by_other_column_and_stable);
    tcase_add_test(tc, merge_rejects_other_header_and_skips_bad_rows);
    tcase_add_test(tc, merge_skips_a_record_over_the_reader_limits);
    tcase_add_test(tc, merge_without_inputs_writes_header);
    tcase_add_test(tc, run_json_fields);
    tcase_add_test(tc, run_json_vantage_routing);
    tcase_add_test(tc, run_json_late_steps);
    tcase_add_test(tc, late_parse_bounds);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(results_suite)
