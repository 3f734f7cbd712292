/* Unit tests for harness/run/responders.c: {node}/{addr} substitution, the
 * generated NSD and Knot configurations, and the command lines prepared for
 * builtin, nsd, knot and command responders. */
#include "harness/run/responders.h"
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
    tmpdir_make("resp");
}

START_TEST(substitute)
{
    char out[128];
    ck_assert_int_eq(resp_substitute("srv --id {node} --at {addr}:53 {node}", "ams",
                                     "198.51.100.53", out, sizeof out),
                     (int)strlen("srv --id ams --at 198.51.100.53:53 ams"));
    ck_assert_str_eq(out, "srv --id ams --at 198.51.100.53:53 ams");
    /* Other braces stay as written. */
    ck_assert_int_ge(resp_substitute("awk '{print $1}' {nodes} {", "x", "y", out, sizeof out), 0);
    ck_assert_str_eq(out, "awk '{print $1}' {nodes} {");
    ck_assert_int_eq(resp_substitute("{node}{node}", "abcdef", "", out, 12), -ENOSPC);
    ck_assert_int_eq(resp_substitute("", "a", "b", out, 1), 0);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(nsd_conf)
{
    char path[128];
    const char *addrs[] = {"198.51.100.53", "2001:db8:53::53", "203.0.113.10"};
    snprintf(path, sizeof path, "%s/nsd.conf", tmpdir);
    ck_assert_int_eq(resp_write_nsd_conf(path, "sin", addrs, 3, tmpdir), 0);
    const char *c = slurp(path);
    expect_contains(c, "  ip-address: 198.51.100.53@53\n", "  ip-address: 2001:db8:53::53@53\n",
                    "  ip-address: 203.0.113.10@53\n", "identity: \"sin\"\n",
                    "nsid: \"ascii_sin\"\n", "rrl-ratelimit: 0\n", "username: \"\"\n",
                    "control-enable: no\n", tmpdir);
}
END_TEST

START_TEST(knot_conf)
{
    char path[128];
    const char *addrs[] = {"198.51.100.53", "2001:db8:53::53"};
    snprintf(path, sizeof path, "%s/knot.conf", tmpdir);
    ck_assert_int_eq(resp_write_knot_conf(path, "ams", addrs, 2, tmpdir), 0);
    const char *c = slurp(path);
    expect_contains(c, "listen: [ 198.51.100.53@53, 2001:db8:53::53@53 ]\n", "identity: \"ams\"\n",
                    "nsid: \"ams\"\n", "storage: \"");
}
END_TEST

START_TEST(prepare_command_and_builtin)
{
    struct lab_node nodes[2] = {{.name = "ams",
                                 .responder = LAB_RESPONDER_COMMAND,
                                 .command = "my-server --name {node} --listen {addr}"},
                                {.name = "nyc", .responder = LAB_RESPONDER_BUILTIN}};
    struct lab lab = {.nodes = nodes, .nnodes = 2};
    const char *addrs[] = {"198.51.100.53", "2001:db8:53::53", "203.0.113.11"};
    struct resp_launch l;
    ck_assert_int_eq(resp_prepare(&lab, 0, addrs, 3, tmpdir, &l), 0);
    ck_assert_uint_eq(l.argc, 3);
    ck_assert_str_eq(l.argv[0], "/bin/sh");
    ck_assert_str_eq(l.argv[1], "-c");
    ck_assert_str_eq(l.argv[2], "my-server --name ams --listen 198.51.100.53");
    ck_assert_ptr_null(l.argv[3]);
    ck_assert_str_eq(l.control, "");

    /* The builtin is found through $AH_BIN_DIR: make a fake one. */
    char bin[128];
    fake_program("anycast-responder", bin, sizeof bin);
    ck_assert_int_eq(resp_prepare(&lab, 1, addrs, 3, tmpdir, &l), 0);
    ck_assert_str_eq(l.argv[0], bin);
    ck_assert_uint_eq(l.argc, 1 + 6 + 4);
    ck_assert_str_eq(l.argv[1], "--listen");
    ck_assert_str_eq(l.argv[2], "198.51.100.53");
    ck_assert_str_eq(l.argv[6], "203.0.113.11");
    ck_assert_str_eq(l.argv[7], "--identity");
    ck_assert_str_eq(l.argv[8], "nyc");
    ck_assert_str_eq(l.argv[9], "--control");
    char ctl[128];
    snprintf(ctl, sizeof ctl, "%s/ctl-nyc.sock", tmpdir);
    ck_assert_str_eq(l.argv[10], ctl);
    ck_assert_str_eq(l.control, ctl);
    unsetenv("AH_BIN_DIR");
}
END_TEST

START_TEST(prepare_nsd_writes_config)
{
    if (access("/usr/sbin/nsd", X_OK) != 0)
        return; /* nsd not installed: nothing to find */
    struct lab_node nodes[1] = {{.name = "sin", .responder = LAB_RESPONDER_NSD}};
    struct lab lab = {.nodes = nodes, .nnodes = 1};
    const char *addrs[] = {"198.51.100.53"};
    struct resp_launch l;
    ck_assert_int_eq(resp_prepare(&lab, 0, addrs, 1, tmpdir, &l), 0);
    ck_assert_str_eq(l.argv[1], "-d");
    ck_assert_str_eq(l.argv[2], "-c");
    ck_assert_ptr_nonnull(strstr(slurp(l.argv[3]), "identity: \"sin\""));
}
END_TEST

static Suite *responders_suite(void)
{
    Suite *s = suite_create("responders");
    TCase *tc = tcase_create("core");
    tcase_add_unchecked_fixture(tc, dir_setup, tmpdir_remove);
    tcase_add_test(tc, substitute);
    tcase_add_test(tc, nsd_conf);
    tcase_add_test(tc, knot_conf);
    tcase_add_test(tc, prepare_command_and_builtin);
    tcase_add_test(tc, prepare_nsd_writes_config);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(responders_suite)
