/* Unit tests for the topology's address plan (docs/topology.md) and for the
 * netlink messages nl.c builds, checked byte by byte without sending them. */
#include <arpa/inet.h>
#include <check.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "harness/sys/nl.h"
#include "harness/topo/topo_int.h"
#include "tests/unit/check_main.h"

static const char *str(const struct nl_ip *ip)
{
    static char buf[4][INET6_ADDRSTRLEN];
    static int k;
    k = (k + 1) % 4;
    return nl_ip_str(ip, buf[k], sizeof(buf[k]));
}

START_TEST(test_node_router_addresses)
{
    struct nl_ip ip;
    topo_plan_node(0, AF_INET, &ip);
    ck_assert_str_eq(str(&ip), "198.18.1.1");
    topo_plan_node(249, AF_INET, &ip);
    ck_assert_str_eq(str(&ip), "198.18.1.250");
    topo_plan_node(250, AF_INET, &ip);
    ck_assert_str_eq(str(&ip), "198.18.2.1");
    topo_plan_node(0, AF_INET6, &ip);
    ck_assert_str_eq(str(&ip), "2001:db8:f::1:1");
    topo_plan_node(999, AF_INET6, &ip);
    ck_assert_str_eq(str(&ip), "2001:db8:f::1:3e8");
    topo_plan_router(0, AF_INET, &ip);
    ck_assert_str_eq(str(&ip), "198.18.128.1");
    topo_plan_router(250, AF_INET, &ip);
    ck_assert_str_eq(str(&ip), "198.18.129.1");
    topo_plan_router(15, AF_INET6, &ip);
    ck_assert_str_eq(str(&ip), "2001:db8:f::2:10");
}
END_TEST

START_TEST(test_client_links)
{
    struct nl_ip ip;
    unsigned plen;
    topo_plan_client_net(0, AF_INET, &ip, &plen);
    ck_assert_str_eq(str(&ip), "198.19.0.0");
    ck_assert_uint_eq(plen, 30);
    topo_plan_client_net(64, AF_INET, &ip, &plen);
    ck_assert_str_eq(str(&ip), "198.19.1.0");
    topo_plan_client_side(64, AF_INET, true, &ip);
    ck_assert_str_eq(str(&ip), "198.19.1.1");
    topo_plan_client_side(64, AF_INET, false, &ip);
    ck_assert_str_eq(str(&ip), "198.19.1.2");
    topo_plan_client_net(64, AF_INET6, &ip, &plen);
    ck_assert_str_eq(str(&ip), "2001:db8:c:40::");
    ck_assert_uint_eq(plen, 64);
    topo_plan_client_side(0, AF_INET6, false, &ip);
    ck_assert_str_eq(str(&ip), "2001:db8:c::2");
}
END_TEST

/* Every node's fabric address maps back to the node; nothing else does. */
START_TEST(test_node_of_inverse)
{
    for (int f = 0; f < 2; f++) {
        int fam = f ? AF_INET6 : AF_INET;
        for (size_t i = 0; i < TOPO_MAX_NODES; i++) {
            struct nl_ip ip;
            topo_plan_node(i, fam, &ip);
            ck_assert_int_eq(topo_plan_node_of(&ip), (int)i);
            topo_plan_router(i, fam, &ip);
            ck_assert_int_eq(topo_plan_node_of(&ip), -1);
            topo_plan_client_side(i, fam, true, &ip);
            ck_assert_int_eq(topo_plan_node_of(&ip), -1);
        }
    }
    struct nl_ip ip = {.family = AF_INET};
    inet_pton(AF_INET, "198.18.1.0", &ip.u.v4);
    ck_assert_int_eq(topo_plan_node_of(&ip), -1);
    inet_pton(AF_INET, "198.18.1.251", &ip.u.v4);
    ck_assert_int_eq(topo_plan_node_of(&ip), -1);
}
END_TEST

static int cmp_ip(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(struct nl_ip));
}

/* No two lab interfaces share an address, at the largest size. */
START_TEST(test_no_collisions)
{
    size_t n = TOPO_MAX_NODES + 3 * TOPO_MAX_VANTAGES, k = 0;
    for (int f = 0; f < 2; f++) {
        int fam = f ? AF_INET6 : AF_INET;
        struct nl_ip *all = calloc(n, sizeof(*all));
        ck_assert_ptr_nonnull(all);
        k = 0;
        for (size_t i = 0; i < TOPO_MAX_NODES; i++)
            topo_plan_node(i, fam, &all[k++]);
        for (size_t v = 0; v < TOPO_MAX_VANTAGES; v++) {
            topo_plan_router(v, fam, &all[k++]);
            topo_plan_client_side(v, fam, true, &all[k++]);
            topo_plan_client_side(v, fam, false, &all[k++]);
        }
        qsort(all, n, sizeof(*all), cmp_ip);
        for (size_t i = 1; i < n; i++)
            ck_assert_msg(memcmp(&all[i - 1], &all[i], sizeof(*all)) != 0, "duplicate %s",
                          str(&all[i]));
        free(all);
    }
}
END_TEST

/* The last message in the batch (built, not sent). */
static const struct nlmsghdr *last_msg(const struct nl *nl)
{
    return (const struct nlmsghdr *)(nl->buf + (nl->cur != SIZE_MAX ? nl->cur : 0));
}

START_TEST(test_multipath_route_message)
{
    struct nl nl;
    struct nl_ip dst, gw[3];
    ck_assert_int_eq(nl_open(&nl, "test", 0), 0);
    dst.family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8:53::53", &dst.u.v6);
    for (size_t i = 0; i < 3; i++)
        topo_plan_node(i, AF_INET6, &gw[i]);
    struct nl_route r = {.dst = &dst, .plen = 128, .metric = 100, .oif = 2, .gw = gw, .ngw = 3};
    ck_assert_int_eq(nl_route_add(&nl, &r, true), 0);
    const struct nlmsghdr *nlh = last_msg(&nl);
    ck_assert_uint_eq(nlh->nlmsg_type, RTM_NEWROUTE);
    ck_assert(nlh->nlmsg_flags & NLM_F_REPLACE);
    const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
    ck_assert_uint_eq(rtm->rtm_dst_len, 128);
    ck_assert_uint_eq(rtm->rtm_table, RT_TABLE_MAIN);
    const struct nlattr *a, *mp = NULL;
    uint32_t metric = 0;
    mnl_attr_for_each(a, nlh, sizeof(*rtm))
    {
        if (mnl_attr_get_type(a) == RTA_MULTIPATH)
            mp = a;
        if (mnl_attr_get_type(a) == RTA_PRIORITY)
            metric = mnl_attr_get_u32(a);
    }
    ck_assert_uint_eq(metric, 100);
    ck_assert_ptr_nonnull(mp);
    const char *p = mnl_attr_get_payload(mp);
    size_t rem = mnl_attr_get_payload_len(mp), seen = 0;
    while (rem >= sizeof(struct rtnexthop)) {
        const struct rtnexthop *nh = (const struct rtnexthop *)p;
        ck_assert_int_eq(nh->rtnh_ifindex, 2);
        const struct nlattr *g = (const struct nlattr *)(p + RTNH_ALIGN(sizeof(*nh)));
        ck_assert_uint_eq(mnl_attr_get_type(g), RTA_GATEWAY);
        ck_assert_mem_eq(mnl_attr_get_payload(g), gw[seen].u.raw, 16);
        seen++;
        p += RTNH_ALIGN(nh->rtnh_len);
        rem -= RTNH_ALIGN(nh->rtnh_len);
    }
    ck_assert_uint_eq(seen, 3);
    nl.npending = 0; /* never sent */
    nl_close(&nl);
}
END_TEST

START_TEST(test_resilient_group_message)
{
    struct nl nl;
    uint32_t ids[3] = {1, 2, 3};
    ck_assert_int_eq(nl_open(&nl, "test", 0), 0);
    ck_assert_int_eq(nl_nhgroup_res_set(&nl, TOPO_NHG_V4, ids, 3, 128, 1, false), 0);
    const struct nlmsghdr *nlh = last_msg(&nl);
    ck_assert_uint_eq(nlh->nlmsg_type, RTM_NEWNEXTHOP);
    const struct nlattr *a;
    bool group = false, type = false, res = false;
    mnl_attr_for_each(a, nlh, sizeof(struct nhmsg))
    {
        switch (mnl_attr_get_type(a)) {
        case NHA_GROUP:
            /* A plain array: the nested flag would fail strict parsing. */
            ck_assert_uint_eq(a->nla_type & NLA_F_NESTED, 0);
            ck_assert_uint_eq(mnl_attr_get_payload_len(a), 3 * sizeof(struct nexthop_grp));
            ck_assert_uint_eq(((const struct nexthop_grp *)mnl_attr_get_payload(a))[2].id, 3);
            group = true;
            break;
        case NHA_GROUP_TYPE:
            ck_assert_uint_eq(mnl_attr_get_u16(a), NEXTHOP_GRP_TYPE_RES);
            type = true;
            break;
        case NHA_RES_GROUP:
            res = true;
            break;
        }
    }
    ck_assert(group && type && res);
    nl.npending = 0;
    nl_close(&nl);
}
END_TEST

/* The fixed MACs: locally administered unicast, one per kind and index,
 * never two alike over the largest lab. */
START_TEST(test_mac_plan)
{
    uint8_t a[NL_MAC_LEN], b[NL_MAC_LEN];
    topo_plan_mac(TOPO_MAC_ROUTER_CLI, 299, a);
    const uint8_t want[NL_MAC_LEN] = {0x02, 0x61, 0x68, 0x03, 0x01, 0x2b};
    ck_assert_mem_eq(a, want, NL_MAC_LEN);
    for (int k = TOPO_MAC_NODE_FAB; k <= TOPO_MAC_CLIENT_UP; k++) {
        for (size_t i = 0; i < 1024; i += 7) {
            topo_plan_mac((enum topo_mac)k, i, a);
            ck_assert_uint_eq(a[0] & 1, 0); /* unicast */
            ck_assert_uint_eq(a[0] & 2, 2); /* locally administered */
            topo_plan_mac((enum topo_mac)k, i + 1, b);
            ck_assert(memcmp(a, b, NL_MAC_LEN) != 0);
            if (k < TOPO_MAC_CLIENT_UP) {
                topo_plan_mac((enum topo_mac)(k + 1), i, b);
                ck_assert(memcmp(a, b, NL_MAC_LEN) != 0);
            }
        }
    }
}
END_TEST

/* A permanent neighbour entry: family, link, state, address and MAC. */
START_TEST(test_neigh_message)
{
    struct nl nl;
    struct nl_ip ip;
    uint8_t mac[NL_MAC_LEN];
    ck_assert_int_eq(nl_open(&nl, "test", 0), 0);
    topo_plan_node(4, AF_INET6, &ip);
    topo_plan_mac(TOPO_MAC_NODE_FAB, 4, mac);
    ck_assert_int_eq(nl_neigh_add(&nl, TOPO_IF_FAB, &ip, mac), 0);
    const struct nlmsghdr *nlh = last_msg(&nl);
    ck_assert_uint_eq(nlh->nlmsg_type, RTM_NEWNEIGH);
    ck_assert_uint_eq(nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_REPLACE),
                      NLM_F_CREATE | NLM_F_REPLACE);
    const struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);
    ck_assert_uint_eq(nd->ndm_family, AF_INET6);
    ck_assert_int_eq(nd->ndm_ifindex, TOPO_IF_FAB);
    ck_assert_uint_eq(nd->ndm_state, NUD_PERMANENT);
    const struct nlattr *a;
    bool dst = false, ll = false;
    mnl_attr_for_each(a, nlh, sizeof(struct ndmsg))
    {
        if (mnl_attr_get_type(a) == NDA_DST) {
            ck_assert_mem_eq(mnl_attr_get_payload(a), ip.u.raw, 16);
            dst = true;
        } else if (mnl_attr_get_type(a) == NDA_LLADDR) {
            ck_assert_uint_eq(mnl_attr_get_payload_len(a), NL_MAC_LEN);
            ck_assert_mem_eq(mnl_attr_get_payload(a), mac, NL_MAC_LEN);
            ll = true;
        }
    }
    ck_assert(dst && ll);
    nl.npending = 0; /* never sent */
    nl_close(&nl);
}
END_TEST

static Suite *topo_plan_suite(void)
{
    Suite *s = suite_create("topo_plan");
    TCase *tc = tcase_create("plan");
    tcase_add_test(tc, test_node_router_addresses);
    tcase_add_test(tc, test_client_links);
    tcase_add_test(tc, test_node_of_inverse);
    tcase_add_test(tc, test_no_collisions);
    tcase_add_test(tc, test_multipath_route_message);
    tcase_add_test(tc, test_resilient_group_message);
    tcase_add_test(tc, test_mac_plan);
    tcase_add_test(tc, test_neigh_message);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(topo_plan_suite)
