/* Small helpers shared by the bench/ tools (flood, mmsg_echo, tcp_load, tcp_hold): address
 * parsing, bounded number parsing, the common options and signals, clocks, socket set-up
 * and the hand-built DNS query they all send. The
 * tools are plain libc on purpose so that they measure the kernel and the server, not us;
 * everything here is static inline because each C file in bench/ is its own program. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Parses a decimal integer in [min, max]; returns 0 or -EINVAL. */
static inline int bench_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

static inline int bench_parse_port(const char *s, unsigned *out)
{
    long v;
    if (bench_parse_long(s, 1, 65535, &v) != 0)
        return -EINVAL;
    *out = (unsigned)v;
    return 0;
}

/* What every tool's option loop does with an option that is none of its own: --help and
 * --version print and exit 0, anything else gets the usage on stderr and -EINVAL. */
static inline int bench_opt_other(const char *prog, int c, void (*usage)(FILE *))
{
    if (c == 'h') {
        usage(stdout);
        exit(0);
    }
    if (c == 'V') {
        printf("%s %s\n", prog, AH_VERSION);
        exit(0);
    }
    usage(stderr);
    return -EINVAL;
}

/* Says that option c (a long-only option when it is no letter) got a value it does not take;
 * returns -EINVAL. */
static inline int bench_opt_bad(const char *prog, int c, const char *value)
{
    fprintf(stderr, "%s: bad value for option -%c: \"%s\"\n", prog, c < 32 || c > 127 ? '-' : c,
            value);
    return -EINVAL;
}

/* Set by SIGINT and SIGTERM once bench_catch_signals() ran; every tool's loops stop on it. */
static volatile sig_atomic_t bench_stop __attribute__((unused));

static inline void bench_on_signal(int sig)
{
    (void)sig;
    bench_stop = 1;
}

/* SIGINT and SIGTERM set bench_stop; with ignore_pipe SIGPIPE is ignored as well, so that a
 * write to a connection the server closed fails with EPIPE instead of ending the tool. */
static inline void bench_catch_signals(bool ignore_pipe)
{
    struct sigaction sa = {.sa_handler = bench_on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (ignore_pipe)
        signal(SIGPIPE, SIG_IGN);
}

/* The server a tool talks to and the query it sends: -s/--server, -p/--port, -n/--qname,
 * --qclass and --qtype, the same in every tool that takes them. */
struct bench_target {
    const char *server;
    unsigned port;
    const char *qname;
    uint16_t qclass, qtype;
};

/* Port 53 and CH TXT hostname.bind, what a tool sends unless told otherwise. */
#define BENCH_TARGET_DEFAULTS                                                                      \
    {                                                                                              \
        .port = 53, .qname = "hostname.bind", .qclass = 3, .qtype = 16                             \
    }

/* getopt_long values of the long-only query options, above every short option's letter. */
enum { BENCH_OPT_QCLASS = 0x100, BENCH_OPT_QTYPE };

/* The long options of struct bench_target for a tool's table: the server's pair, the query's
 * three, and the --help/--version pair with the table's end. */
#define BENCH_LONGOPTS_SERVER                                                                      \
    {"server", required_argument, NULL, 's'},                                                      \
    {                                                                                              \
        "port", required_argument, NULL, 'p'                                                       \
    }
#define BENCH_LONGOPTS_QUERY                                                                       \
    {"qname", required_argument, NULL, 'n'},                                                       \
        {"qclass", required_argument, NULL, BENCH_OPT_QCLASS},                                     \
    {                                                                                              \
        "qtype", required_argument, NULL, BENCH_OPT_QTYPE                                          \
    }
#define BENCH_LONGOPTS_END                                                                         \
    {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'},                         \
    {                                                                                              \
        NULL, 0, NULL, 0                                                                           \
    }

/* Fills ss from a numeric IPv4 or IPv6 address and a port; returns the sockaddr length or
 * -EINVAL. Brackets around IPv6 addresses are accepted. */
static inline int bench_parse_addr(const char *addr, unsigned port, struct sockaddr_storage *ss)
{
    char buf[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(addr);
    if (n >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, addr, n + 1);
    if (buf[0] == '[' && n > 2 && buf[n - 1] == ']') {
        memmove(buf, buf + 1, n - 2);
        buf[n - 2] = '\0';
    }
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, buf, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        return (int)sizeof(*sin);
    }
    if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        return (int)sizeof(*sin6);
    }
    return -EINVAL;
}

/* Fills ss from t's server and port; returns the sockaddr length, or -EINVAL after saying on
 * stderr that the address is bad. */
static inline int bench_target_addr(const char *prog, const struct bench_target *t,
                                    struct sockaddr_storage *ss)
{
    int sslen = bench_parse_addr(t->server, t->port, ss);
    if (sslen < 0)
        fprintf(stderr, "%s: bad server address \"%s\"\n", prog, t->server);
    return sslen;
}

/* DNS class/type names the tools accept besides plain numbers. */
static inline int bench_parse_rrclass(const char *s, uint16_t *out)
{
    long v;
    if (strcasecmp(s, "IN") == 0)
        *out = 1;
    else if (strcasecmp(s, "CH") == 0)
        *out = 3;
    else if (bench_parse_long(s, 0, 65535, &v) == 0)
        *out = (uint16_t)v;
    else
        return -EINVAL;
    return 0;
}

static inline int bench_parse_rrtype(const char *s, uint16_t *out)
{
    static const struct {
        const char *name;
        uint16_t val;
    } types[] = {{"A", 1}, {"NS", 2}, {"SOA", 6}, {"TXT", 16}, {"AAAA", 28}};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcasecmp(s, types[i].name) == 0) {
            *out = types[i].val;
            return 0;
        }
    }
    long v;
    if (bench_parse_long(s, 0, 65535, &v) != 0)
        return -EINVAL;
    *out = (uint16_t)v;
    return 0;
}

/* What a tool's option loop does with an option that is none of its own: the options of
 * struct bench_target go into t, --help and --version print and exit 0 (bench_opt_other),
 * and a bad value or an unknown option is said on stderr. Returns 0 or -EINVAL. */
static inline int bench_opt_target(const char *prog, int c, const char *arg, struct bench_target *t,
                                   void (*usage)(FILE *))
{
    int bad = 0;
    switch (c) {
    case 's':
        t->server = arg;
        break;
    case 'p':
        bad = bench_parse_port(arg, &t->port);
        break;
    case 'n':
        t->qname = arg;
        break;
    case BENCH_OPT_QCLASS:
        bad = bench_parse_rrclass(arg, &t->qclass);
        break;
    case BENCH_OPT_QTYPE:
        bad = bench_parse_rrtype(arg, &t->qtype);
        break;
    default:
        return bench_opt_other(prog, c, usage);
    }
    return bad != 0 ? bench_opt_bad(prog, c, arg) : 0;
}

/* Writes a one-question query (ID 0, no RD, no EDNS) for qname/qclass/qtype into out;
 * returns its length or -EINVAL for a bad name or a too small buffer. The message is so
 * simple (one question, no compression) that building it by hand is clearer than ldns. */
static inline int bench_build_query(const char *qname, uint16_t qclass, uint16_t qtype,
                                    uint8_t *out, size_t cap)
{
    if (cap < 12 + 1 + 4)
        return -EINVAL;
    memset(out, 0, 12);
    out[5] = 1; /* QDCOUNT = 1 */
    size_t pos = 12;
    const char *p = qname;
    while (*p != '\0') {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len == 0 || len > 63 || pos + 1 + len + 1 + 4 > cap || pos + 1 + len > 12 + 254)
            return -EINVAL;
        out[pos++] = (uint8_t)len;
        memcpy(out + pos, p, len);
        pos += len;
        p += len;
        if (*p == '.')
            p++;
    }
    out[pos++] = 0;
    out[pos++] = (uint8_t)(qtype >> 8);
    out[pos++] = (uint8_t)qtype;
    out[pos++] = (uint8_t)(qclass >> 8);
    out[pos++] = (uint8_t)qclass;
    return (int)pos;
}

/* The same query with the 2-byte length prefix of DNS over TCP (RFC 7766) in front; returns
 * the frame's length or -EINVAL. */
static inline int bench_build_tcp_query(const char *qname, uint16_t qclass, uint16_t qtype,
                                        uint8_t *frame, size_t cap)
{
    if (cap < 2)
        return -EINVAL;
    int qlen = bench_build_query(qname, qclass, qtype, frame + 2, cap - 2);
    if (qlen < 0)
        return qlen;
    frame[0] = (uint8_t)(qlen >> 8);
    frame[1] = (uint8_t)qlen;
    return qlen + 2;
}

/* Large socket buffers (4 MiB each way) for the UDP tools; they only matter when the other
 * side falls behind, so a failure (a lower net.core limit) is harmless and ignored. */
static inline void bench_big_buffers(int fd)
{
    int buf = 4 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
}

/* Starts a non-blocking TCP connect to ss; returns the socket (the connect possibly still in
 * progress: writable means done, bench_so_error() says how) or a negative errno. */
static inline int bench_tcp_connect(const struct sockaddr_storage *ss, socklen_t sslen)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (const struct sockaddr *)ss, sslen) != 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

/* The socket's pending error (SO_ERROR), 0 when none: how a non-blocking connect ended. */
static inline int bench_so_error(int fd)
{
    int err = 0;
    socklen_t sl = sizeof(err);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl);
    return err;
}

/* Raises RLIMIT_NOFILE to at least want descriptors (the hard limit too, which needs root);
 * returns 0 or a negative errno. */
static inline int bench_raise_nofile(rlim_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -errno;
    if (rl.rlim_cur >= want)
        return 0;
    if (rl.rlim_max < want)
        rl.rlim_max = want;
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -errno;
    return 0;
}

/* Reads VmRSS of a process in kB from /proc/PID/status; returns it or a negative errno. */
static inline long bench_rss_kb(long pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -errno;
    long kb = -ENOENT;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

#endif
