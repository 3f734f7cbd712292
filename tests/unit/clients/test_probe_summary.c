/* Unit tests for anycast-probe's records and summary (clients/record.c,
 * clients/summary.c) without sockets: rows go through record_probe and
 * record_conn, into probes.csv/connections.csv and the per-group statistics,
 * and come out as the stderr summary and the JSON summary. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clients/probe.h"
#include "ah/clock.h"
#include "ah/log.h"
#include "ah/json.h"
#include "tests/unit/test_util.h"

static void setup(struct probe_opts *o, struct probe_ctx *ctx, const char *dir)
{
    /* An explicit query: --query auto would name itself in the first row. */
    char *argv[] = {"anycast-probe",
                    "-t",
                    "both",
                    "-s",
                    "dns",
                    "-s",
                    "echo",
                    "--vantage",
                    "eu",
                    "-q",
                    "hostname.bind",
                    "198.51.100.53",
                    NULL};
    ah_log_init("anycast-probe", AH_LOG_ERROR);
    ck_assert_int_eq(opts_parse(12, argv, o), 0);
    o->out_dir = dir;
    memset(ctx, 0, sizeof(*ctx));
    ctx->o = o;
    ctx->start_mono = ah_clock_mono_ns();
    ck_assert_int_eq(record_open(ctx), 0);
}

static void probe(struct probe_ctx *ctx, enum ah_transport t, enum ah_service s, uint64_t conn,
                  uint64_t seq, enum ah_result r, const char *node, uint64_t rtt,
                  const char *detail)
{
    struct probe_row row = {.transport = t,
                            .service = s,
                            .conn = conn,
                            .seq = seq,
                            .ts_ns = 1795000000000000000ull + seq,
                            .rtt_ns = rtt,
                            .result = r,
                            .node = node,
                            .detail = detail};
    record_probe(ctx, &row);
}

START_TEST(rows_and_summaries)
{
    char dir[128], path[256];
    struct probe_opts o;
    struct probe_ctx ctx;
    char *txt = NULL;
    size_t txt_len = 0;

    /* In the program's directory, which the parent removes even when an
     * assertion here fails. */
    snprintf(dir, sizeof dir, "%s", tmp_path("rows"));
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    setup(&o, &ctx, dir);
    /* UDP dns, flow 40000: ams ams nyc (1 flip), then a timeout. */
    probe(&ctx, AH_TR_UDP, AH_SVC_DNS, 40000, 1, AH_RES_OK, "ams", 100000, NULL);
    probe(&ctx, AH_TR_UDP, AH_SVC_DNS, 40000, 2, AH_RES_OK, "ams", 200000, NULL);
    probe(&ctx, AH_TR_UDP, AH_SVC_DNS, 40000, 3, AH_RES_OK, "nyc", 300000, "REFUSED");
    probe(&ctx, AH_TR_UDP, AH_SVC_DNS, 40000, 4, AH_RES_TIMEOUT, NULL, 0, NULL);
    /* TCP echo, connection 1: one ok, then reset. */
    record_conn_opened(&ctx, AH_SVC_ECHO);
    probe(&ctx, AH_TR_TCP, AH_SVC_ECHO, 1, 1, AH_RES_OK, "node,with\"quote", 50000, NULL);
    probe(&ctx, AH_TR_TCP, AH_SVC_ECHO, 1, 2, AH_RES_RESET, NULL, 0, "ECONNRESET");
    struct conn_row c = {.conn = 1,
                         .service = AH_SVC_ECHO,
                         .opened_ns = 10,
                         .closed_ns = 20,
                         .node = "node,with\"quote",
                         .reason = AH_REASON_RESET,
                         .probes_ok = 1,
                         .probes_failed = 1};
    record_conn(&ctx, &c);
    ck_assert_int_eq(record_flush(&ctx), 0);

    snprintf(path, sizeof(path), "%s/probes.csv", dir);
    char *csv = slurp_alloc(path, NULL);
    ck_assert_str_eq(csv,
                     "ts_ns,vantage,target,transport,service,conn,seq,result,node,rtt_us,detail\n"
                     "1795000000000000001,eu,198.51.100.53,udp,dns,40000,1,ok,ams,100,\n"
                     "1795000000000000002,eu,198.51.100.53,udp,dns,40000,2,ok,ams,200,\n"
                     "1795000000000000003,eu,198.51.100.53,udp,dns,40000,3,ok,nyc,300,REFUSED\n"
                     "1795000000000000004,eu,198.51.100.53,udp,dns,40000,4,timeout,,,\n"
                     "1795000000000000001,eu,198.51.100.53,tcp,echo,1,1,ok,"
                     "\"node,with\"\"quote\",50,\n"
                     "1795000000000000002,eu,198.51.100.53,tcp,echo,1,2,reset,,,ECONNRESET\n");
    free(csv);
    snprintf(path, sizeof(path), "%s/connections.csv", dir);
    csv = slurp_alloc(path, NULL);
    ck_assert_str_eq(csv, "conn,vantage,target,service,opened_ns,node,closed_ns,reason,probes_ok,"
                          "probes_failed\n"
                          "1,eu,198.51.100.53,echo,10,\"node,with\"\"quote\",20,reset,1,1\n");
    free(csv);

    FILE *f = open_memstream(&txt, &txt_len);
    summary_print(&ctx, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(txt, "udp dns : 4 probes, 3 ok, 1 lost (timeout 1); rtt ms p50 "
                                      "0.200 p90 0.300 p99 0.300 max 0.300; flips 1\n"
                                      "            nodes: ams 2, nyc 1\n"));
    ck_assert_ptr_nonnull(strstr(txt, "tcp echo: 2 probes, 1 ok, 1 lost (reset 1)"));
    ck_assert_ptr_nonnull(strstr(txt, "connections: 1 opened; ended: reset 1\n"));
    ck_assert_ptr_nonnull(strstr(txt, "udp echo: 0 probes, 0 ok, 0 lost; flips 0\n"
                                      "            nodes: none\n"));
    free(txt);

    snprintf(path, sizeof(path), "%s/summary.json", dir);
    ck_assert_int_eq(summary_write_json(&ctx, path), 0);
    char *js = slurp_alloc(path, NULL);
    ck_assert_ptr_nonnull(strstr(js, "\"target\": \"198.51.100.53\", \"vantage\": \"eu\""));
    ck_assert_ptr_nonnull(strstr(js,
                                 "{\"transport\": \"udp\", \"service\": \"dns\", \"probes\": 4, "
                                 "\"ok\": 3, \"lost\": 1, \"results\": {\"ok\": 3, "
                                 "\"timeout\": 1,"));
    ck_assert_ptr_nonnull(strstr(js, "\"nodes\": {\"ams\": 2, \"nyc\": 1}, \"flips\": 1"));
    ck_assert_ptr_nonnull(strstr(js, "\"nodes\": {\"node,with\\\"quote\": 1}"));
    ck_assert_ptr_nonnull(strstr(js, "\"connections\": {\"opened\": 1, \"ended\": {\"end\": 0, "
                                     "\"reset\": 1,"));
    free(js);

    ck_assert_int_eq(record_close(&ctx), 0);
}
END_TEST

/* ah_json_str on one input; the result as a malloc'd string. */
static char *json_of(const char *in)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    ck_assert_ptr_nonnull(f);
    ah_json_str(f, in);
    ck_assert_int_eq(fclose(f), 0);
    return out;
}

static const struct {
    const char *in, *out;
} json_cases[] = {
    {"ams", "\"ams\""},
    {"a\"b\\c", "\"a\\\"b\\\\c\""},
    {"\x01\x1f\n\r\t\x1b\x7f", "\"\\u0001\\u001f\\u000a\\u000d\\u0009\\u001b\\u007f\""},
    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
    {"\xc2\x85", "\"\xc2\x85\""},                             /* C1 NEL is valid UTF-8 and JSON */
    {"x\xe9y", "\"x\\ufffdy\""},                              /* Latin-1, not UTF-8 */
    {"\xc0\xaf", "\"\\ufffd\\ufffd\""},                       /* overlong '/' */
    {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},            /* a surrogate */
    {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* past U+10FFFF */
    {"\xe2\x82", "\"\\ufffd\\ufffd\""},                       /* cut at the end */
    {"\xe2\x82x", "\"\\ufffd\\ufffdx\""},                     /* cut inside */
    {"\x80\xbf", "\"\\ufffd\\ufffd\""},                       /* stray continuation bytes */
    {"\xff\xfe", "\"\\ufffd\\ufffd\""},
};

START_TEST(json_strings)
{
    char *out = json_of(json_cases[_i].in);
    ck_assert_str_eq(out, json_cases[_i].out);
    free(out);
}
END_TEST

/* Every single byte alone: no raw control character and nothing that is
 * not UTF-8 comes out. */
START_TEST(json_every_byte)
{
    for (int b = 1; b < 256; b++) {
        char in[2] = {(char)b, 0};
        char *out = json_of(in);
        for (const unsigned char *p = (const unsigned char *)out; *p; p++) {
            ck_assert_msg(*p >= 0x20 && *p < 0x7f, "byte 0x%02x gave 0x%02x", b, *p);
        }
        free(out);
    }
}
END_TEST

/* A server's identity with terminal escapes, a newline and invalid UTF-8:
 * exact in probes.csv (quoted), escaped in the text summary, valid in the
 * JSON. */
START_TEST(hostile_identity)
{
    static const char evil[] = "\x1b]0;pwned\x07x\nanycast-probe: fake\r\xe9`id`";
    char dir[128], path[256];
    struct probe_opts o;
    struct probe_ctx ctx;

    snprintf(dir, sizeof dir, "%s", tmp_path("hostile"));
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    setup(&o, &ctx, dir);
    probe(&ctx, AH_TR_UDP, AH_SVC_DNS, 40000, 1, AH_RES_OK, evil, 100000, NULL);
    ck_assert_int_eq(record_flush(&ctx), 0);
    snprintf(path, sizeof(path), "%s/probes.csv", dir);
    char *csv = slurp_alloc(path, NULL);
    ck_assert_ptr_nonnull(
        strstr(csv, ",ok,\"\x1b]0;pwned\x07x\nanycast-probe: fake\r\xe9`id`\",100,"));
    free(csv);

    char *txt = NULL;
    size_t txt_len = 0;
    FILE *f = open_memstream(&txt, &txt_len);
    summary_print(&ctx, f);
    fclose(f);
    ck_assert_ptr_nonnull(
        strstr(txt, "nodes: \\x1b]0;pwned\\x07x\\x0aanycast-probe: fake\\x0d\\xe9`id` 1\n"));
    for (size_t i = 0; i < txt_len; i++)
        ck_assert_msg((unsigned char)txt[i] >= 0x20 || txt[i] == '\n', "raw 0x%02x at %zu",
                      (unsigned char)txt[i], i);
    ck_assert_ptr_null(strstr(txt, "\nanycast-probe: fake"));
    free(txt);

    snprintf(path, sizeof(path), "%s/summary.json", dir);
    ck_assert_int_eq(summary_write_json(&ctx, path), 0);
    char *js = slurp_alloc(path, NULL);
    ck_assert_ptr_nonnull(strstr(js, "\"nodes\": {\"\\u001b]0;pwned\\u0007x\\u000aanycast-probe: "
                                     "fake\\u000d\\ufffd`id`\": 1}"));
    free(js);

    ck_assert_int_eq(record_close(&ctx), 0);
}
END_TEST

static void dir_make(void)
{
    tmpdir_make("summary");
}

static Suite *summary_suite(void)
{
    Suite *s = suite_create("probe_summary");
    TCase *tc = tcase_create("core");
    tcase_add_unchecked_fixture(tc, dir_make, tmpdir_remove);
    tcase_add_test(tc, rows_and_summaries);
    tcase_add_loop_test(tc, json_strings, 0, (int)(sizeof(json_cases) / sizeof(json_cases[0])));
    tcase_add_test(tc, json_every_byte);
    tcase_add_test(tc, hostile_identity);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(summary_suite)
