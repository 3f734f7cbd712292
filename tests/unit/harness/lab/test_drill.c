/* Unit tests for harness/lab/drill.c: flap expansion into withdraw/announce
 * steps, ordering of the schedule, the executor playing only due steps
 * through a fake action table with a fake clock, and the lateness of steps
 * against the lab's tolerance. */
#include "harness/lab/drill.h"
#include "tests/unit/check_main.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ah/clock.h"

#define MS AH_NS_PER_MS
#define S  AH_NS_PER_S
static struct lab_event ev(uint64_t at, enum ah_verb verb, size_t node)
{
    return (struct lab_event){.at_ns = at, .verb = verb, .node = node};
}

START_TEST(plain_events_keep_order)
{
    struct lab_event e[] = {ev(2 * S, AH_VERB_WITHDRAW, 0), ev(5 * S, AH_VERB_ANNOUNCE, 0),
                            ev(7 * S, AH_VERB_STOP, 1), ev(7 * S, AH_VERB_PAUSE, 2)};
    struct lab lab = {.drill = e, .ndrill = 4};
    struct drill d;
    ck_assert_int_eq(drill_expand(&lab, &d), 0);
    ck_assert_uint_eq(d.n, 4);
    ck_assert_uint_eq(d.steps[0].at_ns, 2 * S);
    ck_assert_int_eq(d.steps[1].verb, AH_VERB_ANNOUNCE);
    /* Equal times keep the lab's order. */
    ck_assert_int_eq(d.steps[2].verb, AH_VERB_STOP);
    ck_assert_int_eq(d.steps[3].verb, AH_VERB_PAUSE);
    ck_assert_uint_eq(d.steps[3].node, 2);
    ck_assert_uint_eq(d.steps[0].flap_n, 0);
    ck_assert_str_eq(drill_step_event(&d.steps[0]), "withdraw");
    drill_free(&d);
}
END_TEST

START_TEST(flap_expands_to_pairs)
{
    struct lab_event e[] = {ev(10 * S, AH_VERB_FLAP, 2)};
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
        ck_assert_int_eq(d.steps[i].verb, i % 2 ? AH_VERB_ANNOUNCE : AH_VERB_WITHDRAW);
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
    struct lab_event e[] = {ev(1 * S, AH_VERB_FLAP, 0), ev(1100 * MS, AH_VERB_STOP, 1)};
    e[0].flap_count = 2;
    e[0].flap_down_ns = 50 * MS;
    e[0].flap_up_ns = 100 * MS;
    struct lab lab = {.drill = e, .ndrill = 2};
    struct drill d;
    ck_assert_int_eq(drill_expand(&lab, &d), 0);
    ck_assert_uint_eq(d.n, 5);
    ck_assert_uint_eq(d.steps[0].at_ns, 1000 * MS);
    ck_assert_uint_eq(d.steps[1].at_ns, 1050 * MS);
    ck_assert_int_eq(d.steps[2].verb, AH_VERB_STOP);
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
    enum ah_verb verbs[16];
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
    struct lab_event e[] = {ev(2 * S, AH_VERB_WITHDRAW, 0), ev(5 * S, AH_VERB_ANNOUNCE, 0),
                            ev(5 * S, AH_VERB_STOP, 1)};
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
    ck_assert_int_eq(f.verbs[1], AH_VERB_ANNOUNCE);
    ck_assert_int_eq(f.verbs[2], AH_VERB_STOP);
    ck_assert_int_eq(d.steps[2].rc, -EIO);
    ck_assert_uint_eq(d.steps[2].late_ns, 4 * S);
    ck_assert_uint_eq(drill_next_at(&d), UINT64_MAX);
    ck_assert_uint_eq(drill_run_due(&d, 20 * S, &ops), 0);
    drill_free(&d);
}
END_TEST

/* A clock that each step's action pushes on by 300 ms: the step after a
 * slow one is later by that much. */
struct slow {
    uint64_t now;
};

static int slow_action(void *arg, struct drill_step *s, uint64_t *ack, char *detail, size_t len)
{
    struct slow *c = arg;
    (void)s;
    (void)detail;
    (void)len;
    c->now += 300 * MS;
    *ack = c->now;
    return 0;
}

static uint64_t slow_now(void *arg)
{
    return ((struct slow *)arg)->now;
}

START_TEST(each_step_has_its_own_lateness)
{
    struct lab_event e[] = {ev(2 * S, AH_VERB_WITHDRAW, 0), ev(2 * S, AH_VERB_STOP, 1),
                            ev(2 * S, AH_VERB_ANNOUNCE, 0)};
    struct lab lab = {.drill = e, .ndrill = 3};
    struct drill d;
    struct slow c = {.now = 2 * S + 1 * MS};
    struct drill_ops ops = {.arg = &c, .action = slow_action, .now = slow_now};
    ck_assert_int_eq(drill_expand(&lab, &d), 0);
    ck_assert_uint_eq(drill_run_due(&d, c.now, &ops), 3);
    ck_assert_uint_eq(d.steps[0].late_ns, 1 * MS);
    ck_assert_uint_eq(d.steps[1].late_ns, 301 * MS);
    ck_assert_uint_eq(d.steps[2].late_ns, 601 * MS);
    drill_free(&d);
}
END_TEST

static struct drill_step done_step(uint64_t at, enum ah_verb verb, size_t node, uint64_t late)
{
    return (struct drill_step){.at_ns = at, .verb = verb, .node = node, .late_ns = late, .done = 1};
}

START_TEST(late_steps_against_tolerance)
{
    struct lab_node nodes[2] = {{.name = "ams"}, {.name = "nyc"}};
    struct lab lab = {.nodes = nodes, .nnodes = 2};
    struct drill_step st[5] = {
        done_step(1 * S, AH_VERB_WITHDRAW, 0, 20 * MS),     /* exactly the tolerance: on time */
        done_step(2 * S, AH_VERB_ANNOUNCE, 0, 20 * MS + 1), /* 1 ns over: late */
        done_step(3 * S, AH_VERB_WITHDRAW, 0, 7700 * MS),   /* the latest */
        done_step(4 * S, AH_VERB_STOP, 1, 0),
        {.at_ns = 5 * S, .verb = AH_VERB_START, .node = 1, .late_ns = 9 * S}, /* not run */
    };
    struct drill d = {.steps = st, .n = 5};
    size_t worst = 0;
    char buf[512];

    ck_assert(!drill_step_late(&st[0], 20 * MS));
    ck_assert(drill_step_late(&st[1], 20 * MS));
    ck_assert(!drill_step_late(&st[4], 20 * MS)); /* never executed: not "late" */
    ck_assert_uint_eq(drill_late_count(&d, 20 * MS, &worst), 2);
    ck_assert_uint_eq(worst, 2);
    ck_assert_uint_eq(drill_late_count(&d, 10 * S, &worst), 0);
    ck_assert_uint_eq(worst, SIZE_MAX);
    ck_assert_uint_eq(drill_late_count(&d, 1, NULL), 3);

    /* Steps are named as expectations name them: the second withdraw of
     * ams is "withdraw ams#2". */
    ck_assert_int_eq(drill_step_ref(&d, &lab, 0, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "withdraw ams");
    ck_assert_int_eq(drill_step_ref(&d, &lab, 2, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "withdraw ams#2");
    ck_assert_int_eq(drill_step_ref(&d, &lab, 3, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "stop nyc");
    ck_assert_int_eq(drill_step_ref(&d, &lab, 2, buf, 8), -ENOSPC);
    ck_assert_int_eq(drill_step_ref(&d, &lab, 5, buf, sizeof buf), -EINVAL);

    /* One line: the latest step, by how much, how many, the likely cause. */
    ck_assert_int_eq(drill_late_message(&d, &lab, 20 * MS, 400, 2, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "drill step withdraw ams#2 at 3.000s started 7700.000 ms late, over the "
                          "20ms tolerance (2 steps late in all); likely cause: the machine is "
                          "overloaded (400 processes on 2 cores): run fewer vantages, nodes or "
                          "probes per second");
    ck_assert_ptr_null(strchr(buf, '\n'));
    /* A tolerance below a millisecond is the likelier cause. */
    ck_assert_int_eq(drill_late_message(&d, &lab, 1, 3, 2, buf, sizeof buf), 0);
    ck_assert_ptr_nonnull(strstr(buf, "over the 1ns tolerance (3 steps late in all)"));
    ck_assert_ptr_nonnull(strstr(buf, "likely cause: the tolerance is below"));
    ck_assert_int_eq(drill_late_message(&d, &lab, 10 * S, 3, 2, buf, sizeof buf), -ENOENT);
    ck_assert_int_eq(drill_late_message(&d, &lab, 20 * MS, 3, 2, buf, 16), -ENOSPC);
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
    tcase_add_test(tc, each_step_has_its_own_lateness);
    tcase_add_test(tc, late_steps_against_tolerance);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(drill_suite)
