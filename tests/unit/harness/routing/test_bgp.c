/* Unit tests for harness/routing/bgp.c without BIRD: the generated node and router
 * configurations (sessions, ASNs, local-pref from the prefer order, timers,
 * BFD, merge paths, families) and the parser of `show protocols`. */
#include "harness/routing/bgp.h"
#include "tests/unit/check_main.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ah/clock.h"

#define MS AH_NS_PER_MS
#define S  AH_NS_PER_S
struct fixture {
    struct lab lab;
    struct lab_node nodes[3];
    struct lab_vantage vantages[2];
    size_t prefer_us[2];
};

static void make_lab(struct fixture *f, bool v6)
{
    memset(f, 0, sizeof *f);
    snprintf(f->lab.name, sizeof f->lab.name, "t");
    ck_assert_int_eq(ah_addr_parse_ip("198.51.100.53", &f->lab.anycast[0]), 0);
    f->lab.nanycast = 1;
    if (v6) {
        ck_assert_int_eq(ah_addr_parse_ip("2001:db8:53::53", &f->lab.anycast[1]), 0);
        f->lab.nanycast = 2;
    }
    f->lab.routing = LAB_ROUTING_BGP;
    static const char *const names[] = {"ams", "nyc", "sin"};
    for (size_t i = 0; i < 3; i++)
        snprintf(f->nodes[i].name, sizeof f->nodes[i].name, "%s", names[i]);
    f->lab.nodes = f->nodes;
    f->lab.nnodes = 3;
    snprintf(f->vantages[0].name, sizeof f->vantages[0].name, "eu"); /* all, in order */
    snprintf(f->vantages[1].name, sizeof f->vantages[1].name, "us");
    f->prefer_us[0] = 1;
    f->prefer_us[1] = 0;
    f->vantages[1].prefer = f->prefer_us;
    f->vantages[1].nprefer = 2;
    f->lab.vantages = f->vantages;
    f->lab.nvantages = 2;
}

/* A node's or router's configuration as text; ann says per family (IPv4,
 * IPv6) whether a node's static protocol is announced. */
static char *conf_fams(const struct lab *lab, bool node, size_t idx, const bool ann[2])
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    int rc = node ? bgp_write_node_conf(f, lab, idx, "/tmp/x.log", ann)
                  : bgp_write_router_conf(f, lab, idx, "/tmp/x.log");
    ck_assert_int_eq(rc, 0);
    fclose(f);
    return buf;
}

static char *conf(const struct lab *lab, bool node, size_t idx)
{
    const bool ann[2] = {idx != 2, idx != 2};
    return conf_fams(lab, node, idx, ann);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

START_TEST(node_conf_announces_and_peers_every_router)
{
    struct fixture f;
    make_lab(&f, true);
    char *c = conf(&f.lab, true, 1);
    ck_assert_ptr_nonnull(strstr(c, "router id 198.18.1.2;"));
    ck_assert_ptr_nonnull(strstr(c, "log \"/tmp/x.log\" all;"));
    ck_assert_ptr_nonnull(strstr(c, "route 198.51.100.53/32 blackhole;"));
    ck_assert_ptr_nonnull(strstr(c, "route 2001:db8:53::53/128 blackhole;"));
    ck_assert_ptr_nonnull(strstr(c, "protocol static anycast4"));
    ck_assert_ptr_nonnull(strstr(c, "protocol static anycast6"));
    /* Two routers, two families: four sessions. */
    ck_assert_int_eq(count(c, "protocol bgp "), 4);
    ck_assert_ptr_nonnull(strstr(c, "local 198.18.1.2 as 4200000002;"));
    ck_assert_ptr_nonnull(strstr(c, "neighbor 198.18.128.2 as 4200100002;"));
    ck_assert_ptr_nonnull(strstr(c, "local 2001:db8:f::1:2 as 4200000002;"));
    ck_assert_ptr_nonnull(strstr(c, "export where proto = \"anycast4\""));
    /* No kernel protocol on a node, no timers or BFD unless asked. */
    ck_assert_ptr_null(strstr(c, "protocol kernel"));
    ck_assert_ptr_null(strstr(c, "hold time"));
    ck_assert_ptr_null(strstr(c, "bfd"));
    ck_assert_ptr_null(strstr(c, "disabled"));
    free(c);
    /* Node 2 is written withdrawn: its static protocols start disabled. */
    c = conf(&f.lab, true, 2);
    ck_assert_int_eq(count(c, "disabled yes;"), 2);
    free(c);
    /* Withdrawn in IPv6 only (its IPv6 health check failed): anycast4 is
     * announced, anycast6 starts disabled. */
    const bool v4_only[2] = {true, false};
    c = conf_fams(&f.lab, true, 0, v4_only);
    ck_assert_int_eq(count(c, "disabled yes;"), 1);
    char *p6 = strstr(c, "protocol static anycast6");
    ck_assert_ptr_nonnull(p6);
    /* The one "disabled" is inside anycast6, which is written after anycast4. */
    ck_assert_int_eq(count(p6, "disabled yes;"), 1);
    ck_assert(strstr(c, "protocol static anycast4") < p6);
    free(c);
}
END_TEST

START_TEST(router_conf_prefers_by_local_pref)
{
    struct fixture f;
    make_lab(&f, false);
    char *c = conf(&f.lab, false, 1); /* us: prefer nyc, ams; sin not */
    ck_assert_ptr_nonnull(strstr(c, "router id 198.18.128.2;"));
    ck_assert_ptr_nonnull(strstr(c, "protocol kernel kernel4"));
    ck_assert_ptr_null(strstr(c, "kernel6"));
    ck_assert_ptr_null(strstr(c, "merge paths"));
    ck_assert_int_eq(count(c, "protocol bgp "), 3);
    /* nyc (node 1) first: the highest local-pref; ams next; sin not
     * imported. */
    const char *nyc = strstr(c, "protocol bgp n1_4");
    const char *ams = strstr(c, "protocol bgp n0_4");
    const char *sin = strstr(c, "protocol bgp n2_4");
    ck_assert_ptr_nonnull(nyc);
    ck_assert_ptr_nonnull(ams);
    ck_assert_ptr_nonnull(sin);
    ck_assert_ptr_nonnull(strstr(nyc, "bgp_local_pref = 1000;"));
    ck_assert(strstr(ams, "bgp_local_pref = 999;") < sin);
    ck_assert_ptr_nonnull(strstr(sin, "import none;"));
    free(c);
}
END_TEST

START_TEST(timers_bfd_multipath)
{
    struct fixture f;
    make_lab(&f, false);
    f.lab.bgp = (struct lab_bgp){.hold_ns = 9 * S,
                                 .keepalive_ns = 3 * S,
                                 .bfd = true,
                                 .bfd_interval_ns = 100 * MS,
                                 .bfd_multiplier = 3,
                                 .multipath = true};
    char *c = conf(&f.lab, false, 0);
    ck_assert_int_eq(count(c, "hold time 9;"), 3);
    ck_assert_int_eq(count(c, "keepalive time 3;"), 3);
    ck_assert_int_eq(count(c, "bfd on;"), 3);
    ck_assert_ptr_nonnull(strstr(c, "interval 100000 us;"));
    ck_assert_ptr_nonnull(strstr(c, "multiplier 3;"));
    ck_assert_ptr_nonnull(strstr(c, "merge paths on;"));
    /* Equal local-pref so that BIRD merges the paths. */
    ck_assert_int_eq(count(c, "bgp_local_pref = 1000;"), 3);
    free(c);
    c = conf(&f.lab, true, 0);
    ck_assert_ptr_nonnull(strstr(c, "protocol bfd"));
    ck_assert_int_eq(count(c, "bfd on;"), 2);
    free(c);
    /* bfd: true alone: BIRD's own interval and multiplier. */
    f.lab.bgp.bfd_interval_ns = 0;
    f.lab.bgp.bfd_multiplier = 0;
    c = conf(&f.lab, true, 0);
    ck_assert_ptr_nonnull(strstr(c, "protocol bfd"));
    ck_assert_ptr_null(strstr(c, "interval"));
    ck_assert_ptr_null(strstr(c, "multiplier"));
    free(c);
}
END_TEST

struct seen {
    int n;
    char names[8][32], states[8][16], infos[8][64];
};

static void on_proto(void *arg, const char *name, const char *state, const char *info)
{
    struct seen *s = arg;
    ck_assert_int_lt(s->n, 8);
    snprintf(s->names[s->n], 32, "%s", name);
    snprintf(s->states[s->n], 16, "%s", state);
    snprintf(s->infos[s->n], 64, "%s", info);
    s->n++;
}

START_TEST(parse_show_protocols)
{
    const char *text = "Name       Proto      Table      State  Since         Info\n"
                       "device1    Device     ---        up     1795779447    \n"
                       "n0_4       BGP        ---        up     1795779447    Established   \n"
                       "n1_4       BGP        ---        start  1795779450    Active        "
                       "Socket: Connection closed\n"
                       "short line\n";
    struct seen s = {0};
    ck_assert_int_eq(bgp_parse_protocols(text, on_proto, &s), 3);
    ck_assert_str_eq(s.names[0], "device1");
    ck_assert_str_eq(s.infos[0], "");
    ck_assert_str_eq(s.names[1], "n0_4");
    ck_assert_str_eq(s.states[1], "up");
    ck_assert_str_eq(s.infos[1], "Established");
    ck_assert_str_eq(s.states[2], "start");
    ck_assert_str_eq(s.infos[2], "Active Socket: Connection closed");
    ck_assert_int_eq(bgp_parse_protocols("", on_proto, &s), 0);
}
END_TEST

START_TEST(parse_show_route_count)
{
    size_t c[2] = {9, 9};
    /* BIRD 2's reply, without its codes: one line per table, then a total. */
    const char *text = "3 of 3 routes for 1 networks in table master4\n"
                       "2 of 5 routes for 1 networks in table master6\n"
                       "Total: 5 of 8 routes for 2 networks in 2 tables\n";
    ck_assert_int_eq(bgp_parse_route_count(text, c), 2);
    ck_assert_uint_eq(c[0], 3);
    ck_assert_uint_eq(c[1], 5);
    /* An empty table's line counts (0 routes); a table of another name or a
     * line of another shape does not, and a table without a line gets 0. */
    ck_assert_int_eq(bgp_parse_route_count("0 of 0 routes for 0 networks in table master4\n"
                                           "7 of 7 routes for 7 networks in table t2\n"
                                           "routes for networks\n",
                                           c),
                     1);
    ck_assert_uint_eq(c[0], 0);
    ck_assert_uint_eq(c[1], 0);
    ck_assert_int_eq(bgp_parse_route_count("", c), 0);
}
END_TEST

START_TEST(birdc_without_bird)
{
    char out[64];
    ck_assert_int_lt(bgp_birdc("/nonexistent/bird.ctl", "show status", out, sizeof out, S, NULL),
                     0);
    char longp[200];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    ck_assert_int_eq(bgp_birdc(longp, "show status", out, sizeof out, S, NULL), -ENAMETOOLONG);
}
END_TEST

static Suite *bgp_suite(void)
{
    Suite *s = suite_create("bgp");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, node_conf_announces_and_peers_every_router);
    tcase_add_test(tc, router_conf_prefers_by_local_pref);
    tcase_add_test(tc, timers_bfd_multipath);
    tcase_add_test(tc, parse_show_protocols);
    tcase_add_test(tc, parse_show_route_count);
    tcase_add_test(tc, birdc_without_bird);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(bgp_suite)
