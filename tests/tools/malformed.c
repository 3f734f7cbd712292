/* Test client: a malformed-input battery against a DNS server, after which
 * the server must still answer correctly.
 *   malformed udp ADDR PORT IDENTITY           random bytes, truncated
 *       headers and questions, compression loops, bad labels, bad EDNS,
 *       responses, bit flips; every reply must be a well-formed response
 *   malformed tcp ADDR PORT IDENTITY IDLE_MS   the same framed on TCP, then
 *       a length prefix of 65535 with 3 bytes: silence, then a close by the
 *       server's idle timeout (IDLE_MS) and a zero-length frame
 *   malformed halfopen ADDR PORT IDENTITY N    N connections left with a
 *       partial message or nothing, while UDP and TCP queries still work
 * Every mode ends by checking a UDP and a TCP CH TXT hostname.bind answer.
 * Exit 0 ok, 1 failure, 2 usage. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ah/addr.h"
#include "ah/ident.h"
#include "tool_util.h"

#define CASES    4000
#define FAMILIES 16

static struct ah_addr target;
static const char *identity;
static uint32_t rng_state = 0x2545F491u;

static uint32_t rng(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

static int valid_query(uint16_t id, uint8_t *buf, size_t cap)
{
    struct ah_ident_query q;
    ah_ident_query_parse("hostname.bind", &q);
    return ah_ident_query_build(&q, id, buf, cap);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static size_t header(uint8_t *b, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns,
                     uint16_t ar)
{
    put16(b, id);
    put16(b + 2, flags);
    put16(b + 4, qd);
    put16(b + 6, an);
    put16(b + 8, ns);
    put16(b + 10, ar);
    return 12;
}

/* The start of the EDNS cases: a header announcing one question and one additional record,
 * and the question CH TXT hostname.bind; returns its length (the OPT record follows). */
static size_t opt_query(uint8_t *b, uint16_t id)
{
    size_t n = header(b, id, 0, 1, 0, 0, 1);
    memcpy(b + n,
           "\x08hostname\x04"
           "bind\x00\x00\x10\x00\x03",
           20);
    return n + 20;
}

/* Ends a question after its name at b + n with type TXT, class CH; returns the length. */
static size_t txt_ch(uint8_t *b, size_t n)
{
    put16(b + n, 16);
    put16(b + n + 2, 3);
    return n + 4;
}

/* The case generators, one per family: each builds its case with the message id into b
 * (cap bytes) and returns its length. They draw from rng() in a fixed order, so that a
 * run's cases are always the same. */

static size_t random_bytes(uint16_t id, uint8_t *b, size_t cap)
{
    (void)id;
    size_t n = 1 + rng() % 600;
    for (size_t i = 0; i < n && i < cap; i++)
        b[i] = (uint8_t)rng();
    return n < cap ? n : cap;
}

/* A valid query cut anywhere. */
static size_t cut_query(uint16_t id, uint8_t *b, size_t cap)
{
    int vlen = valid_query(id, b, cap);
    return vlen > 0 ? rng() % (unsigned)vlen : 0;
}

/* A header claiming a question that is not there. */
static size_t missing_question(uint16_t id, uint8_t *b, size_t cap)
{
    (void)cap;
    return header(b, id, 0, 1, 0, 0, 0);
}

/* A name that is a pointer to itself. */
static size_t self_pointer(uint16_t id, uint8_t *b, size_t cap)
{
    (void)cap;
    size_t n = header(b, id, 0, 1, 0, 0, 0);
    b[n++] = 0xc0;
    b[n++] = 12;
    return txt_ch(b, n);
}

/* A label, then a pointer back to it: an endless name. */
static size_t endless_name(uint16_t id, uint8_t *b, size_t cap)
{
    (void)cap;
    size_t n = header(b, id, 0, 1, 0, 0, 0);
    b[n++] = 1;
    b[n++] = 'a';
    b[n++] = 0xc0;
    b[n++] = 12;
    return txt_ch(b, n);
}

/* Two pointers pointing at each other, plus a forward pointer. */
static size_t pointer_pair(uint16_t id, uint8_t *b, size_t cap)
{
    (void)cap;
    size_t n = header(b, id, 0, 2, 0, 0, 0);
    b[n++] = 0xc0;
    b[n++] = 18;
    n = txt_ch(b, n);
    b[n++] = 0xc0;
    b[n++] = 12;
    b[n++] = 0xc0;
    b[n++] = 0xff;
    return n;
}

/* A response (QR=1): must be ignored. */
static size_t response(uint16_t id, uint8_t *b, size_t cap)
{
    int vlen = valid_query(id, b, cap);
    b[2] |= 0x80;
    return (size_t)vlen;
}

/* Opcode UPDATE / reserved opcodes. */
static size_t bad_opcode(uint16_t id, uint8_t *b, size_t cap)
{
    int vlen = valid_query(id, b, cap);
    b[2] = (uint8_t)((b[2] & 0x87) | ((5 + rng() % 10) << 3));
    return (size_t)vlen;
}

/* No question. */
static size_t no_question(uint16_t id, uint8_t *b, size_t cap)
{
    (void)cap;
    return header(b, id, 0, 0, 0, 0, 0);
}

/* Two questions, one present. */
static size_t two_questions(uint16_t id, uint8_t *b, size_t cap)
{
    int vlen = valid_query(id, b, cap);
    put16(b + 4, 2);
    return (size_t)vlen;
}

/* Label types 01 and 10 (reserved / extended). */
static size_t bad_label_type(uint16_t id, uint8_t *b, size_t cap)
{
    (void)cap;
    size_t n = header(b, id, 0, 1, 0, 0, 0);
    b[n++] = (rng() & 1) ? 0x40 : 0x80;
    b[n++] = 'x';
    b[n++] = 0;
    return txt_ch(b, n);
}

/* A name longer than 255 bytes. */
static size_t long_name(uint16_t id, uint8_t *b, size_t cap)
{
    (void)cap;
    size_t n = header(b, id, 0, 1, 0, 0, 0);
    for (int l = 0; l < 6; l++) {
        b[n++] = 63;
        memset(b + n, 'z', 63);
        n += 63;
    }
    b[n++] = 0;
    return txt_ch(b, n);
}

/* An OPT record whose rdata runs past the end. */
static size_t opt_past_end(uint16_t id, uint8_t *b, size_t cap)
{
    (void)cap;
    size_t n = opt_query(b, id);
    memcpy(b + n, "\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x01\x00", 11);
    return n + 11;
}

/* An NSID option with a length past the OPT rdata. */
static size_t nsid_past_opt(uint16_t id, uint8_t *b, size_t cap)
{
    (void)cap;
    size_t n = opt_query(b, id);
    memcpy(b + n, "\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x04\x00\x03\x00\x40", 15);
    return n + 15;
}

/* A valid query with a few bits flipped. */
static size_t bit_flips(uint16_t id, uint8_t *b, size_t cap)
{
    int vlen = valid_query(id, b, cap);
    for (int f = 0; f < 1 + (int)(rng() % 3); f++)
        b[rng() % (unsigned)vlen] ^= (uint8_t)(1u << (rng() % 8));
    return (size_t)vlen;
}

/* Counts promising records that are not there. */
static size_t missing_records(uint16_t id, uint8_t *b, size_t cap)
{
    (void)cap;
    return header(b, id, 0, 1, 65535, 65535, 65535);
}

static size_t (*const families[FAMILIES])(uint16_t id, uint8_t *b, size_t cap) = {
    random_bytes, cut_query,     missing_question, self_pointer,    endless_name,   pointer_pair,
    response,     bad_opcode,    no_question,      two_questions,   bad_label_type, long_name,
    opt_past_end, nsid_past_opt, bit_flips,        missing_records,
};

/* Builds malformed case k into buf; returns its length. */
static size_t gen_case(unsigned k, uint8_t *b, size_t cap)
{
    uint16_t id = (uint16_t)rng();
    return families[k % FAMILIES](id, b, cap);
}

/* A reply to garbage must at least be a response with a header. */
static bool reply_ok(const uint8_t *r, size_t n)
{
    unsigned rcode;
    if (n < 12 || !(r[2] & 0x80))
        return false;
    rcode = r[3] & 0x0f;
    return rcode == 0 || rcode == 1 || rcode == 3 || rcode == 4 || rcode == 5;
}

static int open_sock(int type, int timeout_ms)
{
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    int fd = socket(ah_addr_family(&target), type, 0);
    if (fd < 0)
        return -errno;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&target.ss, target.len) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

/* The closing check: one UDP and one TCP identity answer. */
static int check_answers(const char *when)
{
    struct ah_ident_query q;
    struct ah_ident_reply r;
    uint8_t buf[4096];
    int fails = 0;
    ah_ident_query_parse("hostname.bind", &q);
    for (int tcp = 0; tcp < 2; tcp++) {
        int fd = open_sock(tcp ? SOCK_STREAM : SOCK_DGRAM, 2000);
        int len = valid_query(4242, buf + 2, sizeof buf - 2);
        ssize_t n = -1;
        if (fd >= 0) {
            put16(buf, (uint16_t)len);
            if (tcp) {
                uint8_t hdr[2];
                if (write(fd, buf, (size_t)len + 2) == len + 2 && tool_read_full(fd, hdr, 2) == 0) {
                    n = hdr[0] << 8 | hdr[1];
                    if (tool_read_full(fd, buf, (size_t)n) < 0)
                        n = -1;
                }
            } else if (send(fd, buf + 2, (size_t)len, 0) == len) {
                n = recv(fd, buf, sizeof buf, 0);
            }
            close(fd);
        }
        if (n <= 0 || ah_ident_reply_parse(&q, buf, (size_t)n, &r) < 0 || r.id != 4242 ||
            !r.has_identity || strcmp(r.identity, identity) != 0) {
            fprintf(stderr, "malformed: %s: no correct %s answer\n", when, tcp ? "TCP" : "UDP");
            fails++;
        } else {
            printf("malformed: %s: %s answer \"%s\" ok\n", when, tcp ? "TCP" : "UDP", r.identity);
        }
    }
    return fails;
}

static int drain_udp(int fd, int wait_ms, unsigned *replies, unsigned *bad)
{
    uint8_t buf[65536];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, wait_ms) > 0) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0)
            break;
        (*replies)++;
        if (!reply_ok(buf, (size_t)n))
            (*bad)++;
    }
    return 0;
}

static int run_udp(void)
{
    uint8_t buf[2048];
    unsigned replies = 0, bad = 0;
    int fd = open_sock(SOCK_DGRAM, 1000);
    if (fd < 0) {
        fprintf(stderr, "malformed: udp socket: %s\n", strerror(-fd));
        return 1;
    }
    for (unsigned k = 0; k < CASES; k++) {
        size_t n = gen_case(k, buf, sizeof buf);
        (void)send(fd, buf, n, 0);
        if (k % 32 == 31)
            drain_udp(fd, 5, &replies, &bad);
    }
    drain_udp(fd, 300, &replies, &bad);
    close(fd);
    printf("malformed: udp: %u cases sent, %u replies, %u not well-formed\n", CASES, replies, bad);
    return (bad > 0) + check_answers("after the UDP battery");
}

/* Sends cases framed on TCP, 50 per connection, and reads what comes back
 * until the server is quiet or closes. */
static int run_tcp_battery(void)
{
    uint8_t out[50 * 2100], in[65536 + 2];
    unsigned replies = 0, bad = 0, conns = 0;
    for (unsigned k = 0; k < CASES / 4;) {
        size_t olen = 0;
        size_t ilen = 0;
        int fd = open_sock(SOCK_STREAM, 300);
        if (fd < 0) {
            fprintf(stderr, "malformed: tcp connect: %s\n", strerror(-fd));
            return 1;
        }
        conns++;
        for (int j = 0; j < 50 && k < CASES / 4; j++, k++) {
            size_t n = gen_case(k, out + olen + 2, 2048);
            if (n == 0)
                continue; /* a zero-length frame has its own test */
            put16(out + olen, (uint16_t)n);
            olen += 2 + n;
        }
        (void)!write(fd, out, olen);
        for (;;) {
            ssize_t n = read(fd, in + ilen, sizeof in - ilen);
            if (n <= 0)
                break;
            ilen += (size_t)n;
            while (ilen >= 2 && ilen >= 2u + (in[0] << 8 | in[1])) {
                size_t m = (size_t)(in[0] << 8 | in[1]);
                replies++;
                if (!reply_ok(in + 2, m))
                    bad++;
                memmove(in, in + 2 + m, ilen - 2 - m);
                ilen -= 2 + m;
            }
        }
        close(fd);
    }
    printf("malformed: tcp: %u cases on %u connections, %u replies, %u not well-formed\n",
           CASES / 4, conns, replies, bad);
    return bad > 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A length prefix promising 65535 bytes, then 3 bytes, then silence: the
 * server must wait (no reply, no crash) until its idle timeout closes. */
static int run_tcp_prefix(int idle_ms)
{
    uint8_t b[8] = {0xff, 0xff, 0, 1, 2};
    long long start;
    ssize_t n;
    int fails = 0;
    int fd = open_sock(SOCK_STREAM, 1000);
    if (fd < 0)
        return 1;
    start = now_ms();
    (void)!write(fd, b, 5);
    n = read(fd, b, sizeof b);
    if (!(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) && now_ms() - start < idle_ms) {
        fprintf(stderr, "malformed: prefix 65535: got %zd within 1 s, want silence\n", n);
        fails++;
    }
    struct timeval tv = {.tv_sec = idle_ms / 1000 + 3};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    n = read(fd, b, sizeof b);
    if (n != 0 && !(n < 0 && errno == ECONNRESET)) {
        fprintf(stderr, "malformed: prefix 65535: not closed by the idle timeout (%zd)\n", n);
        fails++;
    } else {
        printf("malformed: prefix 65535 + 3 bytes: silence, closed after %lld ms (idle %d)\n",
               now_ms() - start, idle_ms);
    }
    close(fd);

    /* A zero-length frame: the server may close, but must not answer. */
    fd = open_sock(SOCK_STREAM, 500);
    if (fd < 0)
        return fails + 1;
    (void)!write(fd, "\0\0", 2);
    n = read(fd, b, sizeof b);
    if (n > 0) {
        fprintf(stderr, "malformed: zero-length frame got a %zd-byte reply\n", n);
        fails++;
    }
    close(fd);
    return fails;
}

static int run_halfopen(int count)
{
    struct rlimit rl;
    int *fds = calloc((size_t)count, sizeof *fds);
    int fails = 0, opened = 0;
    if (fds == NULL)
        return 1;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)count + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    for (int i = 0; i < count; i++) {
        fds[i] = open_sock(SOCK_STREAM, 1000);
        if (fds[i] < 0) {
            fprintf(stderr, "malformed: halfopen connection %d: %s\n", i, strerror(-fds[i]));
            fails++;
            break;
        }
        opened++;
        /* Odd ones send a prefix and part of a message, even ones nothing. */
        if (i % 2)
            (void)!write(fds[i], "\x00\x20\x12\x34\x01", 5);
    }
    printf("malformed: halfopen: %d connections open\n", opened);
    fails += check_answers("with the half-open connections");
    /* The server must still hold them: none was closed. */
    int closed = 0;
    for (int i = 0; i < opened; i++) {
        struct pollfd p = {.fd = fds[i], .events = POLLIN};
        if (poll(&p, 1, 0) > 0)
            closed++;
    }
    if (closed > 0) {
        fprintf(stderr, "malformed: halfopen: %d connections got data or EOF early\n", closed);
        fails++;
    }
    for (int i = 0; i < opened; i++)
        close(fds[i]);
    free(fds);
    return fails;
}

int main(int argc, char **argv)
{
    uint16_t port;
    int fails;

    if (argc < 5 || ah_port_parse(argv[3], &port) < 0 ||
        ah_addr_parse(argv[2], port, &target) < 0) {
        fprintf(stderr, "usage: malformed udp|tcp|halfopen ADDR PORT IDENTITY [IDLE_MS|N]\n");
        return 2;
    }
    identity = argv[4];
    if (strcmp(argv[1], "udp") == 0) {
        fails = run_udp();
    } else if (strcmp(argv[1], "tcp") == 0 && argc == 6) {
        fails = run_tcp_battery();
        fails += run_tcp_prefix(atoi(argv[5]));
        fails += check_answers("after the TCP battery");
    } else if (strcmp(argv[1], "halfopen") == 0 && argc == 6 && atoi(argv[5]) > 0) {
        fails = run_halfopen(atoi(argv[5]));
    } else {
        fprintf(stderr, "usage: malformed udp|tcp|halfopen ADDR PORT IDENTITY [IDLE_MS|N]\n");
        return 2;
    }
    return fails ? 1 : 0;
}
