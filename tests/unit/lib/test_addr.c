/* Unit tests for lib/addr.c: address/port parsing in every accepted form,
 * rejected forms, formatting round trips, prefixes and containment. */
#include "ah/addr.h"
#include "tests/unit/lib/parse_cases.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

struct good_case {
    const char *text;
    int family;
    uint16_t port;
    const char *formatted; /* ah_addr_format with the port */
};

static const struct good_case good[] = {
    {"1.2.3.4", AF_INET, 9, "1.2.3.4:9"},
    {"198.51.100.53:53", AF_INET, 53, "198.51.100.53:53"},
    {"0.0.0.0:0", AF_INET, 0, "0.0.0.0:0"},
    {"255.255.255.255:65535", AF_INET, 65535, "255.255.255.255:65535"},
    {"127.0.0.1:007", AF_INET, 7, "127.0.0.1:7"},
    {"2001:db8::1", AF_INET6, 9, "[2001:db8::1]:9"},
    {"::", AF_INET6, 9, "[::]:9"},
    {"::1", AF_INET6, 9, "[::1]:9"},
    {"[::1]", AF_INET6, 9, "[::1]:9"},
    {"[2001:db8:53::53]:53", AF_INET6, 53, "[2001:db8:53::53]:53"},
    {"[2001:DB8:0:0:0:0:0:1]:7", AF_INET6, 7, "[2001:db8::1]:7"},
    {"::ffff:198.51.100.1", AF_INET6, 9, "[::ffff:198.51.100.1]:9"},
    /* Without brackets, the last group is part of the address. */
    {"2001:db8::1:53", AF_INET6, 9, "[2001:db8::1:53]:9"},
};

START_TEST(test_parse_good)
{
    const struct good_case *c = &good[_i];
    struct ah_addr a;
    memset(&a, 0xaa, sizeof(a));
    int rc = ah_addr_parse(c->text, 9, &a);
    ck_assert_msg(rc == 0, "\"%s\": %d", c->text, rc);
    ck_assert_int_eq(ah_addr_family(&a), c->family);
    ck_assert_uint_eq(ah_addr_port(&a), c->port);
    ck_assert_uint_eq(a.len, c->family == AF_INET ? sizeof(struct sockaddr_in)
                                                  : sizeof(struct sockaddr_in6));
    char buf[AH_ADDR_STRLEN];
    ck_assert_int_eq(ah_addr_format(&a, true, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, c->formatted);
    /* The formatted text parses back to the same address and port. */
    struct ah_addr b;
    ck_assert_int_eq(ah_addr_parse(buf, 1, &b), 0);
    ck_assert(ah_addr_equal_ip(&a, &b));
    ck_assert_uint_eq(ah_addr_port(&b), c->port);
    ck_assert_int_eq(memcmp(&a.ss, &b.ss, a.len), 0);
}
END_TEST

static const struct bad_case bad[] = {
    {"", -EINVAL},
    {"1.2.3.4:", -EINVAL},
    {"1.2.3.4:70000", -ERANGE},
    {"1.2.3.4:65536", -ERANGE},
    {"1.2.3.4:-1", -EINVAL},
    {"1.2.3.4:+53", -EINVAL},
    {"1.2.3.4: 53", -EINVAL},
    {"1.2.3.4:53x", -EINVAL},
    {"1.2.3.4:99999x", -EINVAL},
    {"1.2.3", -EINVAL},
    {"1.2.3.4.5", -EINVAL},
    {"1.2.3.256", -EINVAL},
    {"01.2.3.4", -EINVAL},
    {"1.2.3.4 ", -EINVAL},
    {" 1.2.3.4", -EINVAL},
    {"localhost", -EINVAL},
    {"localhost:53", -EINVAL},
    {":53", -EINVAL},
    {"[::1", -EINVAL},
    {"[::1]:", -EINVAL},
    {"[::1]53", -EINVAL},
    {"[::1]:70000", -ERANGE},
    {"[]", -EINVAL},
    {"[]:53", -EINVAL},
    {"[1.2.3.4]", -EINVAL},
    {"[1.2.3.4]:53", -EINVAL},
    {"[[::1]]:53", -EINVAL},
    {"::1]", -EINVAL},
    {"2001:db8:::1", -EINVAL},
    {"fe80::1%lo", -EINVAL},
    {"[fe80::1%lo]:53", -EINVAL},
    {"1:2:3:4:5:6:7:8:9", -EINVAL},
    {"[aaaa:bbbb:cccc:dddd:eeee:ffff:1111:2222:3333:4444:5555:6666:7777]", -EINVAL},
};

START_TEST(test_parse_bad)
{
    const struct bad_case *c = &bad[_i];
    struct ah_addr a, orig;
    memset(&a, 0x5a, sizeof(a));
    orig = a;
    int rc = ah_addr_parse(c->text, 53, &a);
    ck_assert_msg(rc == c->err, "\"%s\" gave %d, want %d", c->text, rc, c->err);
    ck_assert_msg(memcmp(&a, &orig, sizeof(a)) == 0, "\"%s\" changed the output", c->text);
}
END_TEST

START_TEST(test_parse_ip)
{
    struct ah_addr a;
    ck_assert_int_eq(ah_addr_parse_ip("198.51.100.53", &a), 0);
    ck_assert_int_eq(ah_addr_family(&a), AF_INET);
    ck_assert_uint_eq(ah_addr_port(&a), 0);
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&a.ss;
    ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0xc6336435u);
    ck_assert_int_eq(ah_addr_parse_ip("2001:db8:53::53", &a), 0);
    ck_assert_int_eq(ah_addr_family(&a), AF_INET6);
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a.ss;
    ck_assert_uint_eq(sin6->sin6_addr.s6_addr[0], 0x20);
    ck_assert_uint_eq(sin6->sin6_addr.s6_addr[15], 0x53);
    ck_assert_uint_eq(sin6->sin6_scope_id, 0);
    ck_assert_uint_eq(sin6->sin6_flowinfo, 0);
    ck_assert_int_eq(ah_addr_parse_ip("198.51.100.53:53", &a), -EINVAL);
    ck_assert_int_eq(ah_addr_parse_ip("[::1]", &a), -EINVAL);
    ck_assert_int_eq(ah_addr_parse_ip("", &a), -EINVAL);
    ck_assert_int_eq(ah_addr_parse_ip(NULL, &a), -EINVAL);
    ck_assert_int_eq(ah_addr_parse(NULL, 53, &a), -EINVAL);
}
END_TEST

START_TEST(test_port_parse)
{
    uint16_t p = 1;
    ck_assert_int_eq(ah_port_parse("0", &p), 0);
    ck_assert_uint_eq(p, 0);
    ck_assert_int_eq(ah_port_parse("65535", &p), 0);
    ck_assert_uint_eq(p, 65535);
    ck_assert_int_eq(ah_port_parse("00053", &p), 0);
    ck_assert_uint_eq(p, 53);
    p = 4;
    ck_assert_int_eq(ah_port_parse("65536", &p), -ERANGE);
    ck_assert_int_eq(ah_port_parse("4294967349", &p), -ERANGE);
    ck_assert_int_eq(ah_port_parse("99999999999999999999999", &p), -ERANGE);
    ck_assert_int_eq(ah_port_parse("", &p), -EINVAL);
    ck_assert_int_eq(ah_port_parse("-1", &p), -EINVAL);
    ck_assert_int_eq(ah_port_parse("5 ", &p), -EINVAL);
    ck_assert_int_eq(ah_port_parse("0x35", &p), -EINVAL);
    ck_assert_int_eq(ah_port_parse(NULL, &p), -EINVAL);
    ck_assert_uint_eq(p, 4);
}
END_TEST

START_TEST(test_format_variants)
{
    struct ah_addr a;
    char buf[AH_ADDR_STRLEN];
    ck_assert_int_eq(ah_addr_parse("[2001:db8::1]:53", 0, &a), 0);
    ck_assert_int_eq(ah_addr_format(&a, false, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "2001:db8::1");
    ah_addr_set_port(&a, 7);
    ck_assert_uint_eq(ah_addr_port(&a), 7);
    ck_assert_int_eq(ah_addr_format(&a, true, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "[2001:db8::1]:7");
    /* Exactly enough room, then one byte short. */
    ck_assert_int_eq(ah_addr_format(&a, true, buf, strlen("[2001:db8::1]:7") + 1), 0);
    ck_assert_int_eq(ah_addr_format(&a, true, buf, strlen("[2001:db8::1]:7")), -ENOSPC);
    ck_assert_int_eq(ah_addr_format(&a, false, buf, 4), -ENOSPC);

    /* The longest form fits AH_ADDR_STRLEN. */
    ck_assert_int_eq(ah_addr_parse("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535", 0, &a),
                     0);
    ck_assert_int_eq(ah_addr_format(&a, true, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");

    ck_assert_int_eq(ah_addr_parse("198.51.100.1", 53, &a), 0);
    ck_assert_int_eq(ah_addr_format(&a, false, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "198.51.100.1");

    struct ah_addr none;
    memset(&none, 0, sizeof(none));
    ck_assert_int_eq(ah_addr_format(&none, true, buf, sizeof(buf)), -EAFNOSUPPORT);
    ck_assert_uint_eq(ah_addr_port(&none), 0);
}
END_TEST

START_TEST(test_equal_ip)
{
    struct ah_addr a, b, c, d, e;
    ck_assert_int_eq(ah_addr_parse("198.51.100.53:53", 0, &a), 0);
    ck_assert_int_eq(ah_addr_parse("198.51.100.53:7", 0, &b), 0);
    ck_assert_int_eq(ah_addr_parse("198.51.100.54:53", 0, &c), 0);
    ck_assert_int_eq(ah_addr_parse("::ffff:198.51.100.53", 53, &d), 0);
    ck_assert_int_eq(ah_addr_parse("[2001:db8::53]:53", 0, &e), 0);
    ck_assert(ah_addr_equal_ip(&a, &b)); /* ports are ignored */
    ck_assert(!ah_addr_equal_ip(&a, &c));
    ck_assert(!ah_addr_equal_ip(&a, &d)); /* a mapped address is another family */
    ck_assert(!ah_addr_equal_ip(&d, &e));
    ck_assert(ah_addr_equal_ip(&e, &e));
}
END_TEST

START_TEST(test_from_sockaddr)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(5353);
    sin.sin_addr.s_addr = htonl(0xcb007101u);
    struct ah_addr a;
    ck_assert_int_eq(ah_addr_from_sockaddr((struct sockaddr *)&sin, sizeof(sin), &a), 0);
    char buf[AH_ADDR_STRLEN];
    ck_assert_int_eq(ah_addr_format(&a, true, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "203.0.113.1:5353");
    ck_assert_int_eq(ah_addr_from_sockaddr((struct sockaddr *)&sin, sizeof(sin) - 1, &a),
                     -EAFNOSUPPORT);

    struct sockaddr_in6 sin6;
    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(53);
    ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::7", &sin6.sin6_addr), 1);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    memcpy(&ss, &sin6, sizeof(sin6));
    ck_assert_int_eq(ah_addr_from_sockaddr((struct sockaddr *)&ss, sizeof(ss), &a), 0);
    ck_assert_uint_eq(a.len, sizeof(sin6));
    ck_assert_int_eq(ah_addr_format(&a, true, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "[2001:db8::7]:53");

    struct sockaddr un = {.sa_family = AF_UNIX};
    ck_assert_int_eq(ah_addr_from_sockaddr(&un, sizeof(un), &a), -EAFNOSUPPORT);
}
END_TEST

START_TEST(test_prefix_parse)
{
    struct ah_prefix p;
    char buf[AH_PREFIX_STRLEN];
    ck_assert_int_eq(ah_prefix_parse("198.51.100.0/24", &p), 0);
    ck_assert_uint_eq(p.plen, 24);
    ck_assert_int_eq(ah_addr_family(&p.addr), AF_INET);
    ck_assert_int_eq(ah_prefix_format(&p, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "198.51.100.0/24");
    ck_assert_int_eq(ah_prefix_parse("2001:db8::/32", &p), 0);
    ck_assert_uint_eq(p.plen, 32);
    ck_assert_int_eq(ah_prefix_format(&p, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "2001:db8::/32");
    ck_assert_int_eq(ah_prefix_parse("198.51.100.53", &p), 0);
    ck_assert_uint_eq(p.plen, 32);
    ck_assert_int_eq(ah_prefix_parse("2001:db8:53::53", &p), 0);
    ck_assert_uint_eq(p.plen, 128);
    ck_assert_int_eq(ah_prefix_parse("0.0.0.0/0", &p), 0);
    ck_assert_uint_eq(p.plen, 0);
    ck_assert_int_eq(ah_prefix_parse("::/0", &p), 0);
    ck_assert_int_eq(ah_prefix_parse("198.18.0.0/15", &p), 0);
    ck_assert_int_eq(ah_prefix_parse("2001:db8:53::/48", &p), 0);
    ck_assert_int_eq(ah_prefix_parse("2001:db8:53::53/128", &p), 0);
    ck_assert_int_eq(ah_prefix_parse("198.51.100.53/32", &p), 0);
    ck_assert_int_eq(ah_prefix_format(&p, buf, 16), -ENOSPC);

    static const char *const bad_prefix[] = {
        "198.51.100.1/24", /* host bits */
        "198.19.0.0/15",   /* host bit in the second octet */
        "2001:db8::1/64",  /* host bits */
        "2001:db8:4000::/33" /* bit 33 set */,
        "2001:db8:53::/47", /* bit 47 set */
        "198.51.100.0/33",
        "2001:db8::/129",
        "198.51.100.0/",
        "/24",
        "198.51.100.0/-1",
        "198.51.100.0/24/1",
        "198.51.100.0/2x",
        "198.51.100.0/0024",
        "[2001:db8::]/32",
        "198.51.100.0:53/24",
        "",
        "x/8",
    };
    for (size_t i = 0; i < sizeof(bad_prefix) / sizeof(bad_prefix[0]); i++) {
        int rc = ah_prefix_parse(bad_prefix[i], &p);
        ck_assert_msg(rc == -EINVAL, "\"%s\" gave %d", bad_prefix[i], rc);
    }
    ck_assert_int_eq(ah_prefix_parse(NULL, &p), -EINVAL);
}
END_TEST

static bool contains(const char *prefix, const char *addr)
{
    struct ah_prefix p;
    struct ah_addr a;
    ck_assert_int_eq(ah_prefix_parse(prefix, &p), 0);
    ck_assert_int_eq(ah_addr_parse(addr, 53, &a), 0);
    return ah_prefix_contains(&p, &a);
}

START_TEST(test_prefix_contains)
{
    ck_assert(contains("198.51.100.0/24", "198.51.100.53"));
    ck_assert(contains("198.51.100.0/24", "198.51.100.255:7"));
    ck_assert(!contains("198.51.100.0/24", "198.51.101.0"));
    ck_assert(contains("198.18.0.0/15", "198.19.255.255"));
    ck_assert(!contains("198.18.0.0/15", "198.20.0.0"));
    ck_assert(!contains("198.18.0.0/15", "198.17.255.255"));
    ck_assert(contains("0.0.0.0/0", "203.0.113.9"));
    ck_assert(contains("198.51.100.53", "198.51.100.53"));
    ck_assert(!contains("198.51.100.53", "198.51.100.52"));
    ck_assert(contains("198.51.100.52/31", "198.51.100.53"));
    ck_assert(!contains("198.51.100.52/31", "198.51.100.54"));
    ck_assert(contains("2001:db8::/32", "2001:db8:53::53"));
    ck_assert(!contains("2001:db8::/32", "2001:db9::1"));
    ck_assert(contains("2001:db8:53::/48", "[2001:db8:53:ffff::1]:53"));
    ck_assert(!contains("2001:db8:53::/48", "2001:db8:54::1"));
    ck_assert(!contains("2001:db8:52::/47", "2001:db8:54::1"));
    ck_assert(contains("2001:db8:52::/47", "2001:db8:53::1"));
    ck_assert(contains("::/0", "::1"));
    ck_assert(contains("2001:db8::1", "2001:db8::1"));
    ck_assert(!contains("2001:db8::1", "2001:db8::2"));
    /* Families never match each other. */
    ck_assert(!contains("0.0.0.0/0", "::ffff:1.2.3.4"));
    ck_assert(!contains("::/0", "1.2.3.4"));
}
END_TEST

static Suite *addr_suite(void)
{
    Suite *s = suite_create("addr");
    TCase *tc = tcase_create("core");
    TCASE_ADD_TABLE(tc, test_parse_good, good);
    TCASE_ADD_TABLE(tc, test_parse_bad, bad);
    tcase_add_test(tc, test_parse_ip);
    tcase_add_test(tc, test_port_parse);
    tcase_add_test(tc, test_format_variants);
    tcase_add_test(tc, test_equal_ip);
    tcase_add_test(tc, test_from_sockaddr);
    tcase_add_test(tc, test_prefix_parse);
    tcase_add_test(tc, test_prefix_contains);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(addr_suite)
