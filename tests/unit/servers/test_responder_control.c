/* Unit tests for the responder's fault-control pieces: the control command
 * interpreter (NUL and control characters refused), the peer rule, the stats
 * line, the drop-share gate, the delay queue's ordering and timing on a real
 * uv loop, how control_open treats what it finds at its path and the mode it
 * gives the socket, and the per-client bounds on a real loop: client cap,
 * idle timeout, unread replies. */
#include "servers/control.h"
#include "servers/delay.h"
#include "servers/stats.h"
#include "servers/worker.h"
#include "tests/unit/check_main.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
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

START_TEST(nul_and_control_characters)
{
    static const struct {
        const char *line;
        size_t len;
        const char *reply;
    } bad[] = {
        {"resume\0junk", 11, "error line has a NUL byte (at byte 6)"},
        {"\0pause", 6, "error line has a NUL byte (at byte 0)"},
        {"resume\0", 7, "error line has a NUL byte (at byte 6)"},
        {"resume\x1b[2J", 10, "error line has control character 0x1b (at byte 6)"},
        {"delay\x0b"
         "5",
         7, "error line has control character 0x0b (at byte 5)"},
        {"\x7fresume", 7, "error line has control character 0x7f (at byte 0)"},
        {"resume\n", 7, "error line has control character 0x0a (at byte 6)"},
    };
    char out[256];
    char longline[300];
    atomic_store(&r.fault.paused, true);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = control_execute_line(&r, bad[i].line, bad[i].len, out, sizeof out);
        ck_assert_int_eq(rc, -EINVAL);
        ck_assert_str_eq(out, bad[i].reply);
        ck_assert_msg(atomic_load(&r.fault.paused), "bad line %zu resumed", i);
    }
    memset(longline, 'a', sizeof longline);
    ck_assert_int_eq(control_execute_line(&r, longline, sizeof longline, out, sizeof out), -EINVAL);
    ck_assert_str_eq(out, "error line too long");
    /* Tab and CR separate words; a line of len bytes needs no NUL. */
    ck_assert_int_eq(control_execute_line(&r, "delay\t5\rXYZ", 7, out, sizeof out), 0);
    ck_assert_str_eq(out, "ok delay 5");
    ck_assert_int_eq(control_execute_line(&r, "resume\r", 7, out, sizeof out), 0);
    ck_assert(!atomic_load(&r.fault.paused));
}
END_TEST

START_TEST(peer_rule)
{
    /* Root and the owner always; the group only with group write; others
     * never, even on a world-writable socket. */
    ck_assert(control_peer_allowed(0, 0, 1000, 1000, 0600));
    ck_assert(control_peer_allowed(1000, 5, 1000, 1000, 0600));
    ck_assert(!control_peer_allowed(1001, 1000, 1000, 1000, 0600));
    ck_assert(!control_peer_allowed(1001, 1000, 1000, 1000, 0640));
    ck_assert(control_peer_allowed(1001, 1000, 1000, 1000, 0660));
    ck_assert(!control_peer_allowed(1001, 1001, 1000, 1000, 0666));
    ck_assert(!control_peer_allowed(65534, 65534, 0, 0, 0777));
}
END_TEST

START_TEST(stats_line_sums_workers)
{
    int rc;
    const char *out;
    stats_add(&ws[0]->stats, AH_TR_UDP, AH_SVC_DNS, ST_REQUESTS, 3);
    stats_add(&ws[1]->stats, AH_TR_UDP, AH_SVC_DNS, ST_REQUESTS, 4);
    stats_add(&ws[1]->stats, AH_TR_TCP, AH_SVC_ECHO, ST_OVERLONG, 2);
    stats_add(&ws[0]->stats, AH_TR_TCP, AH_SVC_DNS, ST_TCP_OPEN, 1);
    stats_add(&ws[0]->stats, AH_TR_TCP, AH_SVC_DNS, ST_TCP_OPEN, -1);
    stats_add(&ws[0]->stats, AH_TR_TCP, AH_SVC_DNS, ST_TCP_EVICTED, 2);
    stats_add(&ws[1]->stats, AH_TR_TCP, AH_SVC_DNS, ST_TCP_EVICTED, 3);
    stats_add(&ws[1]->stats, AH_TR_TCP, AH_SVC_ECHO, ST_TCP_IO_TIMEOUT, 4);
    stats_add(&ws[0]->stats, AH_TR_TCP, AH_SVC_DNS, ST_TCP_OVER_BUDGET, 6);
    stats_add(&ws[1]->stats, AH_TR_TCP, AH_SVC_DNS, ST_TCP_WRITE_TIMEOUT, 8);
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

START_TEST(control_open_mode)
{
    char dir[] = "/tmp/ah-ctl-test.XXXXXX";
    char path[96], err[256];
    struct control *ctl = NULL;
    struct stat st;
    uv_loop_t loop;
    mode_t old;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ctl.sock", dir);
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    /* umask 000 must not make the socket world-writable... */
    old = umask(0);
    ck_assert_int_eq(control_open(&loop, &r, path, &ctl, err, sizeof err), 0);
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0600);
    control_close(ctl);
    uv_run(&loop, UV_RUN_DEFAULT);
    /* ...and umask 077 must not take away what --control-mode grants. */
    umask(077);
    cfg.control_mode = 0660;
    ck_assert_int_eq(control_open(&loop, &r, path, &ctl, err, sizeof err), 0);
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0660);
    control_close(ctl);
    uv_run(&loop, UV_RUN_DEFAULT);
    umask(old);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    rmdir(dir);
}
END_TEST

/* A control socket on a real loop, with clients connected from the test. */
struct live {
    char dir[32];
    char path[96];
    uv_loop_t loop;
    struct control *ctl;
};

static void live_open(struct live *lv)
{
    char err[256];
    snprintf(lv->dir, sizeof lv->dir, "/tmp/ah-ctl-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(lv->dir));
    snprintf(lv->path, sizeof lv->path, "%s/ctl.sock", lv->dir);
    ck_assert_int_eq(uv_loop_init(&lv->loop), 0);
    ck_assert_int_eq(control_open(&lv->loop, &r, lv->path, &lv->ctl, err, sizeof err), 0);
}

static void live_close(struct live *lv)
{
    control_close(lv->ctl);
    uv_run(&lv->loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&lv->loop), 0);
    rmdir(lv->dir);
}

static int live_connect(struct live *lv)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ck_assert_int_ge(fd, 0);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", lv->path);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* Runs the loop for ms milliseconds of real time without blocking in it. */
static void live_run(struct live *lv, unsigned ms)
{
    struct timespec ts = {0, 1000000};
    uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000;
    do {
        uv_run(&lv->loop, UV_RUN_NOWAIT);
        nanosleep(&ts, NULL);
    } while (uv_hrtime() < end);
}

static unsigned live_clients(struct live *lv, size_t *queued)
{
    unsigned n;
    size_t q;
    control_usage(lv->ctl, &n, &q);
    if (queued)
        *queued = q;
    return n;
}

/* Reads what fd has; true if the peer closed it (after the data). */
static bool peer_closed(int fd, char *got, size_t cap)
{
    size_t len = 0;
    for (;;) {
        ssize_t n = recv(fd, got + len, cap - 1 - len, 0);
        if (n > 0) {
            len += (size_t)n;
            if (len == cap - 1)
                len = 0;
            continue;
        }
        got[len] = '\0';
        return n == 0 || (n < 0 && errno != EAGAIN);
    }
}

START_TEST(clients_capped_and_idle_closed)
{
    /* Three slots, idle timeout 2 s, so a slot can be taken from a client
     * idle for 1 s. Times in the comments are from the first connect. */
    struct live lv;
    int fd[5];
    char got[4096];

    cfg.control_clients = 3;
    cfg.control_idle_ms = 2000;
    live_open(&lv);
    for (int i = 0; i < 3; i++)
        fd[i] = live_connect(&lv);
    live_run(&lv, 20);
    ck_assert_uint_eq(live_clients(&lv, NULL), 3);
    /* A fourth waits (no one has been idle 1 s); what it sent is kept. */
    fd[3] = live_connect(&lv);
    ck_assert_int_eq(send(fd[3], "help\n", 5, 0), 5);
    live_run(&lv, 50);
    ck_assert_uint_eq(live_clients(&lv, NULL), 3);
    for (int i = 0; i < 4; i++)
        ck_assert(!peer_closed(fd[i], got, sizeof got));
    ck_assert_str_eq(got, "");
    /* A client that leaves frees its slot for it at once (t = 0.1 s). */
    close(fd[1]);
    fd[1] = -1;
    live_run(&lv, 30);
    ck_assert(!peer_closed(fd[3], got, sizeof got));
    ck_assert_msg(strncmp(got, "ok commands:", 12) == 0, "%s", got);
    /* A fifth, holding half a line, takes the slot of fd[0] once it has
     * been idle 1 s; fd[2], as idle but newer, stays. */
    fd[4] = live_connect(&lv);
    ck_assert_int_eq(send(fd[4], "sta", 3, 0), 3);
    live_run(&lv, 1200); /* t = 1.3 s */
    ck_assert(peer_closed(fd[0], got, sizeof got));
    ck_assert_msg(strncmp(got, "error closed for a new client", 29) == 0, "%s", got);
    ck_assert(!peer_closed(fd[2], got, sizeof got));
    ck_assert_uint_eq(live_clients(&lv, NULL), 3);
    /* Bytes that do not end a line are no activity: the half-line client
     * goes after the idle time like the others (t = 3.5 s). */
    for (int i = 0; i < 22; i++) {
        (void)send(fd[4], "t", 1, MSG_NOSIGNAL); /* fails once closed */
        live_run(&lv, 100);
    }
    for (int i = 2; i < 5; i++) {
        ck_assert(peer_closed(fd[i], got, sizeof got));
        ck_assert_msg(strstr(got, "error idle timeout") != NULL, "%d: %s", i, got);
    }
    ck_assert_uint_eq(live_clients(&lv, NULL), 0);
    for (int i = 0; i < 5; i++)
        if (fd[i] >= 0)
            close(fd[i]);
    live_close(&lv);
}
END_TEST

START_TEST(unread_replies_bounded)
{
    struct live lv;
    static char chunk[6 * 1000];
    size_t queued, max_queued = 0, sent = 0;
    int fd;

    for (size_t i = 0; i < sizeof chunk; i += 6)
        memcpy(chunk + i, "stats\n", 6);
    cfg.control_idle_ms = 2000;
    live_open(&lv);
    fd = live_connect(&lv);
    /* Write commands for 200 ms and never read a reply. */
    for (int i = 0; i < 200; i++) {
        ssize_t n = send(fd, chunk, sizeof chunk, MSG_NOSIGNAL);
        if (n > 0)
            sent += (size_t)n;
        live_run(&lv, 1);
        live_clients(&lv, &queued);
        if (queued > max_queued)
            max_queued = queued;
    }
    ck_assert_uint_gt(sent, 0);
    /* The client was throttled: past the cap only one more reply queues. */
    ck_assert_uint_gt(max_queued, CONTROL_WQ_MAX);
    ck_assert_uint_le(max_queued, CONTROL_WQ_MAX + 2048);
    ck_assert_uint_eq(live_clients(&lv, NULL), 1);
    /* ...and dropped once it stayed there for the idle time. */
    live_run(&lv, 2300);
    ck_assert_uint_eq(live_clients(&lv, NULL), 0);
    ck_assert_int_lt(send(fd, "stats\n", 6, MSG_NOSIGNAL), 0);
    ck_assert(errno == EPIPE || errno == ECONNRESET);
    close(fd);
    live_close(&lv);
}
END_TEST

START_TEST(slow_reader_is_served)
{
    /* A client that writes many commands at once and then reads them all
     * gets every reply: the throttle pauses its input, never loses it. */
    struct live lv;
    static char chunk[6 * 2000];
    char got[65536];
    size_t lines = 0;
    int fd;

    for (size_t i = 0; i < sizeof chunk; i += 6)
        memcpy(chunk + i, "stats\n", 6);
    live_open(&lv);
    fd = live_connect(&lv);
    ck_assert_int_eq(send(fd, chunk, sizeof chunk, 0), (ssize_t)sizeof chunk);
    for (int i = 0; i < 3000 && lines < 2000; i++) {
        ssize_t n;
        live_run(&lv, 1);
        while ((n = recv(fd, got, sizeof got, 0)) > 0)
            for (ssize_t k = 0; k < n; k++)
                lines += got[k] == '\n';
    }
    ck_assert_uint_eq(lines, 2000);
    ck_assert_uint_eq(live_clients(&lv, NULL), 1);
    close(fd);
    live_close(&lv);
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
    tcase_add_test(tc, control_open_mode);
    tcase_add_test(tc, nul_and_control_characters);
    tcase_add_test(tc, peer_rule);
    suite_add_tcase(s, tc);
    tc = tcase_create("bounds");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, clients_capped_and_idle_closed);
    tcase_add_test(tc, unread_replies_bounded);
    tcase_add_test(tc, slow_reader_is_served);
    suite_add_tcase(s, tc);
    tc = tcase_create("delay");
    tcase_add_test(tc, delay_queue_fifo);
    tcase_add_test(tc, delay_queue_bounded);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(responder_control_suite)
