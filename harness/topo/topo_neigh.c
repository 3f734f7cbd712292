/* The lab's link-layer plan: fixed MAC addresses on every veth end that has
 * an address, and a permanent ARP/ND entry for every neighbour each end talks
 * to, so that a lab of any size leaves the kernel's neighbour tables (one per
 * family, shared by all namespaces, bounded by the host's gc_thresh3) alone. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "topo_int.h"

void topo_plan_mac(enum topo_mac kind, size_t idx, uint8_t mac[NL_MAC_LEN])
{
    /* 02: locally administered, unicast; "ah"; the kind; 16 bits of index
     * (the plan holds fewer than 65,536 nodes and vantages). */
    mac[0] = 0x02;
    mac[1] = 'a';
    mac[2] = 'h';
    mac[3] = (uint8_t)kind;
    mac[4] = (uint8_t)(idx >> 8);
    mac[5] = (uint8_t)idx;
}

/* Which routers and nodes exchange packets: a router sends to the nodes its
 * vantage prefers (static, ecmp, tracked: routes and track probes), a node
 * answers through those routers. With bgp every router has a session with
 * every node. */
int topo_neigh_plan(struct topo *t)
{
    size_t n = t->lab->nnodes, nv = t->lab->nvantages;
    t->talks = calloc(n * nv, 1);
    if (!t->talks)
        return -ENOMEM;
    for (size_t v = 0; v < nv; v++) {
        if (t->lab->routing == LAB_ROUTING_BGP) {
            memset(t->talks + v * n, 1, n);
            continue;
        }
        for (size_t r = 0; r < topo_nprefer(t, v); r++)
            t->talks[v * n + topo_pref_node(t, v, r)] = 1;
    }
    return 0;
}

bool topo_talks(const struct topo *t, size_t v, size_t node)
{
    return t->talks[v * t->lab->nnodes + node] != 0;
}

/* Only the families of the anycast addresses carry traffic (probes, BGP
 * sessions, track probes); the other family's addresses stay unused. */
static int fam_of(int f)
{
    return f ? AF_INET6 : AF_INET;
}

int topo_neigh_client(struct topo *t, size_t v)
{
    struct nl_ip ip;
    uint8_t mac[NL_MAC_LEN];
    int err = 0;

    topo_plan_mac(TOPO_MAC_ROUTER_CLI, v, mac);
    for (int f = 0; f < 2 && !err; f++) {
        if (!topo_family_used(t, fam_of(f)))
            continue;
        topo_plan_client_side(v, fam_of(f), true, &ip);
        err = nl_neigh_add(&t->clients[v].nl, TOPO_IF_UP, &ip, mac);
    }
    return err;
}

int topo_neigh_router(struct topo *t, size_t v)
{
    struct nl *nl = &t->routers[v].nl;
    struct nl_ip ip;
    uint8_t mac[NL_MAC_LEN];
    int err = 0;

    for (int f = 0; f < 2 && !err; f++) {
        if (!topo_family_used(t, fam_of(f)))
            continue;
        topo_plan_mac(TOPO_MAC_CLIENT_UP, v, mac);
        topo_plan_client_side(v, fam_of(f), false, &ip);
        err = nl_neigh_add(nl, TOPO_IF_CLI, &ip, mac);
        for (size_t i = 0; i < t->lab->nnodes && !err; i++) {
            if (!topo_talks(t, v, i))
                continue;
            topo_plan_mac(TOPO_MAC_NODE_FAB, i, mac);
            topo_plan_node(i, fam_of(f), &ip);
            err = nl_neigh_add(nl, TOPO_IF_FAB, &ip, mac);
        }
    }
    return err;
}

int topo_neigh_node(struct topo *t, size_t i)
{
    struct nl_ip ip;
    uint8_t mac[NL_MAC_LEN];
    int err = 0;

    for (int f = 0; f < 2 && !err; f++) {
        if (!topo_family_used(t, fam_of(f)))
            continue;
        for (size_t v = 0; v < t->lab->nvantages && !err; v++) {
            if (!topo_talks(t, v, i))
                continue;
            topo_plan_mac(TOPO_MAC_ROUTER_FAB, v, mac);
            topo_plan_router(v, fam_of(f), &ip);
            err = nl_neigh_add(&t->nodes[i].nl, TOPO_IF_FAB, &ip, mac);
        }
    }
    return err;
}
