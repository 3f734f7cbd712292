/* Unit tests for harness/drill.c: flap expansion into withdraw/announce
 * steps, ordering of the schedule, and the executor playing only due steps
 * through a fake action table with a fake clock. */
#include "../../harness/drill.h"
#include "check_main.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MS 1000000ULL
#define S  1000000000ULL

static struct lab_event ev(uint64_t at, enum lab_verb verb, size_t node)
{
    return (struct lab_event){.at_ns = at, .verb = verb, .node = node};
}

START_TEST(plain_events_keep_order)
{
    struct lab_event e[] = {ev(2 * S, LAB_VERB_WITHDRAW, 0), ev(5 * S, LAB_VERB_ANNOUNCE, 0),
                            ev(7 * S, LAB_VERB_STOP, 1), ev(7 * S, LAB_VERB_PAUSE, 2)};
    struct lab lab = {.drill = e, .ndrill = 4};
    struct drill d;
    ck_assert_int_eq(drill_expand(&lab, &d), 0);
    ck_assert_uint_eq(d.n, 4);
    ck_assert_uint_eq(d.steps[0].at_ns, 2 * S);
    ck_assert_int_eq(d.steps[1].verb, LAB_VERB_ANNOUNCE);
    /* Equal times keep the lab's order. */
    ck_assert_int_eq(d.steps[2].verb, LAB_VERB_STOP);
    ck_assert_int_eq(d.steps[3].verb, LAB_VERB_PAUSE);
    ck_assert_uint_eq(d.steps[3].node, 2);
    ck_assert_uint_eq(d.steps[0].flap_n, 0);
    ck_assert_str_eq(drill_step_event(&d.steps[0]), "withdraw");
    drill_free(&d);
}
END_TEST

START_TEST(flap_expands_to_pairs)
{
    struct lab_event e[] = {ev(10 * S, LAB_VERB_FLAP, 2)};
    e[0].flap_count = 3;
    e[0].flap_down_ns = 200 * MS;
    e[0].flap_up_ns = 300 * MS;
    struct lab lab = {.drill = e, .ndrill = 1};
    struct drill d;
    ck_assert_int_eq(drill_expand(&lab, &d), 0);
    ck_assert_uint_eq(d.n, 6);
    uint64_t want[] = {10000, 10200, 10500, 10700, 11000, 11200};
    for (size_t i = 0; i < 6; i++) {
        ck_assert_uint_eq(d.steps[i].at_ns, want[i] * MS);
        ck_assert_int_eq(d.steps[i].verb, i % 2 ? LAB_VERB_ANNOUNCE : LAB_VERB_WITHDRAW);
        ck_assert_uint_eq(d.steps[i].node, 2);
        ck_assert_uint_eq(d.steps[i].flap_i, i + 1);
        ck_assert_uint_eq(d.steps[i].flap_n, 6);
    }
    drill_free(&d);
}
END_TEST

START_TEST(flap_interleaves_with_later_events)
{
    /* A flap that overlaps a later event: the later event sorts in. */
    struct lab_event e[] = {ev(1 * S, LAB_VERB_FLAP, 0), ev(1100 * MS, LAB_VERB_STOP, 1)};
    e[0].flap_count = 2;
    e[0].flap_down_ns = 50 * MS;
    e[0].flap_up_ns = 100 * MS;
    struct lab lab = {.drill = e, .ndrill = 2};
    struct drill d;
    ck_assert_int_eq(drill_expand(&lab, &d), 0);
    ck_assert_uint_eq(d.n, 5);
    ck_assert_uint_eq(d.steps[0].at_ns, 1000 * MS);
    ck_assert_uint_eq(d.steps[1].at_ns, 1050 * MS);
    ck_assert_int_eq(d.steps[2].verb, LAB_VERB_STOP);
    ck_assert_uint_eq(d.steps[3].at_ns, 1150 * MS);
    ck_assert_uint_eq(d.steps[4].at_ns, 1200 * MS);
    drill_free(&d);
}
END_TEST

START_TEST(empty_drill)
{
    struct lab lab = {0};
    struct drill d;
    ck_assert_int_eq(drill_expand(&lab, &d), 0);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_uint_eq(drill_next_at(&d), UINT64_MAX);
    drill_free(&d);
}
END_TEST

struct fake {
    int calls;
    enum lab_verb verbs[16];
    int fail_on;
};

static int fake_action(void *arg, struct drill_step *s, uint64_t *ack, char *detail, size_t len)
{
    struct fake *f = arg;
    f->verbs[f->calls++] = s->verb;
    *ack = 1000 + (uint64_t)f->calls;
    snprintf(detail, len, "call %d", f->calls);
    return f->calls == f->fail_on ? -EIO : 0;
}

START_TEST(executor_runs_only_due_steps)
{
    struct lab_event e[] = {ev(2 * S, LAB_VERB_WITHDRAW, 0), ev(5 * S, LAB_VERB_ANNOUNCE, 0),
                            ev(5 * S, LAB_VERB_STOP, 1)};
    struct lab lab = {.drill = e, .ndrill = 3};
    struct drill d;
    struct fake f = {.fail_on = 3};
    struct drill_ops ops = {.arg = &f, .action = fake_action};
    ck_assert_int_eq(drill_expand(&lab, &d), 0);

    ck_assert_uint_eq(drill_run_due(&d, 1 * S, &ops), 0);
    ck_assert_int_eq(f.calls, 0);
    ck_assert_uint_eq(drill_next_at(&d), 2 * S);
    ck_assert_uint_eq(drill_run_due(&d, 2 * S + 300, &ops), 1);
    ck_assert_uint_eq(d.steps[0].late_ns, 300);
    ck_assert_uint_eq(d.steps[0].ack_ns, 1001);
    ck_assert_str_eq(d.steps[0].detail, "call 1");
    ck_assert_int_eq(d.steps[0].done, 1);
    ck_assert_int_eq(d.steps[1].done, 0);
    /* A late tick runs everything that is due, in order. */
    ck_assert_uint_eq(drill_run_due(&d, 9 * S, &ops), 2);
    ck_assert_int_eq(f.verbs[1], LAB_VERB_ANNOUNCE);
    ck_assert_int_eq(f.verbs[2], LAB_VERB_STOP);
    ck_assert_int_eq(d.steps[2].rc, -EIO);
    ck_assert_uint_eq(d.steps[2].late_ns, 4 * S);
    ck_assert_uint_eq(drill_next_at(&d), UINT64_MAX);
    ck_assert_uint_eq(drill_run_due(&d, 20 * S, &ops), 0);
    drill_free(&d);
}
END_TEST

static Suite *drill_suite(void)
{
    Suite *s = suite_create("drill");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, plain_events_keep_order);
    tcase_add_test(tc, flap_expands_to_pairs);
    tcase_add_test(tc, flap_interleaves_with_later_events);
    tcase_add_test(tc, empty_drill);
    tcase_add_test(tc, executor_runs_only_due_steps);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(drill_suite)
