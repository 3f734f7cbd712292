/* Unit tests for the unix-socket control client (lib/unixctl.c) against a
 * scripted server in a thread: BIRD's reply rule (greeting, codes, a last
 * line "DDDD text") and the responder's (one line), a reply split over
 * several writes, the deadline, oversize replies and lines, a server that
 * closes early, and the errors before any exchange. */
#include "ah/unixctl.h"
#include "tests/unit/check_main.h"

#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ah/clock.h"

/* What the server does on its one connection. */
struct script {
    bool hang_up; /* closes at once */
    const char *greeting;
    const char *reply[4]; /* written in turn, delay_ms apart */
    unsigned delay_ms;
    size_t flood;     /* then this many bytes of 'x' lines */
    unsigned hold_ms; /* then keeps the connection open this long */
    char got[256];    /* the request as it arrived */
};

struct server {
    char path[108];
    int fd;
    pthread_t thread;
    struct script *s;
};

static void sleep_ms(unsigned ms)
{
    nanosleep(&(struct timespec){ms / 1000, (long)(ms % 1000) * 1000000L}, NULL);
}

static void put(int fd, const char *text, size_t len)
{
    /* MSG_NOSIGNAL: the client may be gone already (oversize, deadline). */
    if (send(fd, text, len, MSG_NOSIGNAL) < 0)
        return;
}

static void read_request(int fd, struct script *s)
{
    size_t got = 0;
    while (got + 1 < sizeof s->got) {
        ssize_t n = read(fd, s->got + got, 1);
        if (n <= 0 || s->got[got] == '\n')
            break;
        got++;
    }
    s->got[got] = '\0';
}

static void *serve(void *arg)
{
    struct server *sv = arg;
    struct script *s = sv->s;
    int fd = accept(sv->fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    if (s->hang_up) {
        close(fd);
        return NULL;
    }
    if (s->greeting)
        put(fd, s->greeting, strlen(s->greeting));
    read_request(fd, s);
    for (size_t i = 0; i < 4 && s->reply[i]; i++) {
        if (i && s->delay_ms)
            sleep_ms(s->delay_ms);
        put(fd, s->reply[i], strlen(s->reply[i]));
    }
    char line[64];
    memset(line, 'x', sizeof line - 1);
    line[sizeof line - 1] = '\n';
    for (size_t sent = 0; sent < s->flood; sent += sizeof line)
        put(fd, line, sizeof line);
    if (s->hold_ms)
        sleep_ms(s->hold_ms);
    close(fd);
    return NULL;
}

static void server_start(struct server *sv, struct script *s)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sv->path, sizeof sv->path, "/tmp/ah-test-unixctl-%ld.sock", (long)getpid());
    unlink(sv->path);
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sv->path);
    sv->s = s;
    sv->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(sv->fd, 0);
    ck_assert_int_eq(bind(sv->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(sv->fd, 1), 0);
    ck_assert_int_eq(pthread_create(&sv->thread, NULL, serve, sv), 0);
}

static void server_stop(struct server *sv)
{
    pthread_join(sv->thread, NULL);
    close(sv->fd);
    unlink(sv->path);
}

/* The lines the client passed on, '\n'-separated. */
struct seen {
    char text[1024];
    int lines;
};

static void keep(struct seen *sn, const char *line)
{
    size_t used = strlen(sn->text);
    snprintf(sn->text + used, sizeof sn->text - used, "%s\n", line);
    sn->lines++;
}

/* BIRD's rule: "DDDD text" (a code and a space) is the last line. */
static int bird_rule(void *arg, const char *line, size_t len)
{
    keep(arg, line);
    return len >= 5 && line[0] >= '0' && line[0] <= '9' && line[4] == ' ';
}

/* The responder's: one line is the whole reply. */
static int first_line(void *arg, const char *line, size_t len)
{
    (void)len;
    keep(arg, line);
    return 1;
}

static int never_last(void *arg, const char *line, size_t len)
{
    (void)len;
    keep(arg, line);
    return 0;
}

static struct ah_unixctl call_for(struct server *sv, int (*rule)(void *, const char *, size_t),
                                  struct seen *sn)
{
    return (struct ah_unixctl){.path = sv->path,
                               .request = "show protocols",
                               .on_line = rule,
                               .arg = sn,
                               .reply_max = 4096,
                               .timeout_ns = 2 * AH_NS_PER_S};
}

START_TEST(bird_reply_ends_at_code_and_space)
{
    struct script s = {.greeting = "0001 BIRD 2.0.12 ready.\n",
                       .reply = {"2002-Name Proto\n1002-n0_4 BGP\n", " continued\n0000 \n"},
                       .hold_ms = 500};
    struct server sv;
    struct seen sn = {0};
    server_start(&sv, &s);
    struct ah_unixctl c = call_for(&sv, bird_rule, &sn);
    c.greeting = true;
    uint64_t t0 = ah_clock_mono_ns();
    ck_assert_int_eq(ah_unixctl_call(&c), 0);
    /* It ended at the last line, not when the server closed. */
    ck_assert_uint_lt(ah_clock_mono_ns() - t0, 400 * AH_NS_PER_MS);
    server_stop(&sv);
    ck_assert_str_eq(s.got, "show protocols");
    ck_assert_str_eq(sn.text, "2002-Name Proto\n1002-n0_4 BGP\n continued\n0000 \n");
    ck_assert_uint_gt(c.sent_ns, 0);
    ck_assert_uint_ge(c.done_ns, c.sent_ns);
}
END_TEST

START_TEST(responder_reply_is_one_line_even_split)
{
    struct script s = {.reply = {"ok pa", "used\nnot read\n"}, .delay_ms = 50, .hold_ms = 500};
    struct server sv;
    struct seen sn = {0};
    server_start(&sv, &s);
    struct ah_unixctl c = call_for(&sv, first_line, &sn);
    c.request = "pause";
    ck_assert_int_eq(ah_unixctl_call(&c), 0);
    server_stop(&sv);
    ck_assert_str_eq(s.got, "pause");
    ck_assert_int_eq(sn.lines, 1);
    ck_assert_str_eq(sn.text, "ok paused\n");
}
END_TEST

START_TEST(deadline_bounds_a_silent_server)
{
    struct script s = {.greeting = NULL, .hold_ms = 600};
    struct server sv;
    struct seen sn = {0};
    server_start(&sv, &s);
    struct ah_unixctl c = call_for(&sv, bird_rule, &sn);
    c.timeout_ns = 100 * AH_NS_PER_MS;
    uint64_t t0 = ah_clock_mono_ns();
    ck_assert_int_eq(ah_unixctl_call(&c), -ETIMEDOUT);
    uint64_t took = ah_clock_mono_ns() - t0;
    ck_assert_uint_ge(took, 100 * AH_NS_PER_MS);
    ck_assert_uint_lt(took, 1000 * AH_NS_PER_MS);
    ck_assert_uint_gt(c.sent_ns, 0);
    ck_assert_uint_eq(c.done_ns, 0);
    server_stop(&sv);

    /* A greeting that never comes is bounded the same way. */
    server_start(&sv, &s);
    c = call_for(&sv, bird_rule, &sn);
    c.greeting = true;
    c.timeout_ns = 100 * AH_NS_PER_MS;
    ck_assert_int_eq(ah_unixctl_call(&c), -ETIMEDOUT);
    ck_assert_uint_eq(c.sent_ns, 0);
    server_stop(&sv);
}
END_TEST

START_TEST(oversize_reply_and_line)
{
    struct script s = {.flood = 64 * 100, .hold_ms = 200};
    struct server sv;
    struct seen sn = {0};
    server_start(&sv, &s);
    struct ah_unixctl c = call_for(&sv, never_last, &sn);
    c.reply_max = 1000;
    ck_assert_int_eq(ah_unixctl_call(&c), -EMSGSIZE);
    /* Only whole lines within the bound were passed on. */
    ck_assert_int_eq(sn.lines, 1000 / 64);
    server_stop(&sv);

    /* One line longer than AH_UNIXCTL_LINE_MAX, without its end. */
    char *big = malloc(AH_UNIXCTL_LINE_MAX + 10);
    ck_assert_ptr_nonnull(big);
    memset(big, 'y', AH_UNIXCTL_LINE_MAX + 9);
    big[AH_UNIXCTL_LINE_MAX + 9] = '\0';
    struct script t = {.reply = {big}, .hold_ms = 200};
    memset(&sn, 0, sizeof sn);
    server_start(&sv, &t);
    c = call_for(&sv, never_last, &sn);
    c.reply_max = 1 << 20;
    ck_assert_int_eq(ah_unixctl_call(&c), -EMSGSIZE);
    ck_assert_int_eq(sn.lines, 0);
    server_stop(&sv);
    free(big);
}
END_TEST

START_TEST(peer_closing_early)
{
    struct script s = {.reply = {"1002-first\n"}};
    struct server sv;
    struct seen sn = {0};
    server_start(&sv, &s);
    struct ah_unixctl c = call_for(&sv, bird_rule, &sn);
    ck_assert_int_eq(ah_unixctl_call(&c), -ECONNRESET);
    ck_assert_str_eq(sn.text, "1002-first\n");
    ck_assert_uint_eq(c.done_ns, 0);
    server_stop(&sv);

    /* A last line without '\n' counts once the server has closed. */
    struct script t = {.reply = {"ok resumed"}};
    memset(&sn, 0, sizeof sn);
    server_start(&sv, &t);
    c = call_for(&sv, first_line, &sn);
    ck_assert_int_eq(ah_unixctl_call(&c), 0);
    ck_assert_str_eq(sn.text, "ok resumed\n");
    server_stop(&sv);

    /* Closed before a single byte: the greeting fails. */
    struct script u = {.hang_up = true};
    memset(&sn, 0, sizeof sn);
    server_start(&sv, &u);
    c = call_for(&sv, bird_rule, &sn);
    c.greeting = true;
    ck_assert_int_eq(ah_unixctl_call(&c), -ECONNRESET);
    ck_assert_int_eq(sn.lines, 0);
    server_stop(&sv);
}
END_TEST

START_TEST(errors_before_the_exchange)
{
    struct seen sn = {0};
    struct ah_unixctl c = {.path = "/nonexistent/ctl.sock",
                           .request = "stats",
                           .on_line = first_line,
                           .arg = &sn,
                           .reply_max = 100,
                           .timeout_ns = AH_NS_PER_S};
    ck_assert_int_eq(ah_unixctl_call(&c), -ENOENT);
    char longp[200];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    c.path = longp;
    ck_assert_int_eq(ah_unixctl_call(&c), -ENAMETOOLONG);

    /* A request over the line bound is refused before it is sent. */
    struct script s = {0};
    struct server sv;
    server_start(&sv, &s);
    char *req = malloc(AH_UNIXCTL_LINE_MAX + 2);
    ck_assert_ptr_nonnull(req);
    memset(req, 'r', AH_UNIXCTL_LINE_MAX + 1);
    req[AH_UNIXCTL_LINE_MAX + 1] = '\0';
    c = call_for(&sv, first_line, &sn);
    c.request = req;
    ck_assert_int_eq(ah_unixctl_call(&c), -E2BIG);
    server_stop(&sv);
    free(req);
}
END_TEST

static Suite *unixctl_suite(void)
{
    Suite *s = suite_create("unixctl");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, bird_reply_ends_at_code_and_space);
    tcase_add_test(tc, responder_reply_is_one_line_even_split);
    tcase_add_test(tc, deadline_bounds_a_silent_server);
    tcase_add_test(tc, oversize_reply_and_line);
    tcase_add_test(tc, peer_closing_early);
    tcase_add_test(tc, errors_before_the_exchange);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(unixctl_suite)
