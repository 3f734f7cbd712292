/* Unit tests for the controller's half of the clock exchange
 * (harness/run/clock_exchange.c), against a real `anycast-probe
 * --clock-echo` child over pipes: on the same clock the estimate is within
 * its own uncertainty of zero, under libfaketime "+5s" within it of 5 s; a
 * child that closes, answers garbage or stays silent is an error. */
#include "tests/unit/check_main.h"
#include "harness/run/clock_exchange.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ah/clock.h"

struct child {
    pid_t pid;
    int to, from;
};

static void spawn(struct child *c, char *const argv[])
{
    int in[2], out[2];
    ck_assert_int_eq(pipe(in), 0);
    ck_assert_int_eq(pipe(out), 0);
    c->pid = fork();
    ck_assert_int_ge(c->pid, 0);
    if (c->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    c->to = in[1];
    c->from = out[0];
}

/* Closes the child's stdin (the echo then exits 0) and reaps it. */
static int finish(struct child *c, bool kill_it)
{
    int status = 0;
    close(c->to);
    if (kill_it)
        kill(c->pid, SIGKILL);
    ck_assert_int_eq(waitpid(c->pid, &status, 0), c->pid);
    close(c->from);
    return status;
}

/* The probe of this build: $AH_ROOT/$AH_BUILD/anycast-probe, as tests/run.sh
 * exports them, or build/anycast-probe from the working directory. */
static const char *probe_path(void)
{
    static char path[4096];
    const char *root = getenv("AH_ROOT"), *build = getenv("AH_BUILD");
    if (build == NULL)
        build = "build";
    if (build[0] == '/' || root == NULL)
        snprintf(path, sizeof(path), "%s/anycast-probe", build);
    else
        snprintf(path, sizeof(path), "%s/%s/anycast-probe", root, build);
    return path;
}

static struct clock_estimate measure(char *const argv[])
{
    struct clock_sample s[8];
    struct clock_estimate e;
    struct child c;

    spawn(&c, argv);
    ck_assert_int_eq(clock_exchange(c.to, c.from, 8, 5 * AH_NS_PER_S, s), 0);
    ck_assert_int_eq(finish(&c, false), 0);
    for (int i = 0; i < 8; i++)
        ck_assert_uint_le(s[i].t2, s[i].t3);
    ck_assert_int_eq(clock_estimate(s, 8, &e), 0);
    fprintf(stderr, "offset %lld ns, delay %llu ns, uncertainty %llu ns\n", (long long)e.offset_ns,
            (unsigned long long)e.delay_ns, (unsigned long long)e.uncertainty_ns);
    /* A pipe on one machine: well under a second even on a loaded runner. */
    ck_assert_uint_lt(e.delay_ns, AH_NS_PER_S);
    return e;
}

START_TEST(same_clock_within_uncertainty)
{
    char *argv[] = {(char *)probe_path(), "--clock-echo", NULL};
    struct clock_estimate e = measure(argv);
    /* One clock: t1 <= t2 <= t3 <= t4, so the offset is bounded by delay / 2. */
    ck_assert_int_le(llabs(e.offset_ns), (long long)e.uncertainty_ns);
}
END_TEST

START_TEST(faketime_five_seconds_ahead)
{
    if (system("command -v faketime >/dev/null 2>&1") != 0) {
        fprintf(stderr, "faketime not installed: skipped\n");
        return;
    }
    char *argv[] = {"faketime", "-f", "+5s", (char *)probe_path(), "--clock-echo", NULL};
    struct clock_estimate e = measure(argv);
    /* libfaketime shifts the child's CLOCK_REALTIME by exactly 5 s; allow
     * 1 ms for its own bookkeeping beside the measured uncertainty. */
    long long err = llabs(e.offset_ns - 5 * (long long)AH_NS_PER_S);
    ck_assert_int_le(err, (long long)(e.uncertainty_ns + AH_NS_PER_MS));
}
END_TEST

START_TEST(closed_garbage_silent)
{
    struct clock_sample s[2];
    struct child c;
    char *closes[] = {"true", NULL};
    char *garbage[] = {"sh", "-c", "read x; echo 12 x34", NULL};
    char *extra[] = {"sh", "-c", "read x; printf '1 2\\n3 4\\n'", NULL};
    char *silent[] = {"sleep", "10", NULL};

    /* As in anycast-lab: a write to a closed pipe is an EPIPE, not a death. */
    signal(SIGPIPE, SIG_IGN);
    spawn(&c, closes);
    ck_assert_int_eq(clock_exchange(c.to, c.from, 2, 5 * AH_NS_PER_S, s), -EPIPE);
    finish(&c, false);
    spawn(&c, garbage);
    ck_assert_int_eq(clock_exchange(c.to, c.from, 2, 5 * AH_NS_PER_S, s), -EPROTO);
    finish(&c, false);
    spawn(&c, extra);
    /* An answer nobody asked for may arrive with the first; either way it
     * is not taken as the second. */
    int rc = clock_exchange(c.to, c.from, 2, 5 * AH_NS_PER_S, s);
    ck_assert(rc == -EPROTO || rc == -EPIPE);
    finish(&c, false);
    spawn(&c, silent);
    uint64_t t0 = ah_clock_mono_ns();
    ck_assert_int_eq(clock_exchange(c.to, c.from, 2, 100 * AH_NS_PER_MS, s), -ETIMEDOUT);
    ck_assert_uint_lt(ah_clock_mono_ns() - t0, 3 * AH_NS_PER_S);
    finish(&c, true);
    ck_assert_int_eq(clock_exchange(-1, -1, 0, 0, NULL), 0);
}
END_TEST

static Suite *clock_exchange_suite(void)
{
    Suite *s = suite_create("clock_exchange");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, same_clock_within_uncertainty);
    tcase_add_test(tc, faketime_five_seconds_ahead);
    tcase_add_test(tc, closed_garbage_silent);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(clock_exchange_suite)
