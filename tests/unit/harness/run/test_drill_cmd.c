/* Unit tests for the pure parts of `anycast-lab drill`: its verb and MS
 * arguments (run_drill_parse) and the state's marks of what earlier drills
 * changed (withdrawn, link-down): set, cleared, written, read back, found
 * again by state_find and refused by state_check when crafted. */
#include "harness/run/run.h"
#include "harness/run/state.h"
#include "tests/unit/check_main.h"
#include "tests/unit/test_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void dir_setup(void)
{
    tmpdir_make("drillcmd");
    setenv("AH_LAB_STATE_DIR", tmpdir, 1);
}

static int parse(const char *verb, const char *ms, enum ah_verb *v, unsigned *d, char *err)
{
    return run_drill_parse(verb, ms, v, d, err, 256);
}

START_TEST(verbs_and_ms)
{
    enum ah_verb v;
    unsigned d = 99;
    char err[256] = "";
    static const char *const ok[] = {"withdraw", "announce", "link-down", "link-up", "stop",
                                     "start",    "pause",    "resume",    "kill-bgp"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ck_assert_int_eq(parse(ok[i], NULL, &v, &d, err), 0);
        ck_assert_str_eq(ah_schema_verb_name(v), ok[i]);
        ck_assert_uint_eq(d, 0);
    }
    ck_assert_int_eq(parse("delay", "250", &v, &d, err), 0);
    ck_assert_int_eq(v, AH_VERB_DELAY);
    ck_assert_uint_eq(d, 250);
    ck_assert_int_eq(parse("delay", "0", &v, &d, err), 0);
    ck_assert_uint_eq(d, 0);
    ck_assert_int_eq(parse("delay", "60000", &v, &d, err), 0);
}
END_TEST

START_TEST(bad_arguments)
{
    enum ah_verb v;
    unsigned d;
    char err[256];
    ck_assert_int_eq(parse("withdrw", NULL, &v, &d, err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "unknown verb \"withdrw\" (verbs: withdraw, announce"));
    ck_assert_int_eq(parse("flap", NULL, &v, &d, err), -EINVAL);
    ck_assert_str_eq(err, "flap is a sequence: drill withdraw, then announce");
    ck_assert_int_eq(parse("run", NULL, &v, &d, err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "unknown verb"));
    ck_assert_int_eq(parse("delay", NULL, &v, &d, err), -EINVAL);
    ck_assert_str_eq(err, "delay needs MS (0 ends it)");
    ck_assert_int_eq(parse("stop", "5", &v, &d, err), -EINVAL);
    ck_assert_str_eq(err, "only delay takes MS");
    static const char *const bad_ms[] = {"60001", "-1", "", "1x", "ms", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_ms / sizeof bad_ms[0]; i++) {
        ck_assert_int_eq(parse("delay", bad_ms[i], &v, &d, err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "is not a number of ms from 0 to 60000"));
    }
}
END_TEST

static void fill(struct state *s, const char *id)
{
    memset(s, 0, sizeof *s);
    snprintf(s->runid, sizeof s->runid, "%s", id);
    snprintf(s->name, sizeof s->name, "lab%s", id);
    snprintf(s->mode, sizeof s->mode, "up");
    ck_assert_int_eq(state_add_pid(s, "responder", "a", 100), 0);
    ck_assert_int_eq(state_add_pid(s, "responder", "b", 200), 0);
    ck_assert_int_eq(state_add_pid(s, "responder", "a", 300), 0);
}

START_TEST(marks_set_and_clear)
{
    struct state s;
    fill(&s, "m1");
    ck_assert(!state_mark_has(&s, STATE_MARK_WITHDRAWN, "a"));
    ck_assert_int_eq(state_mark_set(&s, STATE_MARK_WITHDRAWN, "a", true), 0);
    ck_assert_int_eq(state_mark_set(&s, STATE_MARK_WITHDRAWN, "a", true), 0);
    ck_assert_uint_eq(s.nmarks, 1);
    ck_assert_int_eq(state_mark_set(&s, STATE_MARK_LINK_DOWN, "b", true), 0);
    ck_assert(state_mark_has(&s, STATE_MARK_WITHDRAWN, "a"));
    ck_assert(!state_mark_has(&s, STATE_MARK_WITHDRAWN, "b"));
    ck_assert(state_mark_has(&s, STATE_MARK_LINK_DOWN, "b"));
    ck_assert_int_eq(state_mark_set(&s, STATE_MARK_WITHDRAWN, "a", false), 0);
    ck_assert_int_eq(state_mark_set(&s, STATE_MARK_WITHDRAWN, "c", false), 0);
    ck_assert(!state_mark_has(&s, STATE_MARK_WITHDRAWN, "a"));
    ck_assert_uint_eq(s.nmarks, 1);
    /* The last pid recorded for a name is its process now. */
    ck_assert_int_eq(state_pid_of(&s, "responder", "a"), 300);
    ck_assert_int_eq(state_pid_of(&s, "responder", "b"), 200);
    ck_assert_int_eq(state_pid_of(&s, "responder", "c"), 0);
    state_free(&s);
}
END_TEST

START_TEST(marks_round_trip)
{
    struct state s, t;
    char *text = NULL, why[256];
    fill(&s, "m2");
    ck_assert_int_eq(state_mark_set(&s, STATE_MARK_WITHDRAWN, "a", true), 0);
    ck_assert_int_eq(state_mark_set(&s, STATE_MARK_LINK_DOWN, "b", true), 0);
    ck_assert_int_eq(state_format(&s, &text), 0);
    ck_assert_ptr_nonnull(strstr(text, "\nmark withdrawn a\nmark link-down b\n"));
    ck_assert_int_eq(state_parse(text, &t), 0);
    free(text);
    ck_assert_uint_eq(t.nmarks, 2);
    ck_assert(state_mark_has(&t, STATE_MARK_WITHDRAWN, "a"));
    ck_assert(state_mark_has(&t, STATE_MARK_LINK_DOWN, "b"));
    ck_assert_ptr_null(state_check(&t, "m2", why, sizeof why));
    state_free(&t);
    /* state_find copies the marks with the rest. */
    ck_assert_int_eq(state_save(&s), 0);
    ck_assert_int_eq(state_find("labm2", &t), 0);
    ck_assert(state_mark_has(&t, STATE_MARK_WITHDRAWN, "a"));
    ck_assert(state_mark_has(&t, STATE_MARK_LINK_DOWN, "b"));
    state_free(&t);
    ck_assert_int_eq(state_remove("m2"), 0);
    state_free(&s);
}
END_TEST

START_TEST(crafted_marks_refused)
{
    static const char *const bad[] = {"mark withdrawn ../x\n", "mark rm-rf a\n",
                                      "mark withdrawn\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256], why[256];
        struct state t;
        snprintf(text, sizeof text, "runid m3\nname l\nmode up\n%s", bad[i]);
        int rc = state_parse(text, &t);
        if (rc == 0) {
            ck_assert_ptr_nonnull(state_check(&t, "m3", why, sizeof why));
            ck_assert_ptr_nonnull(strstr(why, "mark line 1"));
            state_free(&t);
        } else {
            ck_assert_int_eq(rc, -EBADMSG);
        }
    }
}
END_TEST

static Suite *drill_cmd_suite(void)
{
    Suite *s = suite_create("drill_cmd");
    TCase *tc = tcase_create("core");
    tcase_add_unchecked_fixture(tc, dir_setup, tmpdir_remove);
    tcase_add_test(tc, verbs_and_ms);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, marks_set_and_clear);
    tcase_add_test(tc, marks_round_trip);
    tcase_add_test(tc, crafted_marks_refused);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(drill_cmd_suite)
