/* Unit tests for the UDP GSO grouping rules (servers/udp_gso.c): which runs
 * of answers one message may carry, and the control message it needs; the
 * kernel side is covered by tests/integration/18-responder-udp-gso.sh. */
#include "servers/udp_gso.h"
#include "tests/unit/check_main.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <unistd.h>

#define MAXN 80

/* Two IPv4 peers that differ only in the port, and one IPv6 peer. */
static struct sockaddr_in peer_a, peer_b;
static struct sockaddr_in6 peer_c;
static struct msghdr hdr_a, hdr_b, hdr_c;
static struct iovec iov[MAXN];
static const struct msghdr *dst[MAXN];
static uint8_t data[MAXN][2048];

static void setup(void)
{
    memset(&peer_a, 0, sizeof peer_a);
    peer_a.sin_family = AF_INET;
    peer_a.sin_port = htons(39403);
    inet_pton(AF_INET, "192.0.2.1", &peer_a.sin_addr);
    peer_b = peer_a;
    peer_b.sin_port = htons(39404);
    memset(&peer_c, 0, sizeof peer_c);
    peer_c.sin6_family = AF_INET6;
    peer_c.sin6_port = htons(39403);
    inet_pton(AF_INET6, "2001:db8::1", &peer_c.sin6_addr);
    hdr_a = (struct msghdr){.msg_name = &peer_a, .msg_namelen = sizeof peer_a};
    hdr_b = (struct msghdr){.msg_name = &peer_b, .msg_namelen = sizeof peer_b};
    hdr_c = (struct msghdr){.msg_name = &peer_c, .msg_namelen = sizeof peer_c};
}

/* Answer i: len bytes to the peer of h. */
static void put(unsigned i, size_t len, const struct msghdr *h)
{
    iov[i].iov_base = data[i];
    iov[i].iov_len = len;
    dst[i] = h;
}

START_TEST(runs_to_one_peer)
{
    for (unsigned i = 0; i < 16; i++)
        put(i, 54, &hdr_a);
    ck_assert_uint_eq(udp_gso_run(iov, dst, 16, UDP_GSO_MAX_SEG), 16);
    ck_assert_uint_eq(udp_gso_run(iov, dst, 1, UDP_GSO_MAX_SEG), 1);
    ck_assert_uint_eq(udp_gso_run(iov, dst, 0, UDP_GSO_MAX_SEG), 0);
}
END_TEST

START_TEST(shorter_last)
{
    /* 54, 54, 40: one message, the last segment shorter. */
    put(0, 54, &hdr_a);
    put(1, 54, &hdr_a);
    put(2, 40, &hdr_a);
    put(3, 54, &hdr_a);
    ck_assert_uint_eq(udp_gso_run(iov, dst, 3, UDP_GSO_MAX_SEG), 3);
    /* With a fourth of 54 after the 40, the 40 still ends the run. */
    ck_assert_uint_eq(udp_gso_run(iov, dst, 4, UDP_GSO_MAX_SEG), 3);
    /* 54, 40, 54: 54 + 40, then 54. */
    put(1, 40, &hdr_a);
    put(2, 54, &hdr_a);
    ck_assert_uint_eq(udp_gso_run(iov, dst, 3, UDP_GSO_MAX_SEG), 2);
    ck_assert_uint_eq(udp_gso_run(iov + 2, dst + 2, 1, UDP_GSO_MAX_SEG), 1);
    /* A longer answer after the first ends the run before it. */
    put(0, 40, &hdr_a);
    put(1, 54, &hdr_a);
    ck_assert_uint_eq(udp_gso_run(iov, dst, 2, UDP_GSO_MAX_SEG), 1);
}
END_TEST

START_TEST(peers_differ)
{
    /* A, B, A, B: four messages; the port alone makes a peer different. */
    put(0, 54, &hdr_a);
    put(1, 54, &hdr_b);
    put(2, 54, &hdr_a);
    put(3, 54, &hdr_b);
    for (unsigned i = 0; i < 4; i++)
        ck_assert_uint_eq(udp_gso_run(iov + i, dst + i, 4 - i, UDP_GSO_MAX_SEG), 1);
    /* A, A, C (IPv6), C: two runs of two. */
    put(1, 54, &hdr_a);
    put(2, 54, &hdr_c);
    put(3, 54, &hdr_c);
    ck_assert_uint_eq(udp_gso_run(iov, dst, 4, UDP_GSO_MAX_SEG), 2);
    ck_assert_uint_eq(udp_gso_run(iov + 2, dst + 2, 2, UDP_GSO_MAX_SEG), 2);
    /* Another msghdr naming the same address is the same peer. */
    struct sockaddr_in copy = peer_a;
    struct msghdr hdr_copy = {.msg_name = &copy, .msg_namelen = sizeof copy};
    put(1, 54, &hdr_copy);
    ck_assert_uint_eq(udp_gso_run(iov, dst, 2, UDP_GSO_MAX_SEG), 2);
}
END_TEST

START_TEST(bounds)
{
    /* At most UDP_GSO_MAX_SEGS answers a message. */
    for (unsigned i = 0; i < MAXN; i++)
        put(i, 54, &hdr_a);
    ck_assert_uint_eq(udp_gso_run(iov, dst, MAXN, UDP_GSO_MAX_SEG), UDP_GSO_MAX_SEGS);
    ck_assert_uint_eq(udp_gso_run(iov + UDP_GSO_MAX_SEGS, dst + UDP_GSO_MAX_SEGS,
                                  MAXN - UDP_GSO_MAX_SEGS, UDP_GSO_MAX_SEG),
                      MAXN - UDP_GSO_MAX_SEGS);
    /* At most UDP_GSO_MAX_BYTES: 1200-byte answers, 50 of them fit 60000. */
    for (unsigned i = 0; i < MAXN; i++)
        put(i, 1200, &hdr_a);
    ck_assert_uint_eq(udp_gso_run(iov, dst, MAXN, UDP_GSO_MAX_SEG), UDP_GSO_MAX_BYTES / 1200);
    /* An answer over UDP_GSO_MAX_SEG, or over the socket's learnt limit, is
     * never grouped; one at the limit is. */
    for (unsigned i = 0; i < 4; i++)
        put(i, UDP_GSO_MAX_SEG + 1, &hdr_a);
    ck_assert_uint_eq(udp_gso_run(iov, dst, 4, UDP_GSO_MAX_SEG), 1);
    for (unsigned i = 0; i < 4; i++)
        put(i, 448, &hdr_a);
    ck_assert_uint_eq(udp_gso_run(iov, dst, 4, 447), 1);
    ck_assert_uint_eq(udp_gso_run(iov, dst, 4, 448), 4);
}
END_TEST

START_TEST(control_message)
{
    uint8_t ctl[UDP_GSO_CTL_SPACE];
    struct msghdr m = {0};
    uint16_t seg;
    memset(ctl, 0xAA, sizeof ctl);
    udp_gso_control(&m, ctl, 54);
    ck_assert_ptr_eq(m.msg_control, ctl);
    ck_assert_uint_eq(m.msg_controllen, UDP_GSO_CTL_SPACE);
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->cmsg_level, SOL_UDP);
    ck_assert_int_eq(c->cmsg_type, UDP_SEGMENT);
    ck_assert_uint_eq(c->cmsg_len, CMSG_LEN(sizeof seg));
    memcpy(&seg, CMSG_DATA(c), sizeof seg);
    ck_assert_uint_eq(seg, 54);
    ck_assert_ptr_null(CMSG_NXTHDR(&m, c));
}
END_TEST

START_TEST(kernel_knows_udp_segment)
{
    /* Debian 12's kernel (6.1) and newer have UDP_SEGMENT; a TCP socket
     * does not take the option. */
    int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(u, 0);
    ck_assert_int_ge(t, 0);
    ck_assert(udp_gso_supported(u));
    ck_assert(!udp_gso_supported(t));
    close(u);
    close(t);
}
END_TEST

static Suite *udp_gso_suite(void)
{
    Suite *s = suite_create("udp_gso");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, runs_to_one_peer);
    tcase_add_test(tc, shorter_last);
    tcase_add_test(tc, peers_differ);
    tcase_add_test(tc, bounds);
    tcase_add_test(tc, control_message);
    tcase_add_test(tc, kernel_knows_udp_segment);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(udp_gso_suite)
