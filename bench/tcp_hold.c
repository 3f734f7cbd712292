/* tcp_hold: opens many concurrent idle TCP connections to a server (10,000 by default),
 * holds them for a bounded time and reports how many stayed open; optionally samples a
 * server process's VmRSS while they are held and checks, with one DNS query on each, that
 * the server really serves every one of them (not just the kernel's accept queue). */
#include "bench_util.h"

#include <getopt.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#define MAX_QLEN 300

enum cstate { C_NONE = 0, C_CONNECTING, C_OPEN, C_CLOSED, C_FAILED };

struct hconn {
    int fd;
    uint8_t state;
    uint8_t answered;
    uint16_t rlen;
    uint8_t rbuf[2];
};

struct opts {
    struct bench_target t;
    long conns, seconds, parallel, rss_pid, connect_timeout;
    bool query;
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: tcp_hold --server ADDR [options]\n"
            "Opens N idle TCP connections, holds them, reports how many stayed open.\n"
            "  -s, --server ADDR     server address (IPv4 or IPv6), required\n"
            "  -p, --port P          server port (53)\n"
            "  -c, --conns N         connections, 1..60000 (10000)\n"
            "  -l, --seconds T       hold time after all are open, 1..300 (10)\n"
            "  -P, --parallel N      connects in progress at once, 1..4096 (256)\n"
            "      --connect-timeout S  give up opening after S seconds, 1..120 (30)\n"
            "  -r, --rss-pid PID     report this process's VmRSS while the connections are held\n"
            "  -q, --query           at the end send one DNS query (CH TXT hostname.bind) on\n"
            "                        each open connection and count the answers\n"
            "  -h, --help, -V, --version\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        BENCH_LONGOPTS_SERVER,
        {"conns", required_argument, NULL, 'c'},
        {"seconds", required_argument, NULL, 'l'},
        {"parallel", required_argument, NULL, 'P'},
        {"rss-pid", required_argument, NULL, 'r'},
        {"connect-timeout", required_argument, NULL, 1},
        {"query", no_argument, NULL, 'q'},
        BENCH_LONGOPTS_END,
    };
    *o = (struct opts){.t = BENCH_TARGET_DEFAULTS,
                       .conns = 10000,
                       .seconds = 10,
                       .parallel = 256,
                       .connect_timeout = 30};
    int c;
    while ((c = getopt_long(argc, argv, "s:p:c:l:P:r:qhV", longopts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'c':
            bad = bench_parse_long(optarg, 1, 60000, &o->conns);
            break;
        case 'l':
            bad = bench_parse_long(optarg, 1, 300, &o->seconds);
            break;
        case 'P':
            bad = bench_parse_long(optarg, 1, 4096, &o->parallel);
            break;
        case 1:
            bad = bench_parse_long(optarg, 1, 120, &o->connect_timeout);
            break;
        case 'r':
            bad = bench_parse_long(optarg, 1, 1L << 30, &o->rss_pid);
            break;
        case 'q':
            o->query = true;
            break;
        default:
            if (bench_opt_target("tcp_hold", c, optarg, &o->t, usage) != 0)
                return -EINVAL;
        }
        if (bad)
            return bench_opt_bad("tcp_hold", c, optarg);
    }
    if (o->t.server == NULL || optind != argc) {
        usage(stderr);
        return -EINVAL;
    }
    return 0;
}

/* Non-blocking connects, at most --parallel in progress, until all are open or failed. */
static void open_all(const struct opts *o, struct hconn *cs, int ep,
                     const struct sockaddr_storage *ss, socklen_t sslen, long *nopen, long *nfailed)
{
    long next = 0, pending = 0;
    uint64_t deadline = bench_now_ns() + (uint64_t)o->connect_timeout * 1000000000ull;
    static struct epoll_event evs[1024];
    while (!bench_stop && (next < o->conns || pending > 0) && bench_now_ns() < deadline) {
        while (next < o->conns && pending < o->parallel) {
            struct hconn *c = &cs[next++];
            c->fd = bench_tcp_connect(ss, sslen);
            if (c->fd < 0) {
                c->fd = -1;
                c->state = C_FAILED;
                (*nfailed)++;
                continue;
            }
            c->state = C_CONNECTING;
            struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
            epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
            pending++;
        }
        int n = epoll_wait(ep, evs, 1024, 100);
        for (int i = 0; i < n; i++) {
            struct hconn *c = evs[i].data.ptr;
            int err = bench_so_error(c->fd);
            epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
            pending--;
            if (err != 0 || (evs[i].events & (EPOLLERR | EPOLLHUP))) {
                c->state = C_FAILED;
                (*nfailed)++;
                close(c->fd);
                c->fd = -1;
            } else {
                c->state = C_OPEN;
                (*nopen)++;
            }
        }
    }
}

/* True when the connection has been closed or reset by the peer. */
static bool is_closed(const struct hconn *c)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) <= 0)
        return false;
    if (p.revents & (POLLERR | POLLHUP | POLLRDHUP))
        return true;
    uint8_t b;
    ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN);
}

/* Sends one query on every open connection and counts answers within 5 seconds. */
static long query_all(const struct opts *o, struct hconn *cs, int ep)
{
    uint8_t frame[MAX_QLEN + 2];
    int flen = bench_build_tcp_query(o->t.qname, o->t.qclass, o->t.qtype, frame, sizeof(frame));
    long waiting = 0, answered = 0;
    for (long i = 0; i < o->conns; i++) {
        struct hconn *c = &cs[i];
        if (c->state != C_OPEN)
            continue;
        frame[2] = (uint8_t)(i >> 8);
        frame[3] = (uint8_t)i;
        if (write(c->fd, frame, (size_t)flen) != flen)
            continue;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        waiting++;
    }
    uint64_t deadline = bench_now_ns() + 5000000000ull;
    static struct epoll_event evs[1024];
    static uint8_t buf[4096];
    while (!bench_stop && waiting > 0 && bench_now_ns() < deadline) {
        int n = epoll_wait(ep, evs, 1024, 100);
        for (int i = 0; i < n; i++) {
            struct hconn *c = evs[i].data.ptr;
            ssize_t r = read(c->fd, buf, sizeof(buf));
            if (r > 0 && c->rlen < 2) {
                /* Only the first bytes matter: a length prefix then a header with QR. */
                if (r >= 5 && (buf[4] & 0x80))
                    c->answered = 1;
                c->rlen = 2;
            }
            if (r > 0 && !c->answered)
                continue;
            epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
            waiting--;
            answered += c->answered;
        }
    }
    return answered;
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse_opts(argc, argv, &o) != 0)
        return 2;
    struct sockaddr_storage ss;
    int sslen = bench_target_addr("tcp_hold", &o.t, &ss);
    if (sslen < 0)
        return 2;
    bench_catch_signals(true);
    int e = bench_raise_nofile((rlim_t)o.conns + 64);
    if (e != 0) {
        fprintf(stderr, "tcp_hold: cannot raise RLIMIT_NOFILE to %ld: %s\n", o.conns + 64,
                strerror(-e));
        return 1;
    }
    int rc = 1;
    struct hconn *cs = calloc((size_t)o.conns, sizeof(*cs));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (cs == NULL || ep < 0) {
        fprintf(stderr, "tcp_hold: out of memory or epoll: %s\n", strerror(errno));
        goto out;
    }
    for (long i = 0; i < o.conns; i++)
        cs[i].fd = -1;

    long nopen = 0, nfailed = 0;
    uint64_t t0 = bench_now_ns();
    open_all(&o, cs, ep, &ss, (socklen_t)sslen, &nopen, &nfailed);
    double open_secs = (double)(bench_now_ns() - t0) / 1e9;
    fprintf(stderr, "tcp_hold: %ld open, %ld failed after %.2f s; holding for %ld s\n", nopen,
            nfailed, open_secs, o.seconds);

    uint64_t hold_end = bench_now_ns() + (uint64_t)o.seconds * 1000000000ull;
    while (!bench_stop && bench_now_ns() < hold_end)
        usleep(50000);
    long rss = o.rss_pid > 0 ? bench_rss_kb(o.rss_pid) : -1;
    long held = 0;
    for (long i = 0; i < o.conns; i++) {
        if (cs[i].state != C_OPEN)
            continue;
        if (is_closed(&cs[i]))
            cs[i].state = C_CLOSED;
        else
            held++;
    }
    long answered = o.query ? query_all(&o, cs, ep) : -1;
    printf("conns %ld opened %ld failed %ld held %ld closed %ld open_seconds %.2f hold_seconds "
           "%ld",
           o.conns, nopen, nfailed, held, nopen - held, open_secs, o.seconds);
    if (o.query)
        printf(" answered %ld", answered);
    if (o.rss_pid > 0)
        printf(" rss_kb %ld", rss);
    printf("\n");
    fflush(stdout);
    rc = held == o.conns && (!o.query || answered == held) ? 0 : 1;
out:
    if (cs != NULL)
        for (long i = 0; i < o.conns; i++)
            if (cs[i].fd >= 0)
                close(cs[i].fd);
    if (ep >= 0)
        close(ep);
    free(cs);
    return rc;
}
