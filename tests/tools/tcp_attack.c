/* Test client: slow and idle TCP clients against a DNS-over-TCP server, to
 * check that they cannot hold every connection slot or grow its memory.
 *   tcp_attack trickle ADDR PORT N SECS   keeps N connections, each sending
 *       one byte of a frame that never completes (prefix 65535) at once and
 *       then every 2 s; a connection the server closes is reopened (at most
 *       once per 50 ms pass)
 *   tcp_attack idle ADDR PORT N SECS      the same, sending nothing
 *   tcp_attack hold ADDR PORT N SECS [BYTES]   opens N connections in order,
 *       each sending the prefix 65535 and BYTES bytes of its frame (none if
 *       BYTES is 0 or absent), prints "ready", holds them SECS seconds
 *       without reopening and reports which ones the server closed
 *   tcp_attack stall ADDR PORT SECS       opens one connection that sends one
 *       byte and one that sends nothing; prints when the server closed each
 *       (in ms after they opened, -1 if still open after SECS)
 *   tcp_attack unread ADDR PORT N SECS [QNAME]   keeps N connections, each
 *       pipelining TXT queries for QNAME (default: CH TXT hostname.bind;
 *       given: IN TXT QNAME) as fast as the server takes them, at most
 *       64 KiB per connection, and never reading; a connection the server closes
 *       (reset, or EOF behind the unread answers) is reopened at the next
 *       50 ms pass; first_closed_ms is when the first close was seen (ms
 *       after the start, to a 50 ms pass; -1 if none)
 *   tcp_attack slowread ADDR PORT SECS [QNAME]   one connection pipelining
 *       the same queries (at most 1 MiB) while reading 1 KiB of answers every
 *       100 ms; prints the bytes read and when the server closed it (ms
 *       after it opened, -1 if still open after SECS)
 * Every mode is bounded: at most SECS (1..120) seconds, N (1..5000)
 * connections, 200,000 connects and 1 MiB of queries per connection. Progress and results go to
 * stdout as key=value lines. Exit 0 when it ran, 1 on a local error, 2 usage. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "ah/addr.h"

#define MAX_CONNS    5000
#define MAX_CONNECTS 200000
#define TRICKLE_MS   2000
#define PASS_MS      50
#define QUERY_MAX    (1 << 20)  /* bytes of queries on the slowread connection */
#define UNREAD_MAX   (64 << 10) /* on each unread one: ~2,800 queries */
#define QUERY_BLOCK  64         /* framed queries per send */

static struct ah_addr target;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A blocking connect (loopback: the kernel completes it from the backlog
 * even while the server does not accept), then non-blocking I/O. */
static int open_conn(void)
{
    int fd = socket(ah_addr_family(&target), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&target.ss, target.len) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

/* True when the server closed fd (EOF or reset); data is read and ignored. */
static bool server_closed(int fd)
{
    char b[512];
    ssize_t n = recv(fd, b, sizeof b, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static void raise_nofile(int want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)want + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* N connection slots that trickle, idle and unread keep filled: a slot the
 * server closed is opened again on the next pass, MAX_CONNECTS times at most
 * in all. */
struct slots {
    struct pollfd *p;
    int n;
    unsigned long connects, closed, failed;
};

/* Allocates n empty slots; returns 0 or -ENOMEM. */
static int slots_init(struct slots *s, int n)
{
    *s = (struct slots){.p = calloc((size_t)n, sizeof *s->p), .n = n};
    if (s->p == NULL)
        return -ENOMEM;
    for (int i = 0; i < n; i++)
        s->p[i].fd = -1;
    return 0;
}

/* Slot i's connection was closed by the server (or failed): closed and counted. */
static void slot_drop(struct slots *s, int i)
{
    close(s->p[i].fd);
    s->p[i].fd = -1;
    s->closed++;
}

/* Opens a connection into the empty slot i unless MAX_CONNECTS were made;
 * returns its fd, or -1 with the slot still empty. */
static int slot_open(struct slots *s, int i)
{
    if (s->connects >= MAX_CONNECTS)
        return -1;
    int fd = open_conn();
    s->connects++;
    if (fd < 0) {
        s->failed++;
        return -1;
    }
    s->p[i].fd = fd;
    return fd;
}

/* One pass per PASS_MS at most: closes are noticed by poll, and reopening
 * waits for the next pass. Returns 0, or -1 when poll failed. */
static int slots_pass(struct slots *s)
{
    long long pass_end = now_ms() + PASS_MS;
    int wait = (int)(pass_end - now_ms());
    if (poll(s->p, (nfds_t)s->n, wait > 0 ? wait : 0) < 0 && errno != EINTR) {
        perror("tcp_attack: poll");
        return -1;
    }
    wait = (int)(pass_end - now_ms());
    if (wait > 0)
        poll(NULL, 0, wait);
    return 0;
}

static void slots_free(struct slots *s)
{
    for (int i = 0; i < s->n; i++)
        if (s->p[i].fd >= 0)
            close(s->p[i].fd);
    free(s->p);
}

/* trickle and idle: N slots kept open for SECS seconds. */
static int run_keep(bool trickle, int n, int secs)
{
    struct slots s;
    long long end = now_ms() + secs * 1000LL, next_byte = now_ms() + TRICKLE_MS;
    int rc = 0;

    if (slots_init(&s, n) != 0)
        return 1;
    struct pollfd *p = s.p;
    while (now_ms() < end) {
        bool tick = now_ms() >= next_byte;
        for (int i = 0; i < n; i++) {
            if (p[i].fd >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
                server_closed(p[i].fd))
                slot_drop(&s, i);
            p[i].revents = 0;
            if (p[i].fd < 0) {
                if (slot_open(&s, i) < 0)
                    continue;
                p[i].events = POLLIN;
                if (trickle)
                    (void)!send(p[i].fd, "\xff", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
            } else if (trickle && tick) {
                /* Another byte of the endless frame: prefix, then body. */
                (void)!send(p[i].fd, "\xff", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
            }
        }
        if (tick)
            next_byte += TRICKLE_MS;
        fflush(stdout);
        if (slots_pass(&s) != 0) {
            rc = 1;
            break;
        }
    }
    slots_free(&s);
    printf("connects=%lu closed_by_server=%lu connect_errors=%lu\n", s.connects, s.closed,
           s.failed);
    return rc;
}

/* hold: N connections opened in order, each with a partial frame of BYTES
 * body bytes (if any), held SECS seconds. */
static int run_hold(int n, int secs, size_t bytes)
{
    int *fds = calloc((size_t)n, sizeof *fds);
    uint8_t *frame = calloc(1, 2 + bytes);
    long long end;
    int opened = 0, closed = 0, lowest_open = -1, highest_closed = -1;
    char list[256] = "";
    size_t ll = 0;

    if (fds == NULL || frame == NULL) {
        free(fds);
        free(frame);
        return 1;
    }
    frame[0] = frame[1] = 0xff;
    for (int i = 0; i < n; i++) {
        fds[i] = open_conn();
        if (fds[i] < 0) {
            fprintf(stderr, "tcp_attack: connection %d: %s\n", i, strerror(-fds[i]));
            break;
        }
        opened++;
        if (bytes > 0) {
            /* Blocking send: the kernel takes it all (the server reads it,
             * or its socket buffers hold it). */
            struct timeval tv = {.tv_sec = 2};
            setsockopt(fds[i], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
            (void)!send(fds[i], frame, 2 + bytes, MSG_NOSIGNAL);
        }
    }
    printf("ready opened=%d\n", opened);
    fflush(stdout);
    end = now_ms() + secs * 1000LL;
    while (now_ms() < end)
        poll(NULL, 0, 50);
    for (int i = 0; i < opened; i++) {
        struct pollfd p = {.fd = fds[i], .events = POLLIN};
        if (poll(&p, 1, 0) > 0 && server_closed(fds[i])) {
            closed++;
            highest_closed = i;
            if (ll < sizeof list - 16)
                ll += (size_t)snprintf(list + ll, sizeof list - ll, "%s%d", ll ? "," : "", i);
        } else if (lowest_open < 0) {
            lowest_open = i;
        }
        close(fds[i]);
    }
    printf("opened=%d closed=%d lowest_open=%d highest_closed=%d closed_list=%s\n", opened, closed,
           lowest_open, highest_closed, ll ? list : "-");
    free(fds);
    free(frame);
    return 0;
}

/* stall: when does the server close a connection with one byte of a frame,
 * and one with nothing? */
static int run_stall(int secs)
{
    struct pollfd p[2];
    long long start, closed_at[2] = {-1, -1};
    long long end;

    p[0].fd = open_conn();
    p[1].fd = open_conn();
    if (p[0].fd < 0 || p[1].fd < 0) {
        fprintf(stderr, "tcp_attack: connect failed\n");
        return 1;
    }
    start = now_ms();
    (void)!send(p[0].fd, "\x00", 1, MSG_NOSIGNAL);
    p[0].events = p[1].events = POLLIN;
    end = start + secs * 1000LL;
    while (now_ms() < end && (closed_at[0] < 0 || closed_at[1] < 0)) {
        int r = poll(p, 2, 20);
        if (r < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            if (closed_at[i] < 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
                server_closed(p[i].fd)) {
                closed_at[i] = now_ms() - start;
                p[i].events = 0;
            }
            p[i].revents = 0;
        }
    }
    printf("stall_closed_ms=%lld idle_closed_ms=%lld\n", closed_at[0], closed_at[1]);
    close(p[0].fd);
    close(p[1].fd);
    return 0;
}

/* QUERY_BLOCK framed TXT queries for qname (CH hostname.bind when NULL),
 * back to back, in block; returns the length or -1 for a bad name. */
static int build_queries(const char *qname, uint8_t *block, size_t cap)
{
    uint8_t q[2 + 12 + 256 + 4];
    const char *name = qname ? qname : "hostname.bind";
    size_t len = 2 + 12, off = 0;

    memset(q, 0, sizeof q);
    q[2 + 5] = 1; /* QDCOUNT */
    while (*name != '\0') {
        const char *dot = strchr(name, '.');
        size_t l = dot ? (size_t)(dot - name) : strlen(name);
        if (l == 0 || l > 63 || len + 1 + l + 1 + 4 > sizeof q)
            return -1;
        q[len++] = (uint8_t)l;
        memcpy(q + len, name, l);
        len += l;
        name += l + (dot ? 1 : 0);
    }
    q[len++] = 0;
    q[len++] = 0;
    q[len++] = 16; /* TXT */
    q[len++] = 0;
    q[len++] = qname ? 1 : 3; /* IN, or CH for hostname.bind */
    q[0] = (uint8_t)((len - 2) >> 8);
    q[1] = (uint8_t)(len - 2);
    if (len * QUERY_BLOCK > cap)
        return -1;
    for (int i = 0; i < QUERY_BLOCK; i++) {
        memcpy(block + off, q, len);
        block[off + 2] = (uint8_t)(i >> 8); /* message ID */
        block[off + 3] = (uint8_t)i;
        off += len;
    }
    return (int)off;
}

/* Sends queries on fd without blocking until the kernel takes no more or
 * max bytes went in all. Returns false when the server closed fd. */
static bool pump_queries(int fd, const uint8_t *block, size_t blen, size_t *sent, size_t max)
{
    while (*sent < max) {
        size_t off = *sent % blen;
        ssize_t n = send(fd, block + off, blen - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            *sent += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return true;
        return false;
    }
    return true;
}

/* unread: N connections pipelining queries and never reading, SECS
 * seconds. The server's close shows as a reset (POLLERR/POLLHUP) or, after
 * a plain close, as POLLRDHUP once its FIN gets through. */
static int run_unread(int n, int secs, const char *qname)
{
    struct slots s;
    size_t *sent = calloc((size_t)n, sizeof *sent);
    uint8_t block[QUERY_BLOCK * 300];
    long long end = now_ms() + secs * 1000LL;
    unsigned long long total = 0;
    long long start = now_ms(), first_closed = -1;
    int blen = build_queries(qname, block, sizeof block), rc = 0;

    if (sent == NULL || blen < 0 || slots_init(&s, n) != 0) {
        free(sent);
        return 1;
    }
    struct pollfd *p = s.p;
    while (now_ms() < end) {
        if (first_closed < 0 && s.closed > 0)
            first_closed = now_ms() - start;
        for (int i = 0; i < n; i++) {
            if (p[i].fd >= 0 && (p[i].revents & (POLLERR | POLLHUP | POLLRDHUP)))
                slot_drop(&s, i);
            else if (p[i].fd >= 0 && (p[i].revents & POLLOUT) &&
                     !pump_queries(p[i].fd, block, (size_t)blen, &sent[i], UNREAD_MAX))
                slot_drop(&s, i);
            p[i].revents = 0;
            if (p[i].fd < 0) {
                if (slot_open(&s, i) < 0)
                    continue;
                total += sent[i];
                sent[i] = 0;
                if (!pump_queries(p[i].fd, block, (size_t)blen, &sent[i], UNREAD_MAX)) {
                    slot_drop(&s, i);
                    continue;
                }
            }
            p[i].events = (short)(POLLRDHUP | (sent[i] < UNREAD_MAX ? POLLOUT : 0));
        }
        if (slots_pass(&s) != 0) {
            rc = 1;
            break;
        }
    }
    for (int i = 0; i < n; i++)
        total += sent[i];
    slots_free(&s);
    free(sent);
    printf("connects=%lu closed_by_server=%lu connect_errors=%lu query_bytes=%llu "
           "first_closed_ms=%lld\n",
           s.connects, s.closed, s.failed, total, first_closed);
    return rc;
}

/* slowread: one connection pipelining queries while reading 1 KiB every
 * 100 ms, SECS seconds. */
static int run_slowread(int secs, const char *qname)
{
    uint8_t block[QUERY_BLOCK * 300], in[1024];
    size_t sent = 0;
    long long start, end, next_read, closed_at = -1;
    unsigned long long got = 0;
    int blen = build_queries(qname, block, sizeof block);
    int fd = open_conn();

    if (fd < 0 || blen < 0) {
        fprintf(stderr, "tcp_attack: slowread: connect failed or bad name\n");
        if (fd >= 0)
            close(fd);
        return 1;
    }
    start = now_ms();
    end = start + secs * 1000LL;
    next_read = start + 100;
    while (now_ms() < end && closed_at < 0) {
        struct pollfd p = {.fd = fd, .events = POLLRDHUP};
        if (!pump_queries(fd, block, (size_t)blen, &sent, QUERY_MAX)) {
            closed_at = now_ms() - start;
            break;
        }
        if (now_ms() >= next_read) {
            ssize_t n = recv(fd, in, sizeof in, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                closed_at = now_ms() - start;
                break;
            }
            if (n > 0)
                got += (unsigned long long)n;
            next_read += 100;
        }
        int wait = (int)(next_read - now_ms());
        if (poll(&p, 1, wait > 0 ? wait : 0) > 0 && (p.revents & (POLLERR | POLLHUP)))
            closed_at = now_ms() - start;
    }
    printf("slowread_bytes=%llu query_bytes=%zu closed_ms=%lld\n", got, sent, closed_at);
    close(fd);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: tcp_attack trickle|idle ADDR PORT N SECS\n"
                    "       tcp_attack hold ADDR PORT N SECS [BYTES]\n"
                    "       tcp_attack stall ADDR PORT SECS\n"
                    "       tcp_attack unread ADDR PORT N SECS [QNAME]\n"
                    "       tcp_attack slowread ADDR PORT SECS [QNAME]\n");
    return 2;
}

static int arg_int(const char *s, long min, long max)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < min || v > max)
        return -1;
    return (int)v;
}

int main(int argc, char **argv)
{
    uint16_t port;
    int n, secs;

    if (argc < 5 || ah_port_parse(argv[3], &port) < 0 || ah_addr_parse(argv[2], port, &target) < 0)
        return usage();
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(argv[1], "stall") == 0) {
        if (argc != 5 || (secs = arg_int(argv[4], 1, 120)) < 0)
            return usage();
        return run_stall(secs);
    }
    if (strcmp(argv[1], "slowread") == 0) {
        if (argc > 6 || (secs = arg_int(argv[4], 1, 120)) < 0)
            return usage();
        return run_slowread(secs, argc == 6 ? argv[5] : NULL);
    }
    if (argc < 6 || (n = arg_int(argv[4], 1, MAX_CONNS)) < 0 ||
        (secs = arg_int(argv[5], 1, 120)) < 0)
        return usage();
    raise_nofile(n);
    if (strcmp(argv[1], "trickle") == 0 && argc == 6)
        return run_keep(true, n, secs);
    if (strcmp(argv[1], "idle") == 0 && argc == 6)
        return run_keep(false, n, secs);
    if (strcmp(argv[1], "hold") == 0 && argc <= 7) {
        int bytes = argc == 7 ? arg_int(argv[6], 0, 65535) : 0;
        if (bytes < 0)
            return usage();
        return run_hold(n, secs, (size_t)bytes);
    }
    if (strcmp(argv[1], "unread") == 0 && argc <= 7)
        return run_unread(n, secs, argc == 7 ? argv[6] : NULL);
    return usage();
}
