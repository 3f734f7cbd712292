/* Unit tests for the responder's fault-control pieces: the control command
 * interpreter, the stats line, the drop-share gate, the delay queue's
 * ordering and timing on a real uv loop, and how control_open treats what
 * it finds at its path. */
#include "../../servers/control.h"
#include "../../servers/delay.h"
#include "../../servers/stats.h"
#include "../../servers/worker.h"
#include "check_main.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static struct responder_config cfg;
static struct responder r;
static struct worker *ws[2];

static void setup(void)
{
    memset(&cfg, 0, sizeof cfg);
    memset(&r, 0, sizeof r);
    cfg.workers = 2;
    r.cfg = &cfg;
    for (int i = 0; i < 2; i++) {
        ws[i] = calloc(1, sizeof *ws[i]);
        ck_assert_ptr_nonnull(ws[i]);
        ws[i]->r = &r;
        ws[i]->id = (unsigned)i;
    }
    r.workers = ws;
    r.nworkers = 2;
}

static void teardown(void)
{
    for (int i = 0; i < 2; i++)
        free(ws[i]);
}

static const char *exec(const char *line, int *rc)
{
    static char out[2048];
    *rc = control_execute(&r, line, out, sizeof out);
    return out;
}

START_TEST(pause_resume)
{
    int rc;
    ck_assert_str_eq(exec("pause", &rc), "ok paused");
    ck_assert_int_eq(rc, 0);
    ck_assert(atomic_load(&r.fault.paused));
    ck_assert(worker_discard(ws[0]));
    ck_assert_str_eq(exec("resume\r", &rc), "ok resumed");
    ck_assert(!atomic_load(&r.fault.paused));
    ck_assert(!worker_discard(ws[0]));
}
END_TEST

START_TEST(delay_and_drop_values)
{
    int rc;
    ck_assert_str_eq(exec("delay 300", &rc), "ok delay 300");
    ck_assert_uint_eq(atomic_load(&r.fault.delay_ms), 300);
    ck_assert_uint_eq(worker_delay_ms(ws[1]), 300);
    ck_assert_str_eq(exec("  delay   0  ", &rc), "ok delay 0");
    ck_assert_uint_eq(atomic_load(&r.fault.delay_ms), 0);
    ck_assert_str_eq(exec("drop 100", &rc), "ok drop 100");
    ck_assert_uint_eq(atomic_load(&r.fault.drop_pct), 100);
    ck_assert_str_eq(exec("drop 0", &rc), "ok drop 0");
    ck_assert_int_eq(rc, 0);
}
END_TEST

START_TEST(bad_commands)
{
    static const char *const bad[] = {
        "",         "   ",       "bogus",         "delay",
        "delay -1", "delay 1x",  "delay 3600001", "delay 99999999999999999999",
        "drop",     "drop 101",  "drop 5%",       "pause now",
        "resume 1", "stats all", "delay 1 2",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc;
        const char *out = exec(bad[i], &rc);
        ck_assert_msg(rc == -EINVAL, "\"%s\" accepted", bad[i]);
        ck_assert_msg(strncmp(out, "error ", 6) == 0, "\"%s\" -> \"%s\"", bad[i], out);
    }
    /* Nothing changed on the way. */
    ck_assert(!atomic_load(&r.fault.paused));
    ck_assert_uint_eq(atomic_load(&r.fault.delay_ms), 0);
    ck_assert_uint_eq(atomic_load(&r.fault.drop_pct), 0);
}
END_TEST

START_TEST(stats_line_sums_workers)
{
    int rc;
    const char *out;
    stats_add(&ws[0]->stats, TR_UDP, SVC_DNS, ST_REQUESTS, 3);
    stats_add(&ws[1]->stats, TR_UDP, SVC_DNS, ST_REQUESTS, 4);
    stats_add(&ws[1]->stats, TR_TCP, SVC_ECHO, ST_OVERLONG, 2);
    stats_add(&ws[0]->stats, TR_TCP, SVC_DNS, ST_TCP_OPEN, 1);
    stats_add(&ws[0]->stats, TR_TCP, SVC_DNS, ST_TCP_OPEN, -1);
    stats_add(&ws[0]->stats, TR_TCP, SVC_DNS, ST_TCP_EVICTED, 2);
    stats_add(&ws[1]->stats, TR_TCP, SVC_DNS, ST_TCP_EVICTED, 3);
    stats_add(&ws[1]->stats, TR_TCP, SVC_ECHO, ST_TCP_IO_TIMEOUT, 4);
    stats_add(&ws[0]->stats, TR_TCP, SVC_DNS, ST_TCP_OVER_BUDGET, 6);
    stats_add(&ws[1]->stats, TR_TCP, SVC_DNS, ST_TCP_WRITE_TIMEOUT, 8);
    exec("delay 7", &rc);
    out = exec("stats", &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(strncmp(out, "ok udp_dns_requests=7 ", 22) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, " tcp_echo_overlong=2 "));
    ck_assert_ptr_nonnull(strstr(out, " tcp_dns_open=0 "));
    ck_assert_ptr_nonnull(strstr(out, " delay_ms=7 "));
    ck_assert_ptr_nonnull(strstr(out, " tcp_dns_evicted=5 "));
    ck_assert_ptr_nonnull(strstr(out, " tcp_echo_io_timeout=4 "));
    ck_assert_ptr_nonnull(strstr(out, " tcp_dns_over_budget=6 "));
    ck_assert_ptr_nonnull(strstr(out, " tcp_echo_over_budget=0 "));
    ck_assert_ptr_nonnull(strstr(out, " tcp_dns_write_timeout=8 "));
    ck_assert_ptr_nonnull(strstr(out, " tcp_echo_write_timeout=0 "));
    /* Counters that cannot happen are left out. */
    ck_assert_ptr_null(strstr(out, "udp_dns_overlong"));
    ck_assert_ptr_null(strstr(out, "udp_dns_open"));
    ck_assert_ptr_null(strstr(out, "echo_refused"));
    ck_assert_ptr_null(strstr(out, "udp_dns_evicted"));
    ck_assert_ptr_null(strstr(out, "udp_echo_io_timeout"));
    ck_assert_ptr_null(strstr(out, "udp_dns_write_timeout"));
}
END_TEST

START_TEST(stats_format_nospace)
{
    struct stats s;
    char small[40];
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(stats_format(&s, small, sizeof small), -ENOSPC);
    ck_assert_int_eq(stats_format(&s, small, 0), -ENOSPC);
}
END_TEST

START_TEST(drop_share_is_exact)
{
    int rc, dropped = 0;
    exec("drop 25", &rc);
    for (int i = 0; i < 100; i++)
        dropped += worker_discard(ws[0]);
    ck_assert_int_eq(dropped, 25);
    exec("drop 100", &rc);
    for (int i = 0; i < 10; i++)
        ck_assert(worker_discard(ws[1]));
    exec("drop 0", &rc);
    for (int i = 0; i < 10; i++)
        ck_assert(!worker_discard(ws[1]));
}
END_TEST

/* Delay queue: items leave in FIFO order, none before its time. */
static char sent_order[8];
static size_t nsent;
static uint64_t sent_at[8];

static void record_send(struct delay_item *it)
{
    uv_loop_t *loop = it->owner;
    sent_order[nsent] = (char)it->data[0];
    sent_at[nsent] = uv_now(loop);
    nsent++;
}

START_TEST(delay_queue_fifo)
{
    uv_loop_t loop;
    struct delay_queue q;
    uint64_t t0;
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    ck_assert_int_eq(delay_init(&loop, &q), 0);
    nsent = 0;
    t0 = uv_now(&loop);
    ck_assert_int_eq(delay_push(&q, 60, record_send, &loop, 0, 1, NULL, 0, (const uint8_t *)"a", 1),
                     0);
    /* Pushed later with no delay: must still wait behind "a". */
    ck_assert_int_eq(delay_push(&q, 0, record_send, &loop, 0, 1, NULL, 0, (const uint8_t *)"b", 1),
                     0);
    ck_assert_int_eq(delay_push(&q, 80, record_send, &loop, 0, 1, NULL, 0, (const uint8_t *)"c", 1),
                     0);
    ck_assert_uint_eq(q.count, 3);
    while (nsent < 3)
        uv_run(&loop, UV_RUN_ONCE);
    ck_assert_int_eq(memcmp(sent_order, "abc", 3), 0);
    ck_assert_uint_ge(sent_at[0] - t0, 60);
    ck_assert_uint_ge(sent_at[2] - t0, 80);
    ck_assert_uint_eq(q.count, 0);
    ck_assert_uint_eq(q.bytes, 0);
    /* Flush sends at once. */
    delay_push(&q, 10000, record_send, &loop, 0, 1, NULL, 0, (const uint8_t *)"d", 1);
    delay_flush(&q);
    ck_assert_int_eq(sent_order[3], 'd');
    delay_close(&q);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

static void discard_send(struct delay_item *it)
{
    (void)it;
}

START_TEST(delay_queue_bounded)
{
    uv_loop_t loop;
    struct delay_queue q;
    static uint8_t big[65536];
    int rc = 0;
    size_t n = 0;
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    ck_assert_int_eq(delay_init(&loop, &q), 0);
    while ((rc = delay_push(&q, 1000, discard_send, NULL, 0, 1, NULL, 0, big, sizeof big)) == 0)
        n++;
    ck_assert_int_eq(rc, -ENOBUFS);
    ck_assert_uint_le(q.bytes, DELAY_MAX_BYTES);
    ck_assert_uint_eq(n, DELAY_MAX_BYTES / sizeof big);
    delay_close(&q);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

/* A unix stream socket bound at path; listening or not (a stale file). */
static int unix_socket_at(const char *path, bool listening)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    if (listening)
        ck_assert_int_eq(listen(fd, 4), 0);
    return fd;
}

START_TEST(control_open_paths)
{
    char dir[] = "/tmp/ah-ctl-test.XXXXXX";
    char path[96], err[256];
    struct control *ctl = NULL;
    struct stat st;
    uv_loop_t loop;
    int fd;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(uv_loop_init(&loop), 0);

    /* A missing directory: ENOENT named as such, not libuv's EACCES. */
    snprintf(path, sizeof path, "%s/nodir/ctl.sock", dir);
    ck_assert_int_eq(control_open(&loop, &r, path, &ctl, err, sizeof err), -ENOENT);
    ck_assert_msg(strstr(err, "No such file or directory") && strstr(err, "nodir"), "%s", err);

    /* A socket another process listens on stays its own. */
    snprintf(path, sizeof path, "%s/ctl.sock", dir);
    fd = unix_socket_at(path, true);
    ck_assert_int_eq(control_open(&loop, &r, path, &ctl, err, sizeof err), -EADDRINUSE);
    ck_assert_msg(strstr(err, "in use") && strstr(err, path), "%s", err);
    ck_assert_int_eq(lstat(path, &st), 0);
    close(fd);

    /* The same file with nobody listening is stale: replaced. */
    ck_assert_int_eq(control_open(&loop, &r, path, &ctl, err, sizeof err), 0);
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert(S_ISSOCK(st.st_mode));
    control_close(ctl);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(lstat(path, &st), -1);

    /* Anything else at the path is the user's: left alone, bind fails. */
    fd = open(path, O_CREAT | O_WRONLY, 0600);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_lt(control_open(&loop, &r, path, &ctl, err, sizeof err), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    unlink(path);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    rmdir(dir);
}
END_TEST

static Suite *responder_control_suite(void)
{
    Suite *s = suite_create("responder_control");
    TCase *tc = tcase_create("control");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, pause_resume);
    tcase_add_test(tc, delay_and_drop_values);
    tcase_add_test(tc, bad_commands);
    tcase_add_test(tc, stats_line_sums_workers);
    tcase_add_test(tc, stats_format_nospace);
    tcase_add_test(tc, drop_share_is_exact);
    tcase_add_test(tc, control_open_paths);
    suite_add_tcase(s, tc);
    tc = tcase_create("delay");
    tcase_add_test(tc, delay_queue_fifo);
    tcase_add_test(tc, delay_queue_bounded);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(responder_control_suite)
