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

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"timeout", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"version", no_argument, NULL, 'V'},
                                         {NULL, 0, NULL, 0}};
    long timeout_ms = 1000;
    int c;

    while ((c = getopt_long(argc, argv, "t:hV", opts, NULL)) != -1) {
        if (c == 't')
            timeout_ms = strtol(optarg, NULL, 10);
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
    struct ah_addr dst;
    if (ah_addr_parse(argv[optind], 7, &dst) < 0) {
        fprintf(stderr, "udp_flows: bad address \"%s\"\n", argv[optind]);
        return 2;
    }
    long first = strtol(argv[optind + 1], NULL, 10), n = strtol(argv[optind + 2], NULL, 10);
    if (first < 1024 || n < 1 || n > 4096 || first + n > 65536) {
        usage(stderr);
        return 2;
    }
    int *fds = calloc((size_t)n, sizeof(*fds));
    char(*node)[64] = calloc((size_t)n, sizeof(*node));
    struct pollfd *p = calloc((size_t)n, sizeof(*p));
    if (!fds || !node || !p)
        return 1;
    int family = ah_addr_family(&dst), rc = 0;
    for (long i = 0; i < n; i++) {
        struct ah_addr src;
        memset(&src, 0, sizeof(src));
        src.ss.ss_family = (sa_family_t)family;
        src.len = dst.len;
        ah_addr_set_port(&src, (uint16_t)(first + i));
        snprintf(node[i], sizeof(node[i]), "none");
        fds[i] = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fds[i] < 0 || setsockopt(fds[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(fds[i], (struct sockaddr *)&src.ss, src.len) < 0 ||
            connect(fds[i], (struct sockaddr *)&dst.ss, dst.len) < 0 ||
            send(fds[i], "probe\n", 6, 0) != 6) {
            fprintf(stderr, "udp_flows: source port %ld: %s\n", first + i, strerror(errno));
            rc = 1;
            goto out;
        }
        p[i].fd = fds[i];
        p[i].events = POLLIN;
    }
    uint64_t end = ah_clock_mono_ns() + (uint64_t)timeout_ms * 1000000;
    for (long left = n; left > 0;) {
        uint64_t now = ah_clock_mono_ns();
        if (now >= end)
            break;
        int r = poll(p, (nfds_t)n, (int)((end - now) / 1000000) + 1);
        if (r < 0 && errno != EINTR)
            break;
        for (long i = 0; r > 0 && i < n; i++) {
            if (!(p[i].revents & POLLIN))
                continue;
            char buf[600];
            ssize_t len = recv(fds[i], buf, sizeof(buf) - 1, 0);
            p[i].fd = -1; /* one answer per flow */
            left--;
            if (len <= 0)
                continue;
            buf[len] = 0;
            size_t w = strcspn(buf, " \n");
            snprintf(node[i], sizeof(node[i]), "%.*s", (int)(w < 63 ? w : 63), buf);
        }
    }
    for (long i = 0; i < n; i++)
        printf("%ld %s\n", first + i, node[i]);
out:
    for (long i = 0; i < n; i++)
        if (fds[i] > 0)
            close(fds[i]);
    free(fds);
    free(node);
    free(p);
    return rc;
}
