/* Unit tests for harness/run/state.c: the state record's text form round trip,
 * saving/finding labs in a private state directory, run ids, and teardown_lab
 * refusing a state that fails state_check. */
#include "harness/run/state.h"
#include "harness/run/teardown.h"
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
    tmpdir_make("state");
    setenv("AH_LAB_STATE_DIR", tmpdir, 1);
}

static void fill(struct state *s, const char *id, const char *name)
{
    memset(s, 0, sizeof *s);
    snprintf(s->runid, sizeof s->runid, "%s", id);
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->mode, sizeof s->mode, "up");
    snprintf(s->lab, sizeof s->lab, "/labs/%s.yaml", name);
    s->owner = 4242;
    s->started_ns = 1700000000123456789ULL;
    char ns[64];
    snprintf(ns, sizeof ns, "ah-lab-%s-n-ams", id);
    ck_assert_int_eq(state_add_ns(s, "node", "ams", ns), 0);
    snprintf(ns, sizeof ns, "ah-lab-%s-c-eu", id);
    ck_assert_int_eq(state_add_ns(s, "client", "eu", ns), 0);
    ck_assert_int_eq(state_add_pid(s, "responder", "ams", 1234), 0);
}

START_TEST(format_parse_round_trip)
{
    struct state s, t;
    char *text;
    fill(&s, "abc123", "quickstart");
    ck_assert_int_eq(state_format(&s, &text), 0);
    ck_assert_ptr_nonnull(strstr(text, "netns node ams ah-lab-abc123-n-ams\n"));
    ck_assert_int_eq(state_parse(text, &t), 0);
    free(text);
    ck_assert_str_eq(t.runid, "abc123");
    ck_assert_str_eq(t.name, "quickstart");
    ck_assert_str_eq(t.mode, "up");
    ck_assert_str_eq(t.lab, "/labs/quickstart.yaml");
    ck_assert_int_eq(t.owner, 4242);
    ck_assert_uint_eq(t.started_ns, 1700000000123456789ULL);
    ck_assert_uint_eq(t.nns, 2);
    ck_assert_str_eq(t.ns[1].netns, "ah-lab-abc123-c-eu");
    ck_assert_str_eq(t.ns[1].role, "client");
    ck_assert_uint_eq(t.npids, 1);
    ck_assert_int_eq(t.pids[0].pid, 1234);
    state_free(&s);
    state_free(&t);
    ck_assert_int_eq(state_parse("name x\n", &t), -EBADMSG);
}
END_TEST

START_TEST(save_find_remove)
{
    struct state s, t;
    fill(&s, "aaa111", "one");
    ck_assert_int_eq(state_save(&s), 0);
    state_free(&s);
    fill(&s, "bbb222", "two");
    ck_assert_int_eq(state_save(&s), 0);
    state_free(&s);
    fill(&s, "ccc333", "two");
    ck_assert_int_eq(state_save(&s), 0);
    state_free(&s);

    ck_assert_int_eq(state_find("one", &t), 0);
    ck_assert_str_eq(t.runid, "aaa111");
    ck_assert_uint_eq(t.nns, 2);
    state_free(&t);
    ck_assert_int_eq(state_find("bbb222", &t), 0);
    ck_assert_str_eq(t.name, "two");
    state_free(&t);
    ck_assert_int_eq(state_find("two", &t), -EEXIST);
    ck_assert_int_eq(state_find("three", &t), -ENOENT);
    ck_assert_int_eq(state_remove("bbb222"), 0);
    ck_assert_int_eq(state_find("two", &t), 0);
    ck_assert_str_eq(t.runid, "ccc333");
    state_free(&t);
    /* The owner 4242 is not an anycast-lab process (or not alive). */
    ck_assert(!state_owner_alive(&t));
}
END_TEST

START_TEST(runids_are_short_and_distinct)
{
    char a[16], b[16];
    state_new_runid(a, sizeof a);
    state_new_runid(b, sizeof b);
    ck_assert_uint_eq(strlen(a), 6);
    ck_assert(a[0] >= 'a' && a[0] <= 'z');
    for (size_t i = 0; i < 6; i++)
        ck_assert(strchr("abcdefghijklmnopqrstuvwxyz0123456789", a[i]) != NULL);
    ck_assert_str_ne(a, b);
}
END_TEST

/* Each way a state file can name something that is not its run's own, and
 * the part of the reason state_check gives for it. */
static const struct {
    const char *from, *to; /* replaced in the text of a good state */
    const char *why;
} bad_edits[] = {
    {"runid abc123\n", "runid ../victimdir\n", "is not its directory's name"},
    {"runid abc123\n", "runid other1\n", "is not its directory's name"},
    {"runid abc123\n", "", "unreadable"},
    {"name quickstart\n", "name ../x\n", "bad lab name"},
    {"name quickstart\n", "name a\033]0;x\n", "bad lab name"},
    {"mode up\n", "mode rm\n", "neither run nor up"},
    {"lab /labs/quickstart.yaml\n", "lab /labs/\033[2J\n", "control characters"},
    {"ah-lab-abc123-n-ams\n", "ah-t1-victim\n", "is not a namespace of run abc123"},
    {"ah-lab-abc123-n-ams\n", "ah-lab-zzz999-n-ams\n", "is not a namespace of run abc123"},
    {"ah-lab-abc123-n-ams\n", "ah-lab-abc1234-n-ams\n", "is not a namespace of run abc123"},
    {"ah-lab-abc123-n-ams\n", "ah-lab-abc123-\n", "is not a namespace of run abc123"},
    {"ah-lab-abc123-n-ams\n", "ah-lab-abc123-n-../../x\n", "is not a namespace of run abc123"},
    {"ah-lab-abc123-n-ams\n", "ah-lab-abc123-n-a.b\n", "is not a namespace of run abc123"},
    {"ah-lab-abc123-n-ams\n", "ah-lab\n", "is not a namespace of run abc123"},
    {"netns node ams", "netns host ams", "bad role or name"},
    {"netns node ams", "netns node a/b", "bad role or name"},
    {"netns node ams ah-lab-abc123-n-ams\n", "netns node ams\n", "unreadable"},
    {"pid responder ams 1234\n", "pid responder ams 1\n", "bad process kind, name or pid"},
    {"pid responder ams 1234\n", "pid responder ams -1\n", "bad process kind, name or pid"},
    {"pid responder ams 1234\n", "pid responder ams 0\n", "bad process kind, name or pid"},
    {"pid responder ams 1234\n", "pid ../x ams 1234\n", "bad process kind, name or pid"},
};

static char *replace(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    ck_assert_msg(at != NULL, "no \"%s\" in the state text", from);
    char *out = NULL;
    ck_assert_int_ge(asprintf(&out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from)), 0);
    return out;
}

START_TEST(check_refuses_foreign_names)
{
    struct state s, t;
    char *text, why[256];
    fill(&s, "abc123", "quickstart");
    ck_assert_int_eq(state_format(&s, &text), 0);
    state_free(&s);
    ck_assert_int_eq(state_parse(text, &t), 0);
    ck_assert_ptr_null(state_check(&t, "abc123", why, sizeof why));
    /* The run id is the directory's, and must be one. */
    ck_assert_ptr_nonnull(state_check(&t, "abc1234", why, sizeof why));
    ck_assert_ptr_nonnull(state_check(&t, "../abc123", why, sizeof why));
    state_free(&t);

    const char *f = bad_edits[_i].from, *to = bad_edits[_i].to;
    char *bad = replace(text, f, to);
    free(text);
    int rc = state_parse(bad, &t);
    if (strcmp(bad_edits[_i].why, "unreadable") == 0) {
        ck_assert_int_eq(rc, -EBADMSG);
    } else {
        ck_assert_int_eq(rc, 0);
        const char *w = state_check(&t, "abc123", why, sizeof why);
        ck_assert_msg(w != NULL, "edit %d passed", _i);
        ck_assert_msg(strstr(w, bad_edits[_i].why) != NULL, "edit %d: %s", _i, w);
        state_free(&t);
    }
    free(bad);
}
END_TEST

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static void count_cb(void *arg, const struct state *s)
{
    (void)s;
    (*(int *)arg)++;
}

/* The attack docs/security.md lists: a state file whose runid is ../victimdir, or whose
 * run directory is a link to the victim. Neither is loaded, removed through
 * or followed; the good lab beside them still is. */
START_TEST(crafted_state_dirs)
{
    char base[256], victim[256], p[512];
    snprintf(base, sizeof base, "%s/state", tmpdir);
    snprintf(victim, sizeof victim, "%s/victimdir", tmpdir);
    setenv("AH_LAB_STATE_DIR", base, 1);
    ck_assert_int_eq(mkdir(base, 0755), 0);
    ck_assert_int_eq(mkdir(victim, 0755), 0);
    snprintf(p, sizeof p, "%s/precious", victim);
    write_file(p, "keep me\n");

    struct state s, t;
    fill(&s, "good1", "good");
    ck_assert_int_eq(state_save(&s), 0);
    state_free(&s);

    /* A directory whose state names another run id. */
    snprintf(p, sizeof p, "%s/evil1", base);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/evil1/state", base);
    write_file(p, "runid ../victimdir\nname evil\nmode run\nowner 999999\n"
                  "netns node a ah-t1-victim\npid responder a 1234\n");
    /* A run directory that is a link to the victim, which holds a state
     * that would pass. */
    snprintf(p, sizeof p, "%s/state", victim);
    write_file(p, "runid lnk1\nname lnk\nmode run\nowner 999999\nnetns node a ah-lab-lnk1-n-a\n");
    snprintf(p, sizeof p, "%s/lnk1", base);
    ck_assert_int_eq(symlink(victim, p), 0);
    /* A directory name that is no run id. */
    snprintf(p, sizeof p, "%s/Bad-Id", base);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/Bad-Id/state", base);
    write_file(p, "runid Bad-Id\nname bad\nmode run\n");

    int n = 0;
    ck_assert_int_eq(state_foreach(count_cb, &n), 1);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(state_find("good", &t), 0);
    state_free(&t);
    ck_assert_int_eq(state_find("evil", &t), -ENOENT);
    ck_assert_int_eq(state_find("lnk", &t), -ENOENT);
    ck_assert_int_eq(state_load("evil1", &t), -EBADMSG);
    ck_assert_int_eq(state_load("lnk1", &t), -EBADMSG);
    ck_assert_int_eq(state_load("../victimdir", &t), -EBADMSG);
    ck_assert_int_eq(state_load("nosuch", &t), -ENOENT);

    /* Removal builds no path from anything but a run id, and removes a link
     * without entering it. */
    ck_assert_int_eq(state_remove("../victimdir"), -EINVAL);
    ck_assert_int_eq(state_remove("lnk1"), 0);
    struct stat st;
    snprintf(p, sizeof p, "%s/lnk1", base);
    ck_assert_int_eq(lstat(p, &st), -1);
    snprintf(p, sizeof p, "%s/precious", victim);
    ck_assert_int_eq(stat(p, &st), 0);
    snprintf(p, sizeof p, "%s/state", victim);
    ck_assert_int_eq(stat(p, &st), 0);

    /* A state made in memory with a foreign namespace is not taken down. */
    fill(&s, "good1", "good");
    ck_assert_int_eq(state_add_ns(&s, "node", "v", "ah-t1-victim"), 0);
    ck_assert_int_eq(teardown_lab(&s, NULL, NULL), -EINVAL);
    state_free(&s);
    ck_assert_int_eq(state_find("good", &t), 0); /* its state is still there */
    state_free(&t);
    ck_assert_int_eq(state_remove("good1"), 0);
    ck_assert_int_eq(state_find("good", &t), -ENOENT);
    setenv("AH_LAB_STATE_DIR", tmpdir, 1);
}
END_TEST

/* The largest lab's state (1024 vantages with a router and a client each,
 * 256 nodes) is over 64 KiB and loads whole; one over STATE_FILE_MAX is
 * refused. */
START_TEST(large_state_files)
{
    struct state s, t;
    fill(&s, "big1", "big");
    char name[32], ns[64];
    for (int i = 0; i < 1024; i++) {
        snprintf(name, sizeof name, "vantage-%d", i);
        snprintf(ns, sizeof ns, "ah-lab-big1-r-%s", name);
        ck_assert_int_eq(state_add_ns(&s, "router", name, ns), 0);
        snprintf(ns, sizeof ns, "ah-lab-big1-c-%s", name);
        ck_assert_int_eq(state_add_ns(&s, "client", name, ns), 0);
        ck_assert_int_eq(state_add_pid(&s, "probe", name, 100000 + i), 0);
    }
    ck_assert_int_eq(state_save(&s), 0);
    ck_assert_int_eq(state_load("big1", &t), 0);
    ck_assert_uint_eq(t.nns, s.nns);
    ck_assert_uint_eq(t.npids, s.npids);
    ck_assert_str_eq(t.ns[t.nns - 1].netns, "ah-lab-big1-c-vantage-1023");
    state_free(&t);
    state_free(&s);

    char p[512];
    snprintf(p, sizeof p, "%s/big1/state", tmpdir);
    FILE *f = fopen(p, "a");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < STATE_FILE_MAX / 16; i++)
        fputs("# padding......\n", f);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(state_load("big1", &t), -EBADMSG);
    ck_assert_int_eq(state_remove("big1"), 0);
}
END_TEST

static Suite *state_suite(void)
{
    Suite *s = suite_create("state");
    TCase *tc = tcase_create("core");
    tcase_add_unchecked_fixture(tc, dir_setup, tmpdir_remove);
    tcase_add_test(tc, format_parse_round_trip);
    tcase_add_test(tc, save_find_remove);
    tcase_add_test(tc, runids_are_short_and_distinct);
    tcase_add_loop_test(tc, check_refuses_foreign_names, 0,
                        (int)(sizeof bad_edits / sizeof bad_edits[0]));
    tcase_add_test(tc, crafted_state_dirs);
    tcase_add_test(tc, large_state_files);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(state_suite)
