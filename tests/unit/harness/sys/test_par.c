/* Unit tests for harness/sys/par.c: every index runs exactly once on
 * several threads, and really on more than one; the lowest failing index
 * decides the result; with stop_on_error the indices not yet begun are
 * skipped, without it all run; an empty range calls nothing. */
#include "harness/sys/par.h"
#include "tests/unit/check_main.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define N 2000

struct count {
    atomic_int seen[N];
    atomic_int calls;
    pthread_t first;
    atomic_bool other_thread;
    size_t fail_from; /* indices >= this fail with -(index) */
};

static int visit(void *arg, size_t i)
{
    struct count *c = arg;
    atomic_fetch_add(&c->seen[i], 1);
    atomic_fetch_add(&c->calls, 1);
    if (!pthread_equal(pthread_self(), c->first))
        atomic_store(&c->other_thread, true);
    /* Long enough for the other threads to take indices meanwhile. */
    if (i % 100 == 0)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    return i >= c->fail_from ? -(int)(i % 100 + 1) : 0;
}

static void count_init(struct count *c, size_t fail_from)
{
    for (size_t i = 0; i < N; i++)
        atomic_init(&c->seen[i], 0);
    atomic_init(&c->calls, 0);
    atomic_init(&c->other_thread, false);
    c->first = pthread_self();
    c->fail_from = fail_from;
}

START_TEST(every_index_once)
{
    static struct count c;
    count_init(&c, N);
    ck_assert_int_eq(par_for(N, 4, true, visit, &c), 0);
    for (size_t i = 0; i < N; i++)
        ck_assert_int_eq(atomic_load(&c.seen[i]), 1);
    ck_assert_int_eq(atomic_load(&c.calls), N);
    ck_assert(atomic_load(&c.other_thread));
}
END_TEST

START_TEST(lowest_failure_wins_and_all_run)
{
    static struct count c;
    /* Indices 1500.. fail with -(i % 100 + 1): 1500 gives -1. */
    count_init(&c, 1500);
    ck_assert_int_eq(par_for(N, 4, false, visit, &c), -1);
    ck_assert_int_eq(atomic_load(&c.calls), N);
}
END_TEST

START_TEST(stop_on_error_skips_the_rest)
{
    static struct count c;
    count_init(&c, 0);
    /* One worker: index 0 fails (-1) and nothing else is begun. */
    ck_assert_int_eq(par_for(N, 1, true, visit, &c), -1);
    ck_assert_int_eq(atomic_load(&c.calls), 1);
    /* Several: whatever ran, index 0's error is the one returned. */
    count_init(&c, 0);
    ck_assert_int_eq(par_for(N, 4, true, visit, &c), -1);
    ck_assert_int_eq(atomic_load(&c.seen[0]), 1);
}
END_TEST

START_TEST(one_thread_and_empty)
{
    static struct count c;
    count_init(&c, N);
    ck_assert_int_eq(par_for(0, 4, true, visit, &c), 0);
    ck_assert_int_eq(atomic_load(&c.calls), 0);
    ck_assert_int_eq(par_for(10, 1, true, visit, &c), 0);
    ck_assert_int_eq(atomic_load(&c.calls), 10);
    ck_assert(!atomic_load(&c.other_thread));
    ck_assert_uint_ge(par_cores(), 1);
    ck_assert_uint_le(par_cores(), 8);
}
END_TEST

static Suite *par_suite(void)
{
    Suite *s = suite_create("par");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, every_index_once);
    tcase_add_test(tc, lowest_failure_wins_and_all_run);
    tcase_add_test(tc, stop_on_error_skips_the_rest);
    tcase_add_test(tc, one_thread_and_empty);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(par_suite)
