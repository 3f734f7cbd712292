/* Unit tests for anycast-probe's kernel timestamps (clients/tstamp.c): the
 * receive stamp and the error-queue messages (transmit stamps with their
 * keys, ICMP errors) read from control messages built here byte by byte,
 * cut or malformed ones ignored, and one real loopback exchange that checks
 * the kernel gives what the readers expect. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "clients/tstamp.h"
#include "tests/unit/check_main.h"

struct cbuf {
    union {
        char buf[512];
        struct cmsghdr align;
    } u;
    struct msghdr m;
    size_t used;
};

static void cb_init(struct cbuf *b)
{
    memset(b, 0, sizeof(*b));
    b->m.msg_control = b->u.buf;
    b->m.msg_controllen = sizeof(b->u.buf);
}

/* Appends one control message; msg_controllen ends up covering what was
 * added, as the kernel leaves it. */
static void cb_add(struct cbuf *b, int level, int type, const void *data, size_t len)
{
    struct cmsghdr *c = (struct cmsghdr *)(b->u.buf + b->used);

    ck_assert_uint_le(b->used + CMSG_SPACE(len), sizeof(b->u.buf));
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(len);
    memcpy(CMSG_DATA(c), data, len);
    b->used += CMSG_SPACE(len);
    b->m.msg_controllen = b->used;
}

static void add_stamp(struct cbuf *b, int type, time_t sec, long nsec)
{
    struct timespec t[3] = {{sec, nsec}, {0, 0}, {0, 0}};
    cb_add(b, SOL_SOCKET, type, t, type == SO_TIMESTAMPING ? sizeof(t) : sizeof(t[0]));
}

static void add_ee(struct cbuf *b, int level, int type, uint8_t origin, uint32_t err, uint32_t data)
{
    struct sock_extended_err ee = {.ee_errno = err, .ee_origin = origin, .ee_data = data};
    cb_add(b, level, type, &ee, sizeof(ee));
}

START_TEST(rx_stamp)
{
    struct cbuf b;
    uint64_t ns = 0;

    cb_init(&b);
    add_stamp(&b, SO_TIMESTAMPING, 1700000000, 123456789);
    ck_assert_int_eq(tstamp_rx(&b.m, &ns), 0);
    ck_assert_uint_eq(ns, 1700000000123456789ull);

    cb_init(&b);
    add_stamp(&b, SO_TIMESTAMPNS, 5, 7);
    ck_assert_int_eq(tstamp_rx(&b.m, &ns), 0);
    ck_assert_uint_eq(ns, 5000000007ull);

    /* Another message first (a packet info), then the stamp. */
    cb_init(&b);
    struct in_pktinfo pi = {0};
    cb_add(&b, SOL_IP, IP_PKTINFO, &pi, sizeof(pi));
    add_stamp(&b, SO_TIMESTAMPING, 9, 1);
    ck_assert_int_eq(tstamp_rx(&b.m, &ns), 0);
    ck_assert_uint_eq(ns, 9000000001ull);
}
END_TEST

START_TEST(rx_no_stamp)
{
    struct cbuf b;
    uint64_t ns = 42;

    cb_init(&b);
    b.m.msg_controllen = 0;
    ck_assert_int_eq(tstamp_rx(&b.m, &ns), -ENOENT);
    /* Hardware-only stamps leave the software one at zero. */
    cb_init(&b);
    add_stamp(&b, SO_TIMESTAMPING, 0, 0);
    ck_assert_int_eq(tstamp_rx(&b.m, &ns), -ENOENT);
    /* A nanosecond field out of range, and a message too short to hold a
     * timespec, are not stamps. */
    cb_init(&b);
    add_stamp(&b, SO_TIMESTAMPNS, 1, 1000000000);
    ck_assert_int_eq(tstamp_rx(&b.m, &ns), -ENOENT);
    cb_init(&b);
    uint32_t small = 7;
    cb_add(&b, SOL_SOCKET, SO_TIMESTAMPING, &small, sizeof(small));
    ck_assert_int_eq(tstamp_rx(&b.m, &ns), -ENOENT);
    /* The right type at another level. */
    cb_init(&b);
    struct timespec t = {3, 3};
    cb_add(&b, SOL_IP, SO_TIMESTAMPING, &t, sizeof(t));
    ck_assert_int_eq(tstamp_rx(&b.m, &ns), -ENOENT);
    ck_assert_uint_eq(ns, 42);
}
END_TEST

START_TEST(err_tx_stamp)
{
    struct cbuf b;
    struct tstamp_err te;

    /* The kernel sends the stamp before the extended error; both orders
     * are read. */
    cb_init(&b);
    add_stamp(&b, SO_TIMESTAMPING, 100, 5);
    add_ee(&b, SOL_IP, IP_RECVERR, SO_EE_ORIGIN_TIMESTAMPING, ENOMSG, 41);
    tstamp_err_parse(&b.m, &te);
    ck_assert_int_eq(te.kind, TSTAMP_TX);
    ck_assert_uint_eq(te.key, 41);
    ck_assert_uint_eq(te.ns, 100000000005ull);

    cb_init(&b);
    add_ee(&b, SOL_IPV6, IPV6_RECVERR, SO_EE_ORIGIN_TIMESTAMPING, ENOMSG, 0xffffffffu);
    add_stamp(&b, SO_TIMESTAMPING, 1, 2);
    tstamp_err_parse(&b.m, &te);
    ck_assert_int_eq(te.kind, TSTAMP_TX);
    ck_assert_uint_eq(te.key, 0xffffffffu);
    ck_assert_uint_eq(te.ns, 1000000002ull);

    /* A timestamping error without a software stamp gives nothing. */
    cb_init(&b);
    add_ee(&b, SOL_IP, IP_RECVERR, SO_EE_ORIGIN_TIMESTAMPING, ENOMSG, 3);
    tstamp_err_parse(&b.m, &te);
    ck_assert_int_eq(te.kind, TSTAMP_NONE);
}
END_TEST

START_TEST(err_icmp)
{
    struct cbuf b;
    struct tstamp_err te;

    cb_init(&b);
    add_ee(&b, SOL_IP, IP_RECVERR, SO_EE_ORIGIN_ICMP, ECONNREFUSED, 0);
    add_stamp(&b, SO_TIMESTAMPING, 1, 1); /* the ICMP packet's receive stamp */
    tstamp_err_parse(&b.m, &te);
    ck_assert_int_eq(te.kind, TSTAMP_ICMP);
    ck_assert_int_eq(te.err, ECONNREFUSED);

    cb_init(&b);
    add_ee(&b, SOL_IPV6, IPV6_RECVERR, SO_EE_ORIGIN_ICMP6, EHOSTUNREACH, 0);
    tstamp_err_parse(&b.m, &te);
    ck_assert_int_eq(te.kind, TSTAMP_ICMP);
    ck_assert_int_eq(te.err, EHOSTUNREACH);

    /* No extended error at all, an errno of 0, and a cut extended error. */
    cb_init(&b);
    add_stamp(&b, SO_TIMESTAMPING, 1, 1);
    tstamp_err_parse(&b.m, &te);
    ck_assert_int_eq(te.kind, TSTAMP_NONE);
    cb_init(&b);
    add_ee(&b, SOL_IP, IP_RECVERR, SO_EE_ORIGIN_ICMP, 0, 0);
    tstamp_err_parse(&b.m, &te);
    ck_assert_int_eq(te.kind, TSTAMP_NONE);
    cb_init(&b);
    uint32_t half = ECONNREFUSED;
    cb_add(&b, SOL_IP, IP_RECVERR, &half, sizeof(half));
    tstamp_err_parse(&b.m, &te);
    ck_assert_int_eq(te.kind, TSTAMP_NONE);
}
END_TEST

static uint64_t now_real(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* Two datagrams over loopback: the sender's error queue gives their
 * transmit stamps with keys 0 and 1, after a reset the count starts at 0
 * again, and the receiver's datagram carries its receive stamp, all within
 * the wall-clock interval of the exchange. */
START_TEST(loopback_kernel)
{
    int a = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int b = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    uint64_t t0, t1, ns;
    char data[64];

    ck_assert_int_ge(a, 0);
    ck_assert_int_ge(b, 0);
    ck_assert_int_eq(bind(b, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(getsockname(b, (struct sockaddr *)&sa, &sl), 0);
    ck_assert_int_eq(tstamp_enable(a, false), 0);
    ck_assert_int_eq(tstamp_enable(b, false), 0);
    /* The kernel turns receive stamping on for the whole host a moment
     * after the first socket asks (deferred work): datagrams from a third
     * socket are sent until one arrives stamped. */
    int w = socket(AF_INET, SOCK_DGRAM, 0);
    bool stamped = false;
    for (int i = 0; i < 500 && !stamped; i++) {
        struct cbuf c;
        struct iovec iov = {data, sizeof(data)};
        ck_assert_int_eq(sendto(w, "w", 1, 0, (struct sockaddr *)&sa, sizeof(sa)), 1);
        cb_init(&c);
        c.m.msg_iov = &iov;
        c.m.msg_iovlen = 1;
        struct pollfd p = {.fd = b, .events = POLLIN};
        ck_assert_int_eq(poll(&p, 1, 2000), 1);
        ck_assert_int_eq(recvmsg(b, &c.m, 0), 1);
        stamped = tstamp_rx(&c.m, &ns) == 0;
        if (!stamped)
            usleep(10000);
    }
    close(w);
    ck_assert(stamped);
    t0 = now_real();
    for (int round = 0; round < 2; round++) {
        for (uint32_t want = 0; want < 2; want++) {
            ck_assert_int_eq(sendto(a, "x", 1, 0, (struct sockaddr *)&sa, sizeof(sa)), 1);
            struct pollfd p = {.fd = a, .events = 0};
            ck_assert_int_eq(poll(&p, 1, 2000), 1); /* POLLERR: the stamp is queued */
            struct cbuf c;
            struct iovec iov = {data, sizeof(data)};
            cb_init(&c);
            c.m.msg_iov = &iov;
            c.m.msg_iovlen = 1;
            ck_assert_int_ge(recvmsg(a, &c.m, MSG_ERRQUEUE), 0);
            struct tstamp_err te;
            tstamp_err_parse(&c.m, &te);
            ck_assert_int_eq(te.kind, TSTAMP_TX);
            ck_assert_uint_eq(te.key, want);
            ck_assert_uint_ge(te.ns, t0);
            ck_assert_uint_le(te.ns, now_real());
        }
        ck_assert_int_eq(tstamp_enable(a, true), 0);
    }
    t1 = now_real();
    for (int i = 0; i < 4; i++) {
        struct cbuf c;
        struct iovec iov = {data, sizeof(data)};
        cb_init(&c);
        c.m.msg_iov = &iov;
        c.m.msg_iovlen = 1;
        ck_assert_int_eq(recvmsg(b, &c.m, 0), 1);
        ck_assert_int_eq(tstamp_rx(&c.m, &ns), 0);
        ck_assert_uint_ge(ns, t0);
        ck_assert_uint_le(ns, t1);
    }
    close(a);
    close(b);
}
END_TEST

static Suite *tstamp_suite(void)
{
    Suite *s = suite_create("probe_tstamp");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, rx_stamp);
    tcase_add_test(tc, rx_no_stamp);
    tcase_add_test(tc, err_tx_stamp);
    tcase_add_test(tc, err_icmp);
    tcase_add_test(tc, loopback_kernel);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(tstamp_suite)
