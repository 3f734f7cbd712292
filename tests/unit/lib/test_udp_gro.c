/* Unit tests for lib/udp_gro.c: the split of a coalesced buffer into its
 * datagrams, the UDP_GRO control message reader, and the kernel's side on
 * loopback: a UDP GSO send reaches a GRO socket as one buffer that splits
 * back into the datagrams sent. */
#include "ah/udp_gro.h"
#include "tests/unit/check_main.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <unistd.h>

/* Splits len bytes with segment size seg into lens[], returns the count. */
static unsigned split(size_t len, size_t seg, size_t *lens, unsigned max)
{
    size_t off = 0;
    unsigned n = 0;

    do {
        size_t d = ah_udp_gro_next(len, seg, off);
        ck_assert_uint_lt(n, max);
        lens[n++] = d;
        off += d;
    } while (off < len);
    return n;
}

START_TEST(split_equal)
{
    size_t lens[8];
    ck_assert_uint_eq(split(162, 54, lens, 8), 3);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(lens[i], 54);
}
END_TEST

START_TEST(split_shorter_last)
{
    size_t lens[8];
    ck_assert_uint_eq(split(148, 54, lens, 8), 3);
    ck_assert_uint_eq(lens[0], 54);
    ck_assert_uint_eq(lens[1], 54);
    ck_assert_uint_eq(lens[2], 40);
}
END_TEST

START_TEST(split_single)
{
    size_t lens[8];
    /* No control message: one datagram, however long. */
    ck_assert_uint_eq(split(1500, 0, lens, 8), 1);
    ck_assert_uint_eq(lens[0], 1500);
    /* A segment size above the length: one datagram too. */
    ck_assert_uint_eq(split(40, 54, lens, 8), 1);
    ck_assert_uint_eq(lens[0], 40);
    /* An empty datagram is visited once, with length 0. */
    ck_assert_uint_eq(split(0, 0, lens, 8), 1);
    ck_assert_uint_eq(lens[0], 0);
    ck_assert_uint_eq(split(0, 54, lens, 8), 1);
    ck_assert_uint_eq(lens[0], 0);
}
END_TEST

START_TEST(split_bounds)
{
    size_t lens[200];
    /* A 1-byte segment size over a full buffer: every byte a datagram. */
    ck_assert_uint_eq(split(128, 1, lens, 200), 128);
    ck_assert_uint_eq(ah_udp_gro_next(128, 1, 128), 0);
    ck_assert_uint_eq(ah_udp_gro_next(128, 1, 500), 0);
    ck_assert_uint_eq(ah_udp_gro_next(65507, 1232, 65507 - 215), 215);
}
END_TEST

static void put_cmsg(struct msghdr *m, void *buf, size_t space, int level, int type, int v)
{
    memset(buf, 0, space);
    m->msg_control = buf;
    m->msg_controllen = space;
    struct cmsghdr *c = CMSG_FIRSTHDR(m);
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(sizeof(v));
    memcpy(CMSG_DATA(c), &v, sizeof(v));
}

START_TEST(cmsg_reader)
{
    union {
        char buf[AH_UDP_GRO_CMSG_SPACE * 2];
        struct cmsghdr align;
    } u;
    struct msghdr m = {0};

    ck_assert_uint_eq(ah_udp_gro_size(&m), 0);
    put_cmsg(&m, u.buf, AH_UDP_GRO_CMSG_SPACE, SOL_UDP, UDP_GRO, 54);
    ck_assert_uint_eq(ah_udp_gro_size(&m), 54);
    put_cmsg(&m, u.buf, AH_UDP_GRO_CMSG_SPACE, SOL_UDP, UDP_GRO, -1);
    ck_assert_uint_eq(ah_udp_gro_size(&m), 0);
    /* Another level or type is not a segment size. */
    put_cmsg(&m, u.buf, AH_UDP_GRO_CMSG_SPACE, SOL_SOCKET, UDP_GRO, 54);
    ck_assert_uint_eq(ah_udp_gro_size(&m), 0);
    put_cmsg(&m, u.buf, AH_UDP_GRO_CMSG_SPACE, SOL_UDP, UDP_SEGMENT, 54);
    ck_assert_uint_eq(ah_udp_gro_size(&m), 0);
    /* A message cut short is not read past its end. */
    put_cmsg(&m, u.buf, AH_UDP_GRO_CMSG_SPACE, SOL_UDP, UDP_GRO, 54);
    CMSG_FIRSTHDR(&m)->cmsg_len = CMSG_LEN(2);
    ck_assert_uint_eq(ah_udp_gro_size(&m), 0);
}
END_TEST

/* Three datagrams of 100, 100 and 30 bytes sent as one UDP GSO message to a
 * GRO socket on 127.0.0.1 come back as one buffer of 230 bytes with a
 * segment size of 100, and split into the same three. */
START_TEST(kernel_coalesces)
{
    int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    uint8_t out[230], in[AH_UDP_GRO_BUF];
    union {
        char buf[AH_UDP_GRO_CMSG_SPACE];
        struct cmsghdr align;
    } u;
    int seg = 100;

    ck_assert_int_ge(rx, 0);
    ck_assert_int_ge(tx, 0);
    ck_assert_int_eq(bind(rx, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(rx, (struct sockaddr *)&a, &alen), 0);
    ck_assert_int_eq(ah_udp_gro_enable(rx), 0);
    ck_assert_int_eq(setsockopt(tx, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg)), 0);
    for (size_t i = 0; i < sizeof(out); i++)
        out[i] = (uint8_t)(i / 100 + 1);
    ck_assert_int_eq(sendto(tx, out, sizeof(out), 0, (struct sockaddr *)&a, sizeof(a)), 230);

    struct iovec iov = {in, sizeof(in)};
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    ssize_t n = recvmsg(rx, &m, 0);
    ck_assert_int_eq(n, 230);
    ck_assert_uint_eq(ah_udp_gro_size(&m), 100);
    size_t lens[4];
    ck_assert_uint_eq(split((size_t)n, ah_udp_gro_size(&m), lens, 4), 3);
    ck_assert_uint_eq(lens[2], 30);
    ck_assert_int_eq(in[0], 1);
    ck_assert_int_eq(in[100], 2);
    ck_assert_int_eq(in[200], 3);
    close(rx);
    close(tx);
}
END_TEST

START_TEST(enable_on_tcp_fails)
{
    int t = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(t, 0);
    ck_assert_int_lt(ah_udp_gro_enable(t), 0);
    close(t);
    ck_assert_int_eq(ah_udp_gro_enable(-1), -EBADF);
}
END_TEST

static Suite *udp_gro_suite(void)
{
    Suite *s = suite_create("udp_gro");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, split_equal);
    tcase_add_test(tc, split_shorter_last);
    tcase_add_test(tc, split_single);
    tcase_add_test(tc, split_bounds);
    tcase_add_test(tc, cmsg_reader);
    tcase_add_test(tc, kernel_coalesces);
    tcase_add_test(tc, enable_on_tcp_fails);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(udp_gro_suite)
