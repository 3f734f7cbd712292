/* Unit tests for the rise/fall state machine of harness/routing/health.c (thresholds,
 * hysteresis, delay-down/delay-up hold times, deadlines) and for the UDP
 * checker against a socket pair on loopback (answer, wrong id, timeout,
 * refused). */
#include "harness/routing/health.h"
#include "tests/unit/check_main.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ah/echo.h"

#include "ah/clock.h"

#define MS AH_NS_PER_MS
#define S  AH_NS_PER_S
START_TEST(starts_up_and_needs_down_failures)
{
    struct health_sm sm;
    health_sm_init(&sm, 3, 2, 0, 0);
    ck_assert(sm.state);
    ck_assert_uint_eq(health_sm_deadline(&sm), UINT64_MAX);
    ck_assert_int_eq(health_sm_feed(&sm, false, 1 * S), HEALTH_NONE);
    ck_assert_int_eq(health_sm_feed(&sm, false, 2 * S), HEALTH_NONE);
    /* A success in between restarts the count. */
    ck_assert_int_eq(health_sm_feed(&sm, true, 3 * S), HEALTH_NONE);
    ck_assert_int_eq(health_sm_feed(&sm, false, 4 * S), HEALTH_NONE);
    ck_assert_int_eq(health_sm_feed(&sm, false, 5 * S), HEALTH_NONE);
    ck_assert_int_eq(health_sm_feed(&sm, false, 6 * S), HEALTH_WENT_DOWN);
    ck_assert(!sm.state);
    /* Further failures report nothing new. */
    ck_assert_int_eq(health_sm_feed(&sm, false, 7 * S), HEALTH_NONE);
}
END_TEST

START_TEST(up_threshold_is_hysteresis)
{
    struct health_sm sm;
    health_sm_init(&sm, 1, 3, 0, 0);
    ck_assert_int_eq(health_sm_feed(&sm, false, 1 * S), HEALTH_WENT_DOWN);
    ck_assert_int_eq(health_sm_feed(&sm, true, 2 * S), HEALTH_NONE);
    ck_assert_int_eq(health_sm_feed(&sm, true, 3 * S), HEALTH_NONE);
    ck_assert_int_eq(health_sm_feed(&sm, false, 4 * S), HEALTH_NONE);
    ck_assert_int_eq(health_sm_feed(&sm, true, 5 * S), HEALTH_NONE);
    ck_assert_int_eq(health_sm_feed(&sm, true, 6 * S), HEALTH_NONE);
    ck_assert_int_eq(health_sm_feed(&sm, true, 7 * S), HEALTH_WENT_UP);
    ck_assert(sm.state);
}
END_TEST

START_TEST(delay_down_holds_and_cancels)
{
    struct health_sm sm;
    health_sm_init(&sm, 1, 1, 2 * S, 0);
    ck_assert_int_eq(health_sm_feed(&sm, false, 10 * S), HEALTH_NONE);
    ck_assert(sm.state);
    ck_assert_uint_eq(health_sm_deadline(&sm), 12 * S);
    ck_assert_int_eq(health_sm_tick(&sm, 11 * S), HEALTH_NONE);
    /* Back within the delay: nothing is reported, the deadline is gone. */
    ck_assert_int_eq(health_sm_feed(&sm, true, 11500 * MS), HEALTH_NONE);
    ck_assert_uint_eq(health_sm_deadline(&sm), UINT64_MAX);
    ck_assert_int_eq(health_sm_tick(&sm, 13 * S), HEALTH_NONE);
    ck_assert(sm.state);
    /* Down again: the delay counts from this failure, not the first. */
    ck_assert_int_eq(health_sm_feed(&sm, false, 14 * S), HEALTH_NONE);
    ck_assert_int_eq(health_sm_feed(&sm, false, 15 * S), HEALTH_NONE);
    ck_assert_int_eq(health_sm_tick(&sm, 15999 * MS), HEALTH_NONE);
    ck_assert_int_eq(health_sm_tick(&sm, 16 * S), HEALTH_WENT_DOWN);
    ck_assert(!sm.state);
}
END_TEST

START_TEST(delay_up_applies_only_going_up)
{
    struct health_sm sm;
    health_sm_init(&sm, 2, 2, 0, 3 * S);
    ck_assert_int_eq(health_sm_feed(&sm, false, 1 * S), HEALTH_NONE);
    ck_assert_int_eq(health_sm_feed(&sm, false, 2 * S), HEALTH_WENT_DOWN);
    ck_assert_int_eq(health_sm_feed(&sm, true, 3 * S), HEALTH_NONE);
    ck_assert_int_eq(health_sm_feed(&sm, true, 4 * S), HEALTH_NONE);
    ck_assert_uint_eq(health_sm_deadline(&sm), 7 * S);
    ck_assert_int_eq(health_sm_feed(&sm, true, 5 * S), HEALTH_NONE);
    ck_assert_int_eq(health_sm_feed(&sm, true, 7 * S), HEALTH_WENT_UP);
    ck_assert_uint_eq(health_sm_deadline(&sm), UINT64_MAX);
}
END_TEST

START_TEST(zero_thresholds_mean_one)
{
    struct health_sm sm;
    health_sm_init(&sm, 0, 0, 0, 0);
    ck_assert_int_eq(health_sm_feed(&sm, false, 1), HEALTH_WENT_DOWN);
    ck_assert_int_eq(health_sm_feed(&sm, true, 2), HEALTH_WENT_UP);
}
END_TEST

/* ---- checker on loopback, echo service ---- */

static int udp_server(struct ah_addr *addr)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    socklen_t len = sizeof sin;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    ck_assert_int_eq(ah_addr_from_sockaddr((struct sockaddr *)&sin, len, addr), 0);
    return fd;
}

/* The checker always asks port 7 for echo, so it is pointed at a server on
 * port 7 only when that port is free; otherwise the refused path is the
 * one tested (nothing listens on 7 in a test environment). */
START_TEST(checker_refused_and_timeout)
{
    struct ah_addr a;
    ck_assert_int_eq(ah_addr_parse("127.0.0.1", 7, &a), 0);
    struct health_check c;
    ck_assert_int_eq(health_open(&c, NULL, &a, AH_SVC_ECHO), 0);
    uint64_t now = 1 * S;
    enum health_result r = health_send(&c, now, 200 * MS);
    if (r == HEALTH_PENDING) {
        usleep(20000);
        r = health_poll(&c, now + 1 * MS);
    }
    if (r == HEALTH_FAILED) {
        ck_assert_str_eq(c.why, "refused");
    } else {
        /* Something answers echo on this host: at least it was judged. */
        ck_assert_int_ne(r, HEALTH_PENDING);
    }
    health_close(&c);
    ck_assert_int_eq(c.fd, -1);

    /* A server that never answers: pending until the deadline, then
     * failed with "timeout". */
    struct ah_addr srv;
    int sfd = udp_server(&srv);
    struct health_check d;
    ck_assert_int_eq(health_open(&d, NULL, &srv, AH_SVC_ECHO), 0);
    /* health_open set the port to 7; point it back at our silent server. */
    struct sockaddr_in sin;
    memcpy(&sin, &srv.ss, sizeof sin);
    ck_assert_int_eq(connect(d.fd, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(health_send(&d, now, 100 * MS), HEALTH_PENDING);
    ck_assert_int_eq(health_poll(&d, now + 50 * MS), HEALTH_PENDING);
    ck_assert_int_eq(health_poll(&d, now + 100 * MS), HEALTH_FAILED);
    ck_assert_str_eq(d.why, "timeout");
    ck_assert_int_eq(health_poll(&d, now + 200 * MS), HEALTH_PENDING); /* none outstanding */
    uint8_t junk[600];
    ck_assert_int_gt(recv(sfd, junk, sizeof junk, 0), 0); /* the unanswered check */

    /* The server answers as the echo responder would: ok; an answer to
     * another line is not. */
    ck_assert_int_eq(health_send(&d, now, 100 * MS), HEALTH_PENDING);
    uint8_t buf[600], reply[700];
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    ssize_t n = recvfrom(sfd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
    ck_assert_int_gt(n, 0);
    int rl = ah_echo_build_reply("ams", (const uint8_t *)"other\n", 6, reply, sizeof reply);
    ck_assert_int_gt(rl, 0);
    ck_assert_int_eq(sendto(sfd, reply, (size_t)rl, 0, (struct sockaddr *)&from, flen), rl);
    usleep(20000);
    ck_assert_int_eq(health_poll(&d, now + 1 * MS), HEALTH_PENDING);
    rl = ah_echo_build_reply("ams", buf, (size_t)n, reply, sizeof reply);
    ck_assert_int_gt(rl, 0);
    ck_assert_int_eq(sendto(sfd, reply, (size_t)rl, 0, (struct sockaddr *)&from, flen), rl);
    usleep(20000);
    ck_assert_int_eq(health_poll(&d, now + 2 * MS), HEALTH_OK);
    health_close(&d);
    close(sfd);
}
END_TEST

static Suite *health_suite(void)
{
    Suite *s = suite_create("health");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, starts_up_and_needs_down_failures);
    tcase_add_test(tc, up_threshold_is_hysteresis);
    tcase_add_test(tc, delay_down_holds_and_cancels);
    tcase_add_test(tc, delay_up_applies_only_going_up);
    tcase_add_test(tc, zero_thresholds_mean_one);
    tcase_add_test(tc, checker_refused_and_timeout);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(health_suite)
