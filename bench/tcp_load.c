/* tcp_load: DNS-over-TCP load (RFC 7766 framing). It opens --conns connections and keeps
 * --depth pipelined queries in flight on each, sending a new query for every answer, for a
 * bounded time; then prints "conns N sent S answered M qps_answered X ...". Connections the
 * server closes are reopened (and counted), so idle timeouts or per-connection query limits
 * show up in the figures rather than stopping the run. */
#include "bench_util.h"

#include <fcntl.h>
#include <getopt.h>
#include <sys/epoll.h>
#include <unistd.h>

#define MAX_QLEN  300
#define RBUF_LEN  16384
#define MAX_DEPTH 256

struct conn {
    int fd;
    bool connected;
    bool want_out; /* EPOLLOUT currently requested */
    uint16_t next_id;
    int outstanding;
    size_t rlen, wlen, woff;
    uint8_t rbuf[RBUF_LEN];
    uint8_t wbuf[MAX_DEPTH * (MAX_QLEN + 2)];
};

struct opts {
    struct bench_target t;
    long conns, depth, seconds;
};

struct stats {
    uint64_t sent, answered, empty, errors, reconnects, closed;
};

static void usage(FILE *f)
{
    fprintf(f, "Usage: tcp_load --server ADDR [options]\n"
               "Pipelined DNS-over-TCP load; prints \"conns N sent S answered M qps_answered X\".\n"
               "  -s, --server ADDR   server address (IPv4 or IPv6), required\n"
               "  -p, --port P        server port (53)\n"
               "  -c, --conns N       connections, 1..10000 (100)\n"
               "  -d, --depth D       pipelined queries in flight per connection, 1..256 (16)\n"
               "  -l, --seconds S     run time, 1..60 (5)\n"
               "  -n, --qname NAME    query name (hostname.bind)\n"
               "      --qclass CLASS  CH, IN or a number (CH)\n"
               "      --qtype TYPE    TXT, A, ... or a number (TXT)\n"
               "  -h, --help, -V, --version\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        BENCH_LONGOPTS_SERVER,
        {"conns", required_argument, NULL, 'c'},
        {"depth", required_argument, NULL, 'd'},
        {"seconds", required_argument, NULL, 'l'},
        BENCH_LONGOPTS_QUERY,
        BENCH_LONGOPTS_END,
    };
    *o = (struct opts){.t = BENCH_TARGET_DEFAULTS, .conns = 100, .depth = 16, .seconds = 5};
    int c;
    while ((c = getopt_long(argc, argv, "s:p:c:d:l:n:hV", longopts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'c':
            bad = bench_parse_long(optarg, 1, 10000, &o->conns);
            break;
        case 'd':
            bad = bench_parse_long(optarg, 1, MAX_DEPTH, &o->depth);
            break;
        case 'l':
            bad = bench_parse_long(optarg, 1, 60, &o->seconds);
            break;
        default:
            if (bench_opt_target("tcp_load", c, optarg, &o->t, usage) != 0)
                return -EINVAL;
        }
        if (bad)
            return bench_opt_bad("tcp_load", c, optarg);
    }
    if (o->t.server == NULL || optind != argc) {
        usage(stderr);
        return -EINVAL;
    }
    return 0;
}

struct ctx {
    const struct opts *o;
    struct sockaddr_storage ss;
    socklen_t sslen;
    int ep;
    uint8_t frame[MAX_QLEN + 2];
    size_t flen;
    struct stats st;
};

static int conn_open(struct ctx *x, struct conn *c)
{
    c->fd = bench_tcp_connect(&x->ss, x->sslen);
    if (c->fd < 0) {
        int e = c->fd;
        c->fd = -1;
        return e;
    }
    c->connected = false;
    c->want_out = true;
    c->outstanding = 0;
    c->rlen = c->wlen = c->woff = 0;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(x->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        int e = errno;
        close(c->fd);
        c->fd = -1;
        return -e;
    }
    return 0;
}

static void conn_close(struct ctx *x, struct conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(x->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
}

/* Queues queries up to the pipelining depth and writes what the socket takes. Returns 0 or a
 * negative errno when the connection failed. */
static int conn_fill(struct ctx *x, struct conn *c)
{
    if (c->woff == c->wlen)
        c->woff = c->wlen = 0;
    while (c->outstanding < x->o->depth && c->wlen + x->flen <= sizeof(c->wbuf)) {
        uint8_t *f = c->wbuf + c->wlen;
        memcpy(f, x->frame, x->flen);
        f[2] = (uint8_t)(c->next_id >> 8);
        f[3] = (uint8_t)c->next_id;
        c->next_id++;
        c->wlen += x->flen;
        c->outstanding++;
        x->st.sent++;
    }
    while (c->woff < c->wlen) {
        ssize_t n = write(c->fd, c->wbuf + c->woff, c->wlen - c->woff);
        if (n < 0) {
            if (errno == EAGAIN)
                break;
            return -errno;
        }
        c->woff += (size_t)n;
    }
    /* Touch the epoll set only when the interest changes: one syscall less per answer. */
    bool want_out = c->woff < c->wlen;
    if (want_out != c->want_out) {
        struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c};
        epoll_ctl(x->ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->want_out = want_out;
    }
    return 0;
}

/* Reads and counts complete answers. Returns 0, or a negative errno / -EPIPE on EOF. */
static int conn_read(struct ctx *x, struct conn *c)
{
    for (;;) {
        ssize_t n = read(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen);
        if (n == 0)
            return -EPIPE;
        if (n < 0)
            return errno == EAGAIN ? 0 : -errno;
        c->rlen += (size_t)n;
        size_t off = 0;
        while (c->rlen - off >= 2) {
            size_t len = (size_t)c->rbuf[off] << 8 | c->rbuf[off + 1];
            if (len + 2 > sizeof(c->rbuf))
                return -EPROTO;
            if (c->rlen - off < len + 2)
                break;
            const uint8_t *m = c->rbuf + off + 2;
            if (len >= 12 && (m[2] & 0x80)) {
                x->st.answered++;
                if ((m[3] & 0x0f) != 0)
                    x->st.errors++;
                else if (m[6] == 0 && m[7] == 0)
                    x->st.empty++; /* NOERROR without an answer record */
            } else {
                x->st.errors++;
            }
            if (c->outstanding > 0)
                c->outstanding--;
            off += len + 2;
        }
        memmove(c->rbuf, c->rbuf + off, c->rlen - off);
        c->rlen -= off;
        if ((size_t)n < sizeof(c->rbuf))
            return 0;
    }
}

static void conn_event(struct ctx *x, struct conn *c, uint32_t ev)
{
    int err = 0;
    if (!c->connected) {
        int soerr = bench_so_error(c->fd);
        if (soerr != 0 || (ev & (EPOLLERR | EPOLLHUP))) {
            err = soerr ? -soerr : -ECONNREFUSED;
            goto fail;
        }
        c->connected = true;
    }
    if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        err = conn_read(x, c);
        if (err != 0)
            goto fail;
    }
    err = conn_fill(x, c);
    if (err == 0)
        return;
fail:
    x->st.closed++;
    conn_close(x, c);
    if (!bench_stop && conn_open(x, c) == 0)
        x->st.reconnects++;
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse_opts(argc, argv, &o) != 0)
        return 2;
    static struct ctx x;
    x.o = &o;
    int sslen = bench_target_addr("tcp_load", &o.t, &x.ss);
    if (sslen < 0)
        return 2;
    x.sslen = (socklen_t)sslen;
    int flen = bench_build_tcp_query(o.t.qname, o.t.qclass, o.t.qtype, x.frame, sizeof(x.frame));
    if (flen < 0) {
        fprintf(stderr, "tcp_load: bad query name \"%s\"\n", o.t.qname);
        return 2;
    }
    x.flen = (size_t)flen;
    bench_catch_signals(true);
    if (bench_raise_nofile((rlim_t)o.conns + 64) != 0)
        fprintf(stderr, "tcp_load: warning: cannot raise RLIMIT_NOFILE\n");

    int rc = 1, opened = 0;
    struct conn *conns = calloc((size_t)o.conns, sizeof(*conns));
    x.ep = epoll_create1(EPOLL_CLOEXEC);
    if (conns == NULL || x.ep < 0) {
        fprintf(stderr, "tcp_load: out of memory or epoll: %s\n", strerror(errno));
        goto out;
    }
    for (; opened < o.conns; opened++) {
        int e = conn_open(&x, &conns[opened]);
        if (e != 0) {
            fprintf(stderr, "tcp_load: connect %s:%u/tcp: %s\n", o.t.server, o.t.port,
                    strerror(-e));
            goto out;
        }
    }
    const uint64_t start = bench_now_ns();
    const uint64_t end = start + (uint64_t)o.seconds * 1000000000ull;
    uint64_t now = start;
    static struct epoll_event evs[1024];
    while (!bench_stop && (now = bench_now_ns()) < end) {
        int n = epoll_wait(x.ep, evs, 1024, 10);
        for (int i = 0; i < n; i++)
            conn_event(&x, evs[i].data.ptr, evs[i].events);
    }
    double secs = (double)(now - start) / 1e9;
    int live = 0;
    for (int i = 0; i < opened; i++)
        live += conns[i].fd >= 0;
    printf("conns %ld sent %llu answered %llu qps_answered %.0f empty %llu errors %llu "
           "closed %llu reconnects %llu open_end %d seconds %.3f\n",
           o.conns, (unsigned long long)x.st.sent, (unsigned long long)x.st.answered,
           secs > 0 ? (double)x.st.answered / secs : 0.0, (unsigned long long)x.st.empty,
           (unsigned long long)x.st.errors, (unsigned long long)x.st.closed,
           (unsigned long long)x.st.reconnects, live, secs);
    fflush(stdout);
    rc = x.st.answered > 0 ? 0 : 1;
    if (rc != 0)
        fprintf(stderr, "tcp_load: no answers from %s:%u/tcp\n", o.t.server, o.t.port);
out:
    for (int i = 0; i < opened; i++)
        conn_close(&x, &conns[i]);
    if (x.ep >= 0)
        close(x.ep);
    free(conns);
    return rc;
}
