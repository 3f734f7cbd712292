/* udp_flows: sends one echo request (docs/formats.md "Echo", "probe\n") from each of N
 * UDP source ports to ADDR:PORT and prints "SPORT NODE" per flow, NODE being
 * the identity that answered or "none" after the timeout. The topology tests
 * use it to see how a router spreads flows over the nodes. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ah/addr.h"
#include "ah/clock.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: udp_flows [-t TIMEOUT_MS] ADDR[:PORT] FIRST_SPORT COUNT\n"
               "  prints \"SPORT NODE\" for each source port FIRST_SPORT..+COUNT-1\n");
}

/* The flows: one socket per source port first..first+n-1, and the node each heard from. */
struct flows {
    struct ah_addr dst;
    long timeout_ms, first, n;
    int *fds;
    char (*node)[64];
    struct pollfd *p;
};

/* Reads the options and arguments; returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct flows *f)
{
    static const struct option opts[] = {{"timeout", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"version", no_argument, NULL, 'V'},
                                         {NULL, 0, NULL, 0}};
    int c;

    f->timeout_ms = 1000;
    while ((c = getopt_long(argc, argv, "t:hV", opts, NULL)) != -1) {
        if (c == 't')
            f->timeout_ms = strtol(optarg, NULL, 10);
        else if (c == 'h') {
            usage(stdout);
            return 0;
        } else if (c == 'V') {
            printf("udp_flows %s\n", AH_VERSION);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (argc - optind != 3) {
        usage(stderr);
        return 2;
    }
    if (ah_addr_parse(argv[optind], 7, &f->dst) < 0) {
        fprintf(stderr, "udp_flows: bad address \"%s\"\n", argv[optind]);
        return 2;
    }
    f->first = strtol(argv[optind + 1], NULL, 10);
    f->n = strtol(argv[optind + 2], NULL, 10);
    if (f->first < 1024 || f->n < 1 || f->n > 4096 || f->first + f->n > 65536) {
        usage(stderr);
        return 2;
    }
    return -1;
}

/* Binds, connects and sends the request on every flow; returns 0 or 1 after the message. */
static int open_flows(struct flows *f)
{
    int family = ah_addr_family(&f->dst);
    for (long i = 0; i < f->n; i++) {
        struct ah_addr src;
        memset(&src, 0, sizeof(src));
        src.ss.ss_family = (sa_family_t)family;
        src.len = f->dst.len;
        ah_addr_set_port(&src, (uint16_t)(f->first + i));
        snprintf(f->node[i], sizeof(f->node[i]), "none");
        f->fds[i] = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int one = 1;
        if (f->fds[i] < 0 ||
            setsockopt(f->fds[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(f->fds[i], (struct sockaddr *)&src.ss, src.len) < 0 ||
            connect(f->fds[i], (struct sockaddr *)&f->dst.ss, f->dst.len) < 0 ||
            send(f->fds[i], "probe\n", 6, 0) != 6) {
            fprintf(stderr, "udp_flows: source port %ld: %s\n", f->first + i, strerror(errno));
            return 1;
        }
        f->p[i].fd = f->fds[i];
        f->p[i].events = POLLIN;
    }
    return 0;
}

/* Takes the first answer of each flow until all have one or the timeout passes. */
static void collect(struct flows *f)
{
    uint64_t end = ah_clock_mono_ns() + (uint64_t)f->timeout_ms * 1000000;
    for (long left = f->n; left > 0;) {
        uint64_t now = ah_clock_mono_ns();
        if (now >= end)
            break;
        int r = poll(f->p, (nfds_t)f->n, (int)((end - now) / 1000000) + 1);
        if (r < 0 && errno != EINTR)
            break;
        for (long i = 0; r > 0 && i < f->n; i++) {
            if (!(f->p[i].revents & POLLIN))
                continue;
            char buf[600];
            ssize_t len = recv(f->fds[i], buf, sizeof(buf) - 1, 0);
            f->p[i].fd = -1; /* one answer per flow */
            left--;
            if (len <= 0)
                continue;
            buf[len] = 0;
            size_t w = strcspn(buf, " \n");
            snprintf(f->node[i], sizeof(f->node[i]), "%.*s", (int)(w < 63 ? w : 63), buf);
        }
    }
}

int main(int argc, char **argv)
{
    struct flows f;
    memset(&f, 0, sizeof(f));
    int rc = parse_args(argc, argv, &f);
    if (rc >= 0)
        return rc;
    f.fds = calloc((size_t)f.n, sizeof(*f.fds));
    f.node = calloc((size_t)f.n, sizeof(*f.node));
    f.p = calloc((size_t)f.n, sizeof(*f.p));
    if (!f.fds || !f.node || !f.p)
        return 1;
    rc = open_flows(&f);
    if (rc == 0) {
        collect(&f);
        for (long i = 0; i < f.n; i++)
            printf("%ld %s\n", f.first + i, f.node[i]);
    }
    for (long i = 0; i < f.n; i++)
        if (f.fds[i] > 0)
            close(f.fds[i]);
    free(f.fds);
    free(f.node);
    free(f.p);
    return rc;
}
