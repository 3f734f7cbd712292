/* Unit tests for harness/state.c: the state record's text form round trip,
 * saving/finding labs in a private state directory, and run ids. */
#include "../../harness/state.h"
#include "check_main.h"
#include "test_util.h"

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
    ck_assert_int_eq(state_add_ns(s, "node", "ams", "ah-lab-abc-n-ams"), 0);
    ck_assert_int_eq(state_add_ns(s, "client", "eu", "ah-lab-abc-c-eu"), 0);
    ck_assert_int_eq(state_add_pid(s, "responder", "ams", 1234), 0);
}

START_TEST(format_parse_round_trip)
{
    struct state s, t;
    char *text;
    fill(&s, "abc123", "quickstart");
    ck_assert_int_eq(state_format(&s, &text), 0);
    ck_assert_ptr_nonnull(strstr(text, "netns node ams ah-lab-abc-n-ams\n"));
    ck_assert_int_eq(state_parse(text, &t), 0);
    free(text);
    ck_assert_str_eq(t.runid, "abc123");
    ck_assert_str_eq(t.name, "quickstart");
    ck_assert_str_eq(t.mode, "up");
    ck_assert_str_eq(t.lab, "/labs/quickstart.yaml");
    ck_assert_int_eq(t.owner, 4242);
    ck_assert_uint_eq(t.started_ns, 1700000000123456789ULL);
    ck_assert_uint_eq(t.nns, 2);
    ck_assert_str_eq(t.ns[1].netns, "ah-lab-abc-c-eu");
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

static Suite *state_suite(void)
{
    Suite *s = suite_create("state");
    TCase *tc = tcase_create("core");
    tcase_add_unchecked_fixture(tc, dir_setup, tmpdir_remove);
    tcase_add_test(tc, format_parse_round_trip);
    tcase_add_test(tc, save_find_remove);
    tcase_add_test(tc, runids_are_short_and_distinct);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(state_suite)
