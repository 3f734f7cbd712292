/* The routing modes at the routers (static floating routes, one multipath
 * route, a resilient nexthop group; each router in its vantage's mode), the
 * nodes' return routes, and the drill actions that change them: withdraw,
 * announce, link down and up. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ah/clock.h"
#include "ah/log.h"
#include "topo_int.h"

static int fam(int f)
{
    return f ? AF_INET6 : AF_INET;
}

static unsigned host_plen(int family)
{
    return family == AF_INET ? 32 : 128;
}

/* The nodes vantage v's router sends to now: preferred and announced, in
 * prefer order, as gateways of one family (gws may be NULL to count). */
static size_t active(const struct topo *t, size_t v, int family, struct nl_ip *gws, uint32_t *ids)
{
    size_t n = 0;
    for (size_t r = 0; r < topo_nprefer(t, v); r++) {
        size_t node = topo_pref_node(t, v, r);
        if (!t->announced[node])
            continue;
        if (gws)
            topo_plan_node(node, family, &gws[n]);
        if (ids)
            ids[n] = (family == AF_INET ? TOPO_NH_V4 : TOPO_NH_V6) + (uint32_t)node;
        n++;
    }
    return n;
}

static uint32_t group_id(int family)
{
    return family == AF_INET ? TOPO_NHG_V4 : TOPO_NHG_V6;
}

static uint16_t group_buckets(const struct topo *t)
{
    size_t b = 4 * t->lab->nnodes;
    return (uint16_t)(b < 128 ? 128 : b > 8192 ? 8192 : b);
}

/* Static: the route of node at rank r to every anycast address. */
static int static_node(struct topo *t, size_t v, size_t node, int r, bool add)
{
    struct nl *nl = &t->routers[v].nl;
    struct nl_ip dst, gw;
    int err = 0;

    for (size_t a = 0; a < t->lab->nanycast && !err; a++) {
        topo_ip_from_addr(&t->lab->anycast[a], &dst);
        topo_plan_node(node, dst.family, &gw);
        struct nl_route rt = {.dst = &dst,
                              .plen = host_plen(dst.family),
                              .metric = TOPO_METRIC_BASE + (uint32_t)r,
                              .oif = TOPO_IF_FAB,
                              .gw = &gw,
                              .ngw = 1};
        err = add ? nl_route_add(nl, &rt, false) : nl_route_del(nl, &rt);
    }
    return err;
}

/* ECMP: (re)writes the one multipath route per anycast address from the
 * announced set; deletes it when the set became empty (had: it existed). */
static int ecmp_set(struct topo *t, size_t v, const bool had[2])
{
    struct nl *nl = &t->routers[v].nl;
    struct nl_ip dst, *gws = calloc(t->lab->nnodes, sizeof(*gws));
    int err = 0;

    if (!gws)
        return -ENOMEM;
    for (size_t a = 0; a < t->lab->nanycast && !err; a++) {
        topo_ip_from_addr(&t->lab->anycast[a], &dst);
        size_t n = active(t, v, dst.family, gws, NULL);
        struct nl_route rt = {.dst = &dst,
                              .plen = host_plen(dst.family),
                              .metric = TOPO_METRIC_BASE,
                              .oif = TOPO_IF_FAB,
                              .gw = gws,
                              .ngw = n};
        if (n)
            err = nl_route_add(nl, &rt, true);
        else if (had[dst.family == AF_INET6])
            err = nl_route_del(nl, &rt);
    }
    free(gws);
    return err;
}

/* The anycast routes of one family through the resilient group. */
static int res_routes(struct topo *t, size_t v, int family, bool add)
{
    struct nl_ip dst;
    int err = 0;
    for (size_t a = 0; a < t->lab->nanycast && !err; a++) {
        topo_ip_from_addr(&t->lab->anycast[a], &dst);
        if (dst.family != family)
            continue;
        struct nl_route rt = {.dst = &dst,
                              .plen = host_plen(family),
                              .metric = TOPO_METRIC_BASE,
                              .nh_id = group_id(family)};
        err = add ? nl_route_add(&t->routers[v].nl, &rt, false)
                  : nl_route_del(&t->routers[v].nl, &rt);
    }
    return err;
}

/* ECMP-resilient: sets the group's members from the announced set. A group
 * cannot be empty, so the last withdraw deletes the routes and the group and
 * the next announce makes them again. */
static int res_set(struct topo *t, size_t v, const bool had[2])
{
    uint32_t *ids = calloc(t->lab->nnodes, sizeof(*ids));
    int err = 0;

    if (!ids)
        return -ENOMEM;
    for (int f = 0; f < 2 && !err; f++) {
        if (!topo_family_used(t, fam(f)))
            continue;
        size_t n = active(t, v, fam(f), NULL, ids);
        struct nl *nl = &t->routers[v].nl;
        if (n) {
            err = nl_nhgroup_res_set(nl, group_id(fam(f)), ids, n, group_buckets(t), TOPO_NHG_IDLE,
                                     had[f]);
            if (!err && !had[f])
                err = res_routes(t, v, fam(f), true);
        } else if (had[f]) {
            err = res_routes(t, v, fam(f), false);
            if (!err)
                err = nl_nexthop_del(nl, group_id(fam(f)));
        }
    }
    free(ids);
    return err;
}

int topo_route_install(struct topo *t, size_t v)
{
    static const bool none[2] = {false, false};
    int err = 0;

    switch (lab_vantage_routing(t->lab, v)) {
    case LAB_ROUTING_STATIC:
        for (size_t r = 0; r < topo_nprefer(t, v) && !err; r++) {
            size_t node = topo_pref_node(t, v, r);
            if (t->announced[node])
                err = static_node(t, v, node, (int)r, true);
        }
        return err;
    case LAB_ROUTING_ECMP:
        return ecmp_set(t, v, none);
    case LAB_ROUTING_ECMP_RESILIENT:
        /* One nexthop object per preferred node and family, made once. */
        for (size_t r = 0; r < topo_nprefer(t, v) && !err; r++) {
            size_t node = topo_pref_node(t, v, r);
            for (int f = 0; f < 2 && !err; f++) {
                struct nl_ip gw;
                if (!topo_family_used(t, fam(f)))
                    continue;
                topo_plan_node(node, fam(f), &gw);
                err = nl_nexthop_add(&t->routers[v].nl,
                                     (f ? TOPO_NH_V6 : TOPO_NH_V4) + (uint32_t)node, TOPO_IF_FAB,
                                     &gw);
            }
        }
        return err ? err : res_set(t, v, none);
    case LAB_ROUTING_TRACKED:
    case LAB_ROUTING_BGP:
        /* Installed by the health checker or BIRD (docs/routing.md), not here. */
        return 0;
    }
    return -EINVAL;
}

int topo_node_links(struct topo *t, size_t i)
{
    struct nl *nl = &t->nodes[i].nl;
    struct nl_ip ip, gw, dst;
    unsigned plen;
    int err = 0;

    for (int f = 0; f < 2 && !err; f++) {
        topo_plan_node(i, fam(f), &ip);
        err = nl_addr_add(nl, TOPO_IF_FAB, &ip, f ? 64 : 16, true);
    }
    /* The kernel files an IPv4 route's shared part (struct fib_info) under a
     * hash of its metric, protocol, scope, source and device, but not its
     * gateway: a thousand return routes alike but for the gateway made one
     * chain that every insertion walked, a quarter of a 256x1024 build.
     * A metric of their own per vantage spreads them. Only the vantages
     * whose router sends to this node get one, in the anycast families:
     * every vantage in both families made 524,288 routes in a 256x1024 lab
     * whose vantages prefer two nodes each, a third of its build's CPU, for
     * 2,048 that carry traffic. */
    for (size_t v = 0; v < t->lab->nvantages && !err; v++) {
        if (!topo_talks(t, v, i))
            continue;
        for (int f = 0; f < 2 && !err; f++) {
            if (!topo_family_used(t, fam(f)))
                continue;
            topo_plan_client_net(v, fam(f), &dst, &plen);
            topo_plan_router(v, fam(f), &gw);
            err = nl_route_add(nl,
                               &(struct nl_route){.dst = &dst,
                                                  .plen = plen,
                                                  .metric = TOPO_METRIC_NODE + (uint32_t)v,
                                                  .oif = TOPO_IF_FAB,
                                                  .gw = &gw,
                                                  .ngw = 1},
                               true);
        }
    }
    /* Also after link-up: setting a link down deletes its permanent
     * neighbour entries too. */
    if (!err)
        err = topo_neigh_node(t, i);
    return err;
}

/* Withdraw or announce node at every router whose vantage prefers it, each
 * router in its own mode (a vantage's routing: key, docs/routing.md). */
static int set_announced(struct topo *t, size_t node, bool on, uint64_t *ack_ns)
{
    uint64_t last = 0;
    int ret = 0;

    if (node >= t->lab->nnodes)
        return -EINVAL;
    if (t->announced[node] == on) {
        ah_log_debug("topology: %s is already %s", t->lab->nodes[node].name,
                     on ? "announced" : "withdrawn");
        if (ack_ns)
            *ack_ns = ah_clock_realtime_ns();
        return 0;
    }
    bool(*had)[2] = calloc(t->lab->nvantages, sizeof(*had));
    if (!had)
        return -ENOMEM;
    for (size_t v = 0; v < t->lab->nvantages; v++)
        for (int f = 0; f < 2; f++)
            had[v][f] = active(t, v, fam(f), NULL, NULL) > 0;
    t->announced[node] = on;
    /* Queue every router's change first, then flush them one after the
     * other: the kernel applies each batch inside its sendmsg. */
    for (size_t v = 0; v < t->lab->nvantages; v++) {
        int r = topo_rank(t, v, node), err = 0;
        if (r < 0)
            continue;
        switch (lab_vantage_routing(t->lab, v)) {
        case LAB_ROUTING_STATIC:
            err = static_node(t, v, node, r, on);
            break;
        case LAB_ROUTING_ECMP:
            err = ecmp_set(t, v, had[v]);
            break;
        case LAB_ROUTING_ECMP_RESILIENT:
            err = res_set(t, v, had[v]);
            break;
        default:
            err = -EOPNOTSUPP;
        }
        if (err && !ret)
            ret = err;
    }
    for (size_t v = 0; v < t->lab->nvantages; v++) {
        if (topo_rank(t, v, node) < 0)
            continue;
        int err = nl_flush(&t->routers[v].nl);
        if (err && !ret)
            ret = err;
        if (t->routers[v].nl.ack_ns > last)
            last = t->routers[v].nl.ack_ns;
    }
    free(had);
    if (ack_ns)
        *ack_ns = last ? last : ah_clock_realtime_ns();
    return ret;
}

int topo_withdraw(struct topo *t, size_t node, uint64_t *ack_ns)
{
    return set_announced(t, node, false, ack_ns);
}

int topo_announce(struct topo *t, size_t node, uint64_t *ack_ns)
{
    return set_announced(t, node, true, ack_ns);
}

int topo_router_route_set(struct topo *t, size_t v, size_t node, bool on, uint64_t *ack_ns)
{
    if (v >= t->lab->nvantages || node >= t->lab->nnodes)
        return -EINVAL;
    int r = topo_rank(t, v, node), err = 0;
    if (r >= 0) {
        err = static_node(t, v, node, r, on);
        int ferr = nl_flush(&t->routers[v].nl);
        err = err ? err : ferr;
    }
    if (ack_ns)
        *ack_ns =
            r >= 0 && t->routers[v].nl.ack_ns ? t->routers[v].nl.ack_ns : ah_clock_realtime_ns();
    return err;
}

int topo_link_set(struct topo *t, size_t node, bool up, uint64_t *ack_ns)
{
    int err;

    if (node >= t->lab->nnodes)
        return -EINVAL;
    struct nl *nl = &t->nodes[node].nl;
    err = nl_link_set(nl, TOPO_IF_FAB, up);
    /* Setting the link down deleted its IPv6 address and every route
     * through it (IPv4 too); put them back. */
    if (!err && up)
        err = topo_node_links(t, node);
    int ferr = nl_flush(nl);
    err = err ? err : ferr;
    if (!err)
        t->link_down[node] = !up;
    if (ack_ns)
        *ack_ns = nl->ack_ns ? nl->ack_ns : ah_clock_realtime_ns();
    return err;
}
