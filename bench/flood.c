/* flood: a DNS-over-UDP load generator on sendmmsg/recvmmsg. It sends one fixed query
 * (CH TXT hostname.bind by default) from several connected sockets, i.e. several source
 * ports, keeping at most --window queries in flight per socket (closed loop), so that the
 * figure it prints is the server's capacity rather than the kernel's drop rate. */
#include "bench_util.h"

#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_SOCKETS 64
#define MAX_BATCH   256
#define MAX_QLEN    300
#define RBUF_LEN    4096

enum slot_state { SLOT_FREE = 0, SLOT_OUT = 1, SLOT_DONE = 2 };

/* One socket's queries are numbered by a 32-bit sequence; the DNS ID is its low 16 bits.
 * Slots between tail and head are live; head - tail stays below 32768 so an ID names at
 * most one live query and a late or duplicate answer is recognised as such. */
struct flow {
    int fd;
    uint32_t head, tail, inflight;
    uint8_t state[65536];
    uint32_t sent_us[65536];
};

struct opts {
    struct bench_target t;
    long seconds, sockets, window, batch, rate, timeout_ms, threads;
    const char *write_query;
};

struct stats {
    uint64_t sent, answered, empty, lost, late, errors, refused, rtt_sum_us;
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: flood --server ADDR [options]\n"
            "Sends one DNS query over UDP as fast as the server answers (closed loop) and\n"
            "prints \"sent N answered M qps_answered X ...\".\n"
            "  -s, --server ADDR      server address (IPv4 or IPv6), required\n"
            "  -p, --port P           server port (53)\n"
            "  -l, --seconds S        run time, 1..60 (5)\n"
            "  -c, --sockets N        sockets = source ports, 1..%d (8)\n"
            "  -w, --window W         queries in flight per socket, 1..4096 (64)\n"
            "  -b, --batch B          messages per sendmmsg/recvmmsg, 1..%d (32)\n"
            "  -r, --rate QPS         open-loop target rate in total (0 = as fast as answered)\n"
            "  -t, --timeout MS       a query unanswered for this long is lost (200)\n"
            "  -T, --threads N        threads sharing the sockets, 1..64 (1); they run on the\n"
            "                         CPUs the process is allowed (taskset)\n"
            "  -n, --qname NAME       query name (hostname.bind)\n"
            "      --qclass CLASS     CH, IN or a number (CH)\n"
            "      --qtype TYPE       TXT, A, AAAA, ... or a number (TXT)\n"
            "      --write-query FILE write the query in dnsperf -B format and exit\n"
            "  -h, --help, -V, --version\n",
            MAX_SOCKETS, MAX_BATCH);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        BENCH_LONGOPTS_SERVER,
        {"seconds", required_argument, NULL, 'l'},
        {"sockets", required_argument, NULL, 'c'},
        {"window", required_argument, NULL, 'w'},
        {"batch", required_argument, NULL, 'b'},
        {"rate", required_argument, NULL, 'r'},
        {"timeout", required_argument, NULL, 't'},
        BENCH_LONGOPTS_QUERY,
        {"write-query", required_argument, NULL, 1},
        {"threads", required_argument, NULL, 'T'},
        BENCH_LONGOPTS_END,
    };
    *o = (struct opts){.t = BENCH_TARGET_DEFAULTS,
                       .seconds = 5,
                       .sockets = 8,
                       .window = 64,
                       .batch = 32,
                       .timeout_ms = 200,
                       .threads = 1};
    int c;
    while ((c = getopt_long(argc, argv, "s:p:l:c:w:b:r:t:n:T:hV", longopts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'l':
            bad = bench_parse_long(optarg, 1, 60, &o->seconds);
            break;
        case 'c':
            bad = bench_parse_long(optarg, 1, MAX_SOCKETS, &o->sockets);
            break;
        case 'w':
            bad = bench_parse_long(optarg, 1, 4096, &o->window);
            break;
        case 'b':
            bad = bench_parse_long(optarg, 1, MAX_BATCH, &o->batch);
            break;
        case 'r':
            bad = bench_parse_long(optarg, 0, 100000000, &o->rate);
            break;
        case 't':
            bad = bench_parse_long(optarg, 1, 10000, &o->timeout_ms);
            break;
        case 'T':
            bad = bench_parse_long(optarg, 1, 64, &o->threads);
            break;
        case 1:
            o->write_query = optarg;
            break;
        default:
            if (bench_opt_target("flood", c, optarg, &o->t, usage) != 0)
                return -EINVAL;
        }
        if (bad)
            return bench_opt_bad("flood", c, optarg);
    }
    if (optind != argc) {
        fprintf(stderr, "flood: unexpected argument \"%s\"\n", argv[optind]);
        return -EINVAL;
    }
    if (o->t.server == NULL && o->write_query == NULL) {
        fprintf(stderr, "flood: --server is required\n");
        return -EINVAL;
    }
    return 0;
}

static int write_query_file(const char *path, const uint8_t *q, int qlen)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "flood: open %s: %s\n", path, strerror(errno));
        return -errno;
    }
    uint8_t len[2] = {(uint8_t)(qlen >> 8), (uint8_t)qlen};
    int ok = fwrite(len, 1, 2, f) == 2 && fwrite(q, 1, (size_t)qlen, f) == (size_t)qlen;
    if (fclose(f) != 0 || !ok) {
        fprintf(stderr, "flood: write %s: %s\n", path, strerror(errno));
        return -EIO;
    }
    return 0;
}

static int open_flow(struct flow *f, const struct sockaddr_storage *ss, socklen_t sslen,
                     const char *server, unsigned port)
{
    f->fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (f->fd < 0) {
        fprintf(stderr, "flood: socket: %s\n", strerror(errno));
        return -errno;
    }
    /* Bigger buffers only matter in open-loop mode. */
    bench_big_buffers(f->fd);
    if (connect(f->fd, (const struct sockaddr *)ss, sslen) != 0) {
        fprintf(stderr, "flood: connect %s:%u/udp: %s\n", server, port, strerror(errno));
        return -errno;
    }
    /* Start each socket at a random point so its IDs differ from its neighbours'. */
    f->head = f->tail = (uint32_t)random();
    return 0;
}

/* Retires answered slots and declares slots older than the timeout lost. */
static void expire(struct flow *f, uint32_t now_us, uint32_t timeout_us, struct stats *st)
{
    while (f->tail != f->head) {
        uint16_t id = (uint16_t)f->tail;
        if (f->state[id] == SLOT_OUT) {
            if (now_us - f->sent_us[id] < timeout_us && f->head - f->tail < 32768)
                break;
            st->lost++;
            f->inflight--;
        }
        f->state[id] = SLOT_FREE;
        f->tail++;
    }
}

/* Reads every answer waiting on f; returns the number read. */
static int drain(struct flow *f, struct mmsghdr *msgs, struct iovec *iov, uint8_t (*rbuf)[RBUF_LEN],
                 int batch, uint32_t now_us, struct stats *st)
{
    int total = 0;
    for (;;) {
        for (int i = 0; i < batch; i++) {
            iov[i].iov_base = rbuf[i];
            iov[i].iov_len = RBUF_LEN;
            memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(f->fd, msgs, (unsigned)batch, MSG_DONTWAIT, NULL);
        if (n < 0) {
            if (errno == ECONNREFUSED)
                st->refused++;
            return total;
        }
        for (int i = 0; i < n; i++) {
            const uint8_t *r = rbuf[i];
            if (msgs[i].msg_len < 12 || !(r[2] & 0x80)) {
                st->late++;
                continue;
            }
            uint16_t id = (uint16_t)(r[0] << 8 | r[1]);
            if (f->state[id] != SLOT_OUT) {
                st->late++;
                continue;
            }
            f->state[id] = SLOT_DONE;
            f->inflight--;
            st->answered++;
            st->rtt_sum_us += now_us - f->sent_us[id];
            if ((r[3] & 0x0f) != 0)
                st->errors++;
            else if (r[6] == 0 && r[7] == 0)
                st->empty++; /* NOERROR without an answer: an echo, not a DNS server */
        }
        total += n;
        if (n < batch)
            return total;
    }
}

/* Sends up to n queries on f; returns the number sent. */
static int send_some(struct flow *f, struct mmsghdr *msgs, struct iovec *iov,
                     uint8_t (*qbuf)[MAX_QLEN], int qlen, int n, uint32_t now_us, struct stats *st)
{
    for (int i = 0; i < n; i++) {
        uint16_t id = (uint16_t)(f->head + (uint32_t)i);
        qbuf[i][0] = (uint8_t)(id >> 8);
        qbuf[i][1] = (uint8_t)id;
        iov[i].iov_base = qbuf[i];
        iov[i].iov_len = (size_t)qlen;
        memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int sent = sendmmsg(f->fd, msgs, (unsigned)n, MSG_DONTWAIT);
    if (sent <= 0) {
        if (sent < 0 && errno == ECONNREFUSED)
            st->refused++;
        return 0;
    }
    for (int i = 0; i < sent; i++) {
        uint16_t id = (uint16_t)f->head;
        f->state[id] = SLOT_OUT;
        f->sent_us[id] = now_us;
        f->head++;
    }
    f->inflight += (uint32_t)sent;
    st->sent += (uint64_t)sent;
    return sent;
}

/* One sending/receiving thread and its share of the sockets. */
struct gen {
    pthread_t tid;
    const struct opts *o;
    struct flow *flows;
    struct pollfd *pfd;
    int nflows;
    uint64_t start, end;
    int qlen;
    struct mmsghdr msgs[MAX_BATCH];
    struct iovec iov[MAX_BATCH];
    uint8_t qbuf[MAX_BATCH][MAX_QLEN];
    uint8_t rbuf[MAX_BATCH][RBUF_LEN];
    struct stats st;
    uint64_t inflight_end;
};

static void *gen_main(void *arg)
{
    struct gen *g = arg;
    const struct opts *o = g->o;
    const uint32_t timeout_us = (uint32_t)o->timeout_ms * 1000u;
    /* Open-loop pacing: a token bucket refilled at this thread's share of --rate, holding
     * at most 10 ms of it. */
    double rate = (double)o->rate * g->nflows / (double)o->sockets;
    double tokens = 0, max_tokens = rate > 0 ? rate / 100.0 + (double)o->batch : 0;
    uint64_t last = g->start, now;
    while (!bench_stop && (now = bench_now_ns()) < g->end) {
        uint32_t now_us = (uint32_t)((now - g->start) / 1000);
        if (rate > 0) {
            tokens += (double)(now - last) * rate / 1e9;
            if (tokens > max_tokens)
                tokens = max_tokens;
        }
        last = now;
        int progress = 0;
        for (int i = 0; i < g->nflows; i++) {
            struct flow *f = &g->flows[i];
            progress += drain(f, g->msgs, g->iov, g->rbuf, (int)o->batch, now_us, &g->st);
            expire(f, now_us, timeout_us, &g->st);
            long room = o->window - (long)f->inflight;
            if (room > o->batch)
                room = o->batch;
            if (rate > 0 && room > (long)tokens)
                room = (long)tokens;
            if (room > 0) {
                int s = send_some(f, g->msgs, g->iov, g->qbuf, g->qlen, (int)room, now_us, &g->st);
                tokens -= s;
                progress += s;
            }
        }
        /* Nothing to do: sleep until an answer comes (or 1 ms, for timeouts and pacing). */
        if (progress == 0)
            (void)poll(g->pfd, (nfds_t)g->nflows, 1);
    }
    for (int i = 0; i < g->nflows; i++)
        g->inflight_end += g->flows[i].inflight;
    return NULL;
}

/* The threads share the sockets out evenly and run on the CPUs the process may use
 * (taskset). */
static void share_out(struct gen *gens, int ngens, struct flow *flows, struct pollfd *pfd,
                      int nflows, const struct opts *o, const uint8_t *query, int qlen)
{
    uint64_t start = bench_now_ns();
    for (int k = 0, first = 0; k < ngens; k++) {
        struct gen *g = &gens[k];
        g->o = o;
        g->nflows = nflows / ngens + (k < nflows % ngens);
        g->flows = flows + first;
        g->pfd = pfd + first;
        first += g->nflows;
        g->start = start;
        g->end = start + (uint64_t)o->seconds * 1000000000ull;
        g->qlen = qlen;
        for (int i = 0; i < MAX_BATCH; i++)
            memcpy(g->qbuf[i], query, (size_t)qlen);
    }
}

/* Waits for the started threads and adds up their counts and what they left in flight. */
static void join_gens(struct gen *gens, int started, struct stats *st, uint64_t *inflight)
{
    for (int k = 0; k < started; k++) {
        pthread_join(gens[k].tid, NULL);
        const struct stats *s = &gens[k].st;
        st->sent += s->sent;
        st->answered += s->answered;
        st->empty += s->empty;
        st->lost += s->lost;
        st->late += s->late;
        st->errors += s->errors;
        st->refused += s->refused;
        st->rtt_sum_us += s->rtt_sum_us;
        *inflight += gens[k].inflight_end;
    }
}

/* Prints the one result line; returns the exit code, 1 if nothing was answered. */
static int report(const struct opts *o, const struct stats *st, uint64_t inflight, uint64_t start)
{
    double secs = (double)(bench_now_ns() - start) / 1e9;
    printf("sent %llu answered %llu qps_answered %.0f empty %llu lost %llu late %llu errors %llu "
           "refused %llu inflight_end %llu rtt_avg_us %.1f seconds %.3f\n",
           (unsigned long long)st->sent, (unsigned long long)st->answered,
           secs > 0 ? (double)st->answered / secs : 0.0, (unsigned long long)st->empty,
           (unsigned long long)st->lost, (unsigned long long)st->late,
           (unsigned long long)st->errors, (unsigned long long)st->refused,
           (unsigned long long)inflight,
           st->answered ? (double)st->rtt_sum_us / (double)st->answered : 0.0, secs);
    fflush(stdout);
    if (st->answered > 0)
        return 0;
    fprintf(stderr, "flood: no answers from %s:%u/udp\n", o->t.server, o->t.port);
    return 1;
}

static int run(const struct opts *o, const uint8_t *query, int qlen)
{
    struct sockaddr_storage ss;
    int sslen = bench_target_addr("flood", &o->t, &ss);
    if (sslen < 0)
        return 2;
    int rc = 1, nflows = (int)o->sockets, ngens = (int)o->threads, started = 0, opened = 0;
    struct flow *flows = calloc((size_t)nflows, sizeof(*flows));
    struct pollfd *pfd = calloc((size_t)nflows, sizeof(*pfd));
    struct gen *gens = calloc((size_t)ngens, sizeof(*gens));
    if (flows == NULL || pfd == NULL || gens == NULL) {
        fprintf(stderr, "flood: out of memory\n");
        goto out;
    }
    if (ngens > nflows) {
        fprintf(stderr, "flood: --threads %d needs at least as many --sockets\n", ngens);
        rc = 2;
        goto out;
    }
    for (; opened < nflows; opened++) {
        if (open_flow(&flows[opened], &ss, (socklen_t)sslen, o->t.server, o->t.port) != 0)
            goto out;
        pfd[opened].fd = flows[opened].fd;
        pfd[opened].events = POLLIN;
    }
    share_out(gens, ngens, flows, pfd, nflows, o, query, qlen);
    for (; started < ngens; started++) {
        if (pthread_create(&gens[started].tid, NULL, gen_main, &gens[started]) != 0) {
            fprintf(stderr, "flood: pthread_create failed\n");
            bench_stop = 1;
            break;
        }
    }
    struct stats st = {0};
    uint64_t inflight = 0;
    join_gens(gens, started, &st, &inflight);
    if (started == ngens)
        rc = report(o, &st, inflight, gens[0].start);
out:
    for (int i = 0; i < opened; i++)
        close(flows[i].fd);
    free(flows);
    free(pfd);
    free(gens);
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse_opts(argc, argv, &o) != 0)
        return 2;
    uint8_t query[MAX_QLEN];
    int qlen = bench_build_query(o.t.qname, o.t.qclass, o.t.qtype, query, sizeof(query));
    if (qlen < 0) {
        fprintf(stderr, "flood: bad query name \"%s\"\n", o.t.qname);
        return 2;
    }
    if (o.write_query != NULL)
        return write_query_file(o.write_query, query, qlen) == 0 ? 0 : 1;
    bench_catch_signals(false);
    srandom((unsigned)bench_now_ns() ^ (unsigned)getpid());
    return run(&o, query, qlen);
}
