/* Unit tests for anycast-probe's command line (clients/opts.c): defaults,
 * every value kind, and the usage errors that make the program exit 2. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "clients/probe.h"
#include "ah/log.h"
#include "tests/unit/check_main.h"

static int parse(struct probe_opts *o, const char *const *args)
{
    char *argv[64];
    int argc = 0;

    argv[argc++] = (char *)"anycast-probe";
    for (; *args != NULL; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    return opts_parse(argc, argv, o);
}

START_TEST(defaults)
{
    struct probe_opts o;
    const char *a[] = {"198.51.100.53", NULL};

    ck_assert_int_eq(parse(&o, a), 0);
    ck_assert(o.service[AH_SVC_DNS] && !o.service[AH_SVC_ECHO]);
    ck_assert(o.transport[AH_TR_UDP] && !o.transport[AH_TR_TCP]);
    ck_assert_uint_eq(o.port[AH_SVC_DNS], 53);
    ck_assert_uint_eq(o.port[AH_SVC_ECHO], 7);
    ck_assert_uint_eq(o.timeout_ns, 1000000000ull);
    ck_assert_uint_eq(o.rate_milli, 10000);
    ck_assert_uint_eq(o.flows, 1);
    ck_assert_int_eq(o.query.kind, AH_IDENT_HOSTNAME_BIND);
    ck_assert_str_eq(o.target_text, "198.51.100.53");
    ck_assert_str_ne(o.vantage, "");
    ck_assert_int_eq(o.progress, -1);
    ck_assert_int_eq(o.ready_fd, -1);
    ck_assert(!o.has_source && !o.once);
}
END_TEST

START_TEST(everything)
{
    struct probe_opts o;
    const char *a[] = {"-s",
                       "echo",
                       "--service",
                       "dns",
                       "-t",
                       "both",
                       "--dns-port",
                       "5300",
                       "--echo-port",
                       "5307",
                       "-q",
                       "nsid:example.com/SOA",
                       "-r",
                       "2.5k",
                       "-f",
                       "8",
                       "--timeout",
                       "250ms",
                       "-c",
                       "100",
                       "-i",
                       "100ms",
                       "--tcp-mode",
                       "per-query",
                       "--tcp-user-timeout",
                       "2s",
                       "--reconnect",
                       "backoff",
                       "-d",
                       "1m",
                       "-n",
                       "1000",
                       "-o",
                       "/tmp/x",
                       "--vantage",
                       "eu",
                       "--summary-json",
                       "/tmp/s.json",
                       "--progress",
                       "never",
                       "2001:db8:53::53",
                       NULL};

    ck_assert_int_eq(parse(&o, a), 0);
    ck_assert(o.service[AH_SVC_DNS] && o.service[AH_SVC_ECHO]);
    ck_assert(o.transport[AH_TR_UDP] && o.transport[AH_TR_TCP]);
    ck_assert_uint_eq(o.port[AH_SVC_DNS], 5300);
    ck_assert_uint_eq(o.port[AH_SVC_ECHO], 5307);
    ck_assert_int_eq(o.query.kind, AH_IDENT_NSID);
    ck_assert_uint_eq(o.rate_milli, 2500000);
    ck_assert_uint_eq(o.flows, 8);
    ck_assert_uint_eq(o.timeout_ns, 250000000);
    ck_assert_uint_eq(o.connections, 100);
    ck_assert_uint_eq(o.interval_ns, 100000000);
    ck_assert_int_eq(o.tcp_mode, TCP_PER_QUERY);
    ck_assert_uint_eq(o.tcp_user_timeout_ns, 2000000000ull);
    ck_assert_int_eq(o.reconnect, RECONNECT_BACKOFF);
    ck_assert_uint_eq(o.duration_ns, 60000000000ull);
    ck_assert_uint_eq(o.count, 1000);
    ck_assert_str_eq(o.out_dir, "/tmp/x");
    ck_assert_str_eq(o.vantage, "eu");
    ck_assert_int_eq(o.progress, 0);
    ck_assert_str_eq(o.target_text, "2001:db8:53::53");
    ck_assert(!o.has_source);
}
END_TEST

START_TEST(source_and_ready_fd)
{
    struct probe_opts o;
    const char *a[] = {
        "198.51.100.53", "--source", "192.0.2.1",          "--ready-fd", "2147483647",
        "--progress",    "always",   "--tcp-user-timeout", "0",          NULL};

    ck_assert_int_eq(parse(&o, a), 0);
    ck_assert(o.has_source);
    ck_assert_int_eq(o.ready_fd, 2147483647);
    ck_assert_int_eq(o.progress, 1);
    ck_assert_uint_eq(o.tcp_user_timeout_ns, 0);
}
END_TEST

START_TEST(once_defaults_to_everything)
{
    struct probe_opts o;
    const char *a[] = {"--once", "198.51.100.53", NULL};
    const char *b[] = {"--once", "-t", "udp", "198.51.100.53", NULL};

    ck_assert_int_eq(parse(&o, a), 0);
    ck_assert(o.once && o.service[AH_SVC_DNS] && o.service[AH_SVC_ECHO]);
    ck_assert(o.transport[AH_TR_UDP] && o.transport[AH_TR_TCP]);
    ck_assert_int_eq(parse(&o, b), 0);
    ck_assert(o.transport[AH_TR_UDP] && !o.transport[AH_TR_TCP]);
}
END_TEST

START_TEST(clock_echo_needs_no_target)
{
    struct probe_opts o;
    const char *a[] = {"--clock-echo", NULL};

    ck_assert_int_eq(parse(&o, a), 0);
    ck_assert(o.clock_echo);
    const char *b[] = {"198.51.100.53", NULL};
    ck_assert_int_eq(parse(&o, b), 0);
    ck_assert(!o.clock_echo);
}
END_TEST

START_TEST(usage_errors)
{
    static const char *const bad[][6] = {
        {NULL},
        {"198.51.100.53", "198.51.100.54", NULL},
        {"not-an-address", NULL},
        {"198.51.100.53:53", NULL},
        {"-s", "http", "198.51.100.53", NULL},
        {"-t", "sctp", "198.51.100.53", NULL},
        {"-r", "0", "198.51.100.53", NULL},
        {"-r", "fast", "198.51.100.53", NULL},
        {"-f", "0", "198.51.100.53", NULL},
        {"--timeout", "0", "198.51.100.53", NULL},
        {"--timeout", "1x", "198.51.100.53", NULL},
        {"--dns-port", "70000", "198.51.100.53", NULL},
        {"-q", "version.bind", "198.51.100.53", NULL},
        {"--tcp-mode", "sometimes", "198.51.100.53", NULL},
        {"--reconnect", "later", "198.51.100.53", NULL},
        {"--no-such-option", "198.51.100.53", NULL},
        {"198.51.100.53", "-r", NULL},
        {"--source", "2001:db8::1", "198.51.100.53", NULL},
        {"-n", "-5", "198.51.100.53", NULL},
        {"-n", "0", "198.51.100.53", NULL},
        {"-r", "-5", "198.51.100.53", NULL},
        {"-r", "abc", "198.51.100.53", NULL},
        {"-r", "", "198.51.100.53", NULL},
        {"-c", "100000000", "198.51.100.53", NULL},
        {"-c", "0", "198.51.100.53", NULL},
        {"-i", "0", "198.51.100.53", NULL},
        {"--dns-port", "0", "198.51.100.53", NULL},
        {"--echo-port", "0", "198.51.100.53", NULL},
        {"--vantage", "", "198.51.100.53", NULL},
        {"--progress", "sometimes", "198.51.100.53", NULL},
        {"no-such-host.invalid", NULL}, /* neither an address nor a name that resolves */
        {"--max-loss", "101", "198.51.100.53", NULL},
        {"--max-loss", "x", "198.51.100.53", NULL},
        {"--metrics", "127.0.0.1", "198.51.100.53", NULL},
        {"198.51.100.53", "2001:db8::1", NULL},
        {"--once", "-n", "5", "198.51.100.53", NULL},
        {"--once", "-d", "5s", "198.51.100.53", NULL},
        /* Refused by the option table itself. */
        {"--once=yes", "198.51.100.53", NULL},
        {"--timeout", NULL},
        {"-d", "0", "198.51.100.53", NULL},
        {"--tcp-user-timeout", "5000000h", "198.51.100.53", NULL},
        {"--ready-fd", "-1", "198.51.100.53", NULL},
        {"--ready-fd", "2147483648", "198.51.100.53", NULL},
        {"--source", "localhost", "198.51.100.53", NULL},
        {"--count", "18446744073709551616", "198.51.100.53", NULL},
        {"--clock-echo", "198.51.100.53", NULL},
        {"--clock-echo=yes", NULL},
    };
    struct probe_opts o;

    ah_log_init("anycast-probe", AH_LOG_ERROR);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(parse(&o, bad[i]) == -EINVAL, "case %zu accepted", i);
}
END_TEST

static Suite *opts_suite(void)
{
    Suite *s = suite_create("probe_opts");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, everything);
    tcase_add_test(tc, once_defaults_to_everything);
    tcase_add_test(tc, source_and_ready_fd);
    tcase_add_test(tc, clock_echo_needs_no_target);
    tcase_add_test(tc, usage_errors);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(opts_suite)
