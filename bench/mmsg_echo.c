/* mmsg_echo: the machine's UDP ceiling for the DNS benchmark. A plain recvmmsg/sendmmsg loop
 * that sends every datagram straight back with the DNS QR bit set, so a DNS load generator
 * counts it as an answer; no server can answer faster through the same socket API. With --gso
 * consecutive datagrams to one peer go back as one UDP GSO message, the ceiling for a server
 * that does the same. Each of --threads threads owns one SO_REUSEPORT socket; the process
 * exits after --seconds. */
#include "bench_util.h"

#include <getopt.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_BATCH   256
#define MAX_THREADS 64
#define BUF_LEN     4096
/* UDP GSO: at most 64 segments a message, each small enough for any MTU. */
#define GSO_SEGS 64
#define GSO_SEG  1232

struct worker {
    pthread_t tid;
    int fd;
    int batch;
    bool gso;
    uint64_t deadline_ns;
    uint64_t received, sent;
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: mmsg_echo --listen ADDR [options]\n"
            "Echoes every UDP datagram back with the DNS QR bit set (the UDP ceiling).\n"
            "  -a, --listen ADDR   address to bind (IPv4 or IPv6), required\n"
            "  -p, --port P        port (5399)\n"
            "  -l, --seconds S     lifetime, 1..3600 (60)\n"
            "  -T, --threads N     threads, each with its own SO_REUSEPORT socket (1)\n"
            "  -b, --batch B       messages per recvmmsg/sendmmsg, 1..256 (64)\n"
            "  -g, --gso           send consecutive datagrams to one peer as one UDP GSO message\n"
            "  -h, --help, -V, --version\n");
}

/* Groups the n received datagrams into out[]: a run to one peer, all as long as the first but
 * the last, becomes one message with a UDP_SEGMENT control message. Returns the count. */
static int gso_group(struct mmsghdr *in, struct iovec *iov, int n, struct mmsghdr *out,
                     uint8_t (*ctl)[CMSG_SPACE(sizeof(uint16_t))])
{
    int no = 0;
    for (int a = 0; a < n;) {
        const struct msghdr *p = &in[a].msg_hdr;
        size_t seg = iov[a].iov_len;
        int b = a + 1;
        while (seg <= GSO_SEG && b < n && b - a < GSO_SEGS && iov[b].iov_len <= seg &&
               in[b].msg_hdr.msg_namelen == p->msg_namelen &&
               memcmp(in[b].msg_hdr.msg_name, p->msg_name, p->msg_namelen) == 0) {
            if (iov[b++].iov_len < seg)
                break;
        }
        out[no].msg_hdr = (struct msghdr){.msg_name = p->msg_name,
                                          .msg_namelen = p->msg_namelen,
                                          .msg_iov = &iov[a],
                                          .msg_iovlen = (size_t)(b - a)};
        if (b - a > 1) {
            struct msghdr *m = &out[no].msg_hdr;
            m->msg_control = ctl[no];
            m->msg_controllen = sizeof ctl[no];
            struct cmsghdr *c = CMSG_FIRSTHDR(m);
            c->cmsg_level = SOL_UDP;
            c->cmsg_type = UDP_SEGMENT;
            c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
            uint16_t v = (uint16_t)seg;
            memcpy(CMSG_DATA(c), &v, sizeof v);
        }
        no++;
        a = b;
    }
    return no;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    static __thread struct mmsghdr msgs[MAX_BATCH];
    static __thread struct iovec iov[MAX_BATCH];
    static __thread struct sockaddr_storage peers[MAX_BATCH];
    static __thread uint8_t bufs[MAX_BATCH][BUF_LEN];
    static __thread struct mmsghdr out[MAX_BATCH];
    static __thread uint8_t ctl[MAX_BATCH][CMSG_SPACE(sizeof(uint16_t))];
    while (!bench_stop && bench_now_ns() < w->deadline_ns) {
        for (int i = 0; i < w->batch; i++) {
            iov[i].iov_base = bufs[i];
            iov[i].iov_len = BUF_LEN;
            msgs[i].msg_hdr = (struct msghdr){.msg_name = &peers[i],
                                              .msg_namelen = sizeof(peers[i]),
                                              .msg_iov = &iov[i],
                                              .msg_iovlen = 1};
        }
        /* Blocks for the first datagram (SO_RCVTIMEO bounds the wait so the lifetime is
         * checked), then takes whatever else is already queued. */
        int n = recvmmsg(w->fd, msgs, (unsigned)w->batch, MSG_WAITFORONE, NULL);
        if (n <= 0)
            continue;
        w->received += (uint64_t)n;
        for (int i = 0; i < n; i++) {
            if (msgs[i].msg_len >= 3)
                bufs[i][2] |= 0x80;
            iov[i].iov_len = msgs[i].msg_len;
        }
        struct mmsghdr *send = msgs;
        int nsend = n;
        if (w->gso) {
            nsend = gso_group(msgs, iov, n, out, ctl);
            send = out;
        }
        int done = 0;
        while (done < nsend) {
            int s = sendmmsg(w->fd, send + done, (unsigned)(nsend - done), 0);
            if (s <= 0)
                break;
            for (int i = done; i < done + s; i++)
                w->sent += send[i].msg_hdr.msg_iovlen;
            done += s;
        }
    }
    return NULL;
}

static int open_socket(const struct sockaddr_storage *ss, int sslen, const char *addr,
                       unsigned port)
{
    int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "mmsg_echo: socket: %s\n", strerror(errno));
        return -errno;
    }
    int one = 1;
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    bench_big_buffers(fd);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
        fprintf(stderr, "mmsg_echo: setsockopt: %s\n", strerror(errno));
        close(fd);
        return -EINVAL;
    }
    if (bind(fd, (const struct sockaddr *)ss, (socklen_t)sslen) != 0) {
        int e = errno;
        fprintf(stderr, "mmsg_echo: bind %s:%u/udp: %s%s\n", addr, port, strerror(e),
                e == EADDRNOTAVAIL ? " (is the address on lo?)" : "");
        close(fd);
        return -e;
    }
    return fd;
}

/* The command line; returns 0, or the exit status for a bad one. */
struct args {
    const char *addr;
    long port, seconds, threads, batch;
    bool gso;
};

static int parse_args(int argc, char **argv, struct args *a)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'a'},
        {"port", required_argument, NULL, 'p'},
        {"seconds", required_argument, NULL, 'l'},
        {"threads", required_argument, NULL, 'T'},
        {"batch", required_argument, NULL, 'b'},
        {"gso", no_argument, NULL, 'g'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    *a = (struct args){.port = 5399, .seconds = 60, .threads = 1, .batch = 64};
    int c;
    while ((c = getopt_long(argc, argv, "a:p:l:T:b:ghV", longopts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'a':
            a->addr = optarg;
            break;
        case 'p':
            bad = bench_parse_long(optarg, 1, 65535, &a->port);
            break;
        case 'l':
            bad = bench_parse_long(optarg, 1, 3600, &a->seconds);
            break;
        case 'T':
            bad = bench_parse_long(optarg, 1, MAX_THREADS, &a->threads);
            break;
        case 'b':
            bad = bench_parse_long(optarg, 1, MAX_BATCH, &a->batch);
            break;
        case 'g':
            a->gso = true;
            break;
        default:
            (void)bench_opt_other("mmsg_echo", c, usage);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "mmsg_echo: bad value for -%c: \"%s\"\n", c, optarg);
            return 2;
        }
    }
    if (a->addr == NULL || optind != argc) {
        usage(stderr);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct args a;
    int bad = parse_args(argc, argv, &a);
    if (bad)
        return bad;
    const char *addr = a.addr;
    long port = a.port, seconds = a.seconds, threads = a.threads, batch = a.batch;
    bool gso = a.gso;
    struct sockaddr_storage ss;
    int sslen = bench_parse_addr(addr, (unsigned)port, &ss);
    if (sslen < 0) {
        fprintf(stderr, "mmsg_echo: bad address \"%s\"\n", addr);
        return 2;
    }
    bench_catch_signals(false);

    static struct worker workers[MAX_THREADS];
    uint64_t deadline = bench_now_ns() + (uint64_t)seconds * 1000000000ull;
    int rc = 1, opened = 0, started = 0;
    for (; opened < threads; opened++) {
        workers[opened].fd = open_socket(&ss, sslen, addr, (unsigned)port);
        if (workers[opened].fd < 0)
            goto out;
        workers[opened].batch = (int)batch;
        workers[opened].gso = gso;
        workers[opened].deadline_ns = deadline;
    }
    fprintf(stderr, "mmsg_echo: listening on %s:%ld/udp with %ld thread(s) for %ld s\n", addr, port,
            threads, seconds);
    for (; started < threads; started++) {
        if (pthread_create(&workers[started].tid, NULL, worker_main, &workers[started]) != 0) {
            fprintf(stderr, "mmsg_echo: pthread_create failed\n");
            bench_stop = 1;
            goto out;
        }
    }
    rc = 0;
out:;
    uint64_t rx = 0, tx = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(workers[i].tid, NULL);
        rx += workers[i].received;
        tx += workers[i].sent;
    }
    for (int i = 0; i < opened; i++)
        close(workers[i].fd);
    if (started > 0)
        printf("received %llu sent %llu\n", (unsigned long long)rx, (unsigned long long)tx);
    return rc;
}
