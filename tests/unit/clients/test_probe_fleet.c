/* Unit tests for anycast-probe's multi-vantage options (clients/fleet.c,
 * clients/opts.c): NAME@NETNS parsing, the --vantages file (comments, blank
 * and over-long lines, a vantage's own directory after a tab, bad entries
 * named by line), and the options a multi-vantage run needs or refuses. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ah/log.h"
#include "clients/probe.h"
#include "tests/unit/check_main.h"

static void free_members(struct probe_opts *o)
{
    for (size_t i = 0; i < o->nmembers; i++) {
        free(o->members[i].netns);
        free(o->members[i].out);
    }
    free(o->members);
    o->members = NULL;
    o->nmembers = 0;
}

START_TEST(member_parse)
{
    struct fleet_member m;
    char err[256];

    ck_assert_int_eq(fleet_member_parse("v1@/run/netns/ah-lab-x-c-v1", &m, err, sizeof err), 0);
    ck_assert_str_eq(m.name, "v1");
    ck_assert_str_eq(m.netns, "/run/netns/ah-lab-x-c-v1");
    ck_assert_int_eq(m.fd, -1);
    free(m.netns);
    /* The first '@' ends the name; the path may hold more. */
    ck_assert_int_eq(fleet_member_parse("eu@/tmp/a@b", &m, err, sizeof err), 0);
    ck_assert_str_eq(m.name, "eu");
    ck_assert_str_eq(m.netns, "/tmp/a@b");
    free(m.netns);

    static const char *const bad[] = {
        "v1",     "@/run/netns/x", "v1@",        "v1@run/netns/x", "a/b@/run/netns/x",
        ".@/run", "..@/run",       "v1@relative"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        ck_assert_msg(fleet_member_parse(bad[i], &m, err, sizeof err) == -EINVAL, "%s", bad[i]);
        ck_assert_msg(err[0] != '\0', "no message for %s", bad[i]);
    }
    char longname[80];
    memset(longname, 'x', 64);
    snprintf(longname + 64, sizeof longname - 64, "@/run/netns/x");
    ck_assert_int_eq(fleet_member_parse(longname, &m, err, sizeof err), -EINVAL);
    longname[63] = '@';
    longname[64] = '\0';
    strcat(longname, "/x");
    ck_assert_int_eq(fleet_member_parse(longname, &m, err, sizeof err), 0);
    ck_assert_uint_eq(strlen(m.name), 63);
    free(m.netns);
}
END_TEST

static FILE *text(const char *s)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    fputs(s, f);
    rewind(f);
    return f;
}

START_TEST(members_file)
{
    struct probe_opts o = {0};
    char err[256] = "";
    FILE *f = text("# a group\nv1@/run/netns/c-v1\n\nv2@/run/netns/c-v2\nv3@/run/netns/c-v3");

    ck_assert_int_eq(fleet_members_read(f, &o, err, sizeof err), 0);
    fclose(f);
    ck_assert_uint_eq(o.nmembers, 3);
    ck_assert_str_eq(o.members[0].name, "v1");
    ck_assert_str_eq(o.members[2].name, "v3");
    ck_assert_str_eq(o.members[2].netns, "/run/netns/c-v3");
    ck_assert_ptr_null(o.members[0].out);
    free_members(&o);

    /* A tab and a directory: that vantage's own output directory. */
    f = text("v1@/run/netns/c-v1\t/res/probes-v1 x\nv2@/run/netns/c-v2\n");
    ck_assert_int_eq(fleet_members_read(f, &o, err, sizeof err), 0);
    fclose(f);
    ck_assert_uint_eq(o.nmembers, 2);
    ck_assert_str_eq(o.members[0].netns, "/run/netns/c-v1");
    ck_assert_str_eq(o.members[0].out, "/res/probes-v1 x");
    ck_assert_ptr_null(o.members[1].out);
    free_members(&o);
    f = text("v1@/run/netns/c-v1\t\n");
    ck_assert_int_eq(fleet_members_read(f, &o, err, sizeof err), -EINVAL);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(err, "line 1"));
    free_members(&o);

    f = text("v1@/run/netns/c-v1\nv2@netns\n");
    ck_assert_int_eq(fleet_members_read(f, &o, err, sizeof err), -EINVAL);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(err, "line 2"));
    free_members(&o);

    /* A line longer than any NAME@NETNS can be is refused, not split. */
    char *huge = malloc(PATH_MAX + 200);
    memset(huge, 'a', PATH_MAX + 198);
    memcpy(huge, "v@/", 3);
    huge[PATH_MAX + 198] = '\n';
    huge[PATH_MAX + 199] = '\0';
    f = text(huge);
    free(huge);
    ck_assert_int_eq(fleet_members_read(f, &o, err, sizeof err), -EINVAL);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(err, "line 1"));
    ck_assert_uint_eq(o.nmembers, 0);
    free_members(&o);
}
END_TEST

/* Parses a command line given as one string of words separated by blanks. */
static int parse_line(struct probe_opts *o, const char *line)
{
    char buf[512], *argv[32], *save = NULL;
    int argc = 0;

    snprintf(buf, sizeof buf, "anycast-probe %s", line);
    for (char *w = strtok_r(buf, " ", &save); w != NULL && argc < 31;
         w = strtok_r(NULL, " ", &save))
        argv[argc++] = w;
    argv[argc] = NULL;
    return opts_parse(argc, argv, o);
}

START_TEST(options)
{
    struct probe_opts o;

    ck_assert_int_eq(
        parse_line(&o, "--vantage a@/run/netns/a --vantage b@/run/netns/b --out /tmp/x 192.0.2.1"),
        0);
    ck_assert_uint_eq(o.nmembers, 2);
    ck_assert_str_eq(o.members[1].netns, "/run/netns/b");
    ck_assert_int_eq(o.progress, 0);
    free_members(&o);

    /* Every vantage with its own directory: no --out needed. */
    char path[] = "/tmp/test_probe_fleet.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    static const char list[] = "a@/run/netns/a\t/tmp/a\nb@/run/netns/b\t/tmp/b\n";
    ck_assert_int_eq(write(fd, list, sizeof list - 1), (ssize_t)(sizeof list - 1));
    close(fd);
    char line[128];
    snprintf(line, sizeof line, "--vantages %s 192.0.2.1", path);
    ck_assert_int_eq(parse_line(&o, line), 0);
    ck_assert_uint_eq(o.nmembers, 2);
    free_members(&o);
    unlink(path);

    /* A plain --vantage NAME keeps its meaning. */
    ck_assert_int_eq(parse_line(&o, "--vantage eu 192.0.2.1"), 0);
    ck_assert_uint_eq(o.nmembers, 0);
    ck_assert_str_eq(o.vantage, "eu");

    ah_log_set_level(AH_LOG_ERROR);
    static const char *const refused[] = {
        "--vantage a@/run/netns/a 192.0.2.1",
        "--vantage a@/run/netns/a --out /tmp/x --once 192.0.2.1",
        "--vantage a@/run/netns/a --out /tmp/x --summary-json /tmp/s.json 192.0.2.1",
        "--vantage a@/run/netns/a --out /tmp/x --metrics 127.0.0.1:9 192.0.2.1",
        "--vantages /nonexistent/vantages --out /tmp/x 192.0.2.1",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        ck_assert_msg(parse_line(&o, refused[i]) == -EINVAL, "%s", refused[i]);
        free_members(&o);
    }
}
END_TEST

static Suite *fleet_suite(void)
{
    Suite *s = suite_create("probe_fleet");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, member_parse);
    tcase_add_test(tc, members_file);
    tcase_add_test(tc, options);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(fleet_suite)
