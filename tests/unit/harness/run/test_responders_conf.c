/* Unit tests for harness/run/responders_conf.c: the BIND, Unbound and
 * PowerDNS configurations a lab generates (identity, no rate limiting, port
 * 53 on every address, state under the node's directory), the refusal of a
 * name or address that could break out of a quoted word, and the command
 * lines prepared for bind, unbound and pdns nodes. */
#include "harness/run/responders.h"
#include "tests/unit/check_main.h"
#include "tests/unit/test_util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const addrs[] = {"198.51.100.53", "2001:db8:53::53", "203.0.113.10"};

static void dir_setup(void)
{
    tmpdir_make("respconf");
}

static const char *conf(int (*write)(const char *, const char *, const char *const *, size_t,
                                     const char *),
                        const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s.conf", tmpdir, name);
    ck_assert_int_eq(write(path, "sin-1", addrs, 3, tmpdir), 0);
    return slurp(path);
}

static void has(const char *text, const char *line)
{
    if (strstr(text, line) == NULL)
        ck_abort_msg("missing \"%s\" in:\n%s", line, text);
}

START_TEST(bind_conf)
{
    const char *t = conf(resp_write_bind_conf, "named");
    has(t, "  listen-on port 53 { 198.51.100.53; 203.0.113.10; };\n");
    has(t, "  listen-on-v6 port 53 { 2001:db8:53::53; };\n");
    has(t, "  server-id \"sin-1\";\n  hostname \"sin-1\";\n");
    /* A CHAOS view of our own: the built-in one rate-limits. */
    has(t, "view \"identity\" chaos {\n");
    has(t, "zone \"hostname.bind\" chaos { type primary; database \"_builtin hostname\"; };");
    has(t, "zone \"id.server\" chaos { type primary; database \"_builtin id\"; };");
    ck_assert_ptr_null(strstr(t, "rate-limit"));
    char want[300];
    snprintf(want, sizeof want, "  pid-file \"%s/named.pid\";\n", tmpdir);
    has(t, want);

    const char *v4only[] = {"198.51.100.53"};
    char path[256];
    snprintf(path, sizeof path, "%s/v4.conf", tmpdir);
    ck_assert_int_eq(resp_write_bind_conf(path, "a", v4only, 1, tmpdir), 0);
    has(slurp(path), "  listen-on-v6 port 53 { none; };\n");
}
END_TEST

START_TEST(unbound_conf)
{
    const char *t = conf(resp_write_unbound_conf, "unbound");
    has(t, "  interface: 198.51.100.53@53\n  interface: 2001:db8:53::53@53\n"
           "  interface: 203.0.113.10@53\n");
    has(t, "  access-control: 0.0.0.0/0 allow\n  access-control: ::/0 allow\n");
    has(t, "  identity: \"sin-1\"\n  nsid: \"ascii_sin-1\"\n");
    has(t, "  ratelimit: 0\n  ip-ratelimit: 0\n");
    has(t, "  do-daemonize: no\n");
}
END_TEST

START_TEST(pdns_conf)
{
    const char *t = conf(resp_write_pdns_conf, "pdns");
    has(t, "launch=bind\n");
    has(t, "local-address=198.51.100.53:53, [2001:db8:53::53]:53, 203.0.113.10:53\n");
    has(t, "server-id=sin-1\n");
    has(t, "daemon=no\n");
    char zones[256];
    snprintf(zones, sizeof zones, "%s/named.conf", tmpdir);
    ck_assert_int_eq(access(zones, R_OK), 0);
    char want[300];
    snprintf(want, sizeof want, "bind-config=%s\n", zones);
    has(t, want);
}
END_TEST

/* Names and addresses are data: a byte that could end the quoted word or
 * start a statement is refused before anything is written. */
START_TEST(hostile_words)
{
    static const char *const names[] = {"a\"b", "a;b", "a\nb", "a b", "a}b", ""};
    int (*const writers[])(const char *, const char *, const char *const *, size_t,
                           const char *) = {resp_write_bind_conf, resp_write_unbound_conf,
                                            resp_write_pdns_conf};
    char path[256];
    snprintf(path, sizeof path, "%s/hostile.conf", tmpdir);
    for (size_t w = 0; w < 3; w++) {
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            ck_assert_int_eq(writers[w](path, names[i], addrs, 3, tmpdir), -EINVAL);
        const char *bad[] = {"198.51.100.53; }; include \"/etc/passwd"};
        ck_assert_int_eq(writers[w](path, "ok", bad, 1, tmpdir), -EINVAL);
    }
    ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

/* The command lines: each server in the foreground with its generated file
 * (PowerDNS with its directory). */
START_TEST(prepare_packaged)
{
    static const struct {
        enum lab_responder r;
        const char *prog, *arg1, *conf;
    } cases[] = {{LAB_RESPONDER_BIND, "/usr/sbin/named", "-g", "named.conf"},
                 {LAB_RESPONDER_UNBOUND, "/usr/sbin/unbound", "-d", "unbound.conf"},
                 {LAB_RESPONDER_PDNS, "/usr/sbin/pdns_server", NULL, NULL}};
    for (size_t i = 0; i < 3; i++) {
        if (access(cases[i].prog, X_OK) != 0)
            continue; /* not installed: nothing to find */
        struct lab_node nodes[1] = {{.name = "sin", .responder = cases[i].r}};
        struct lab lab = {.nodes = nodes, .nnodes = 1};
        struct resp_launch l;
        char want[300];
        ck_assert_int_eq(resp_prepare(&lab, 0, addrs, 1, tmpdir, &l), 0);
        if (cases[i].arg1 == NULL) {
            snprintf(want, sizeof want, "--config-dir=%s/pdns-sin", tmpdir);
            ck_assert_uint_eq(l.argc, 2);
            ck_assert_str_eq(l.argv[1], want);
            snprintf(want, sizeof want, "%s/pdns-sin/pdns.conf", tmpdir);
            has(slurp(want), "server-id=sin\n");
            continue;
        }
        snprintf(want, sizeof want, "%s/%s-sin/%s", tmpdir, lab_responder_name(cases[i].r),
                 cases[i].conf);
        ck_assert_uint_eq(l.argc, 4);
        ck_assert_str_eq(l.argv[1], cases[i].arg1);
        ck_assert_str_eq(l.argv[2], "-c");
        ck_assert_str_eq(l.argv[3], want);
        ck_assert_ptr_nonnull(strstr(slurp(want), "sin"));
    }
}
END_TEST

static Suite *responders_conf_suite(void)
{
    Suite *s = suite_create("responders_conf");
    TCase *tc = tcase_create("core");
    tcase_add_unchecked_fixture(tc, dir_setup, tmpdir_remove);
    tcase_add_test(tc, bind_conf);
    tcase_add_test(tc, unbound_conf);
    tcase_add_test(tc, pdns_conf);
    tcase_add_test(tc, hostile_words);
    tcase_add_test(tc, prepare_packaged);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(responders_conf_suite)
