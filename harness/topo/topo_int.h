/* Internals shared by the topology files (topo.c builds and removes,
 * topo_route.c does the routing modes and drill actions, topo_monitor.c
 * watches the routers' anycast routes, topo_ns.c makes the namespaces):
 * the topology's state, the address
 * plan and the fixed interface indexes. Not for use outside topo*.c. */
#ifndef TOPO_INT_H
#define TOPO_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/sys/nl.h"
#include "topo.h"

/* Interface indexes are per namespace, so the builder picks them itself and
 * can refer to a link in the same batch that creates it. lo is always 1. */
#define TOPO_IF_LO         1
#define TOPO_IF_BRIDGE     2      /* fabric: "br<b>", index 2 + b */
#define TOPO_IF_FAB_NODE   1000   /* fabric: "n<i>", index 1000 + i */
#define TOPO_IF_FAB_LINK   50000  /* fabric: "l<b>" on br0, index 50000 + b */
#define TOPO_IF_FAB_LINKP  60000  /* fabric: "m<b>" on br<b>, index 60000 + b */
#define TOPO_IF_FAB_ROUTER 100000 /* fabric: "r<v>", index 100000 + v */
#define TOPO_IF_FAB        2      /* node and router: "fab0", their end of the fabric */
#define TOPO_IF_CLI        3      /* router: "cli0", towards its clients */
#define TOPO_IF_UP         2      /* client: "up0", towards its router */

/* A Linux bridge takes at most 1023 ports (BR_MAX_PORTS): the fabric is a
 * star of bridges, br0 joined to each other one by a veth pair, with nodes
 * then routers spread over them this many to a bridge. */
#define TOPO_BRIDGE_PORTS 960

/* Fixed MAC addresses (topo_plan_mac) of the veth ends with addresses. */
enum topo_mac {
    TOPO_MAC_NODE_FAB = 1,   /* node i: fab0 */
    TOPO_MAC_ROUTER_FAB = 2, /* router v: fab0 */
    TOPO_MAC_ROUTER_CLI = 3, /* router v: cli0 */
    TOPO_MAC_CLIENT_UP = 4,  /* client v: up0 */
};

/* Metrics: static routes take TOPO_METRIC_BASE + rank in the vantage's prefer
 * list; the single ECMP / resilient route takes TOPO_METRIC_BASE. */
#define TOPO_METRIC_BASE 100
#define TOPO_METRIC_NODE 10 /* client default routes; node return routes: + vantage */

/* Nexthop object ids in each router (ecmp-resilient). */
#define TOPO_NH_V4    1        /* + node index */
#define TOPO_NH_V6    0x10000  /* + node index */
#define TOPO_NHG_V4   0x100004 /* the IPv4 resilient group */
#define TOPO_NHG_V6   0x100006 /* the IPv6 resilient group */
#define TOPO_NHG_IDLE 1        /* seconds a bucket must be idle to move */

struct topo_ns {
    char name[TOPO_NETNS_MAX];
    struct nl nl; /* requests; opened inside the namespace */
    int fd;       /* the namespace itself, only while building */
    bool made;
};

struct mon_route {
    size_t any; /* index into lab->anycast */
    uint32_t metric;
    uint32_t nh_id; /* route via a nexthop object, else set */
    uint8_t *set;   /* [nnodes]: nodes the route points to */
};

struct mon_group {
    uint32_t id;
    uint8_t *set;
};

/* The route monitor of one router: what its kernel has for the anycast
 * addresses, updated from notifications. */
struct topo_mon {
    struct nl nl; /* subscribed socket, opened inside the router namespace */
    struct mon_route *routes;
    size_t nroutes, caproutes;
    struct mon_group *groups;
    size_t ngroups, capgroups;
    char *text; /* last reported nexthop text */
};

#define TOPO_MON_BUF (256 * 1024)

struct topo {
    const struct lab *lab; /* borrowed: must outlive the topology */
    char run_id[TOPO_RUNID_MAX];
    struct topo_ns fabric;
    struct topo_ns *nodes, *routers, *clients;
    struct topo_mon *mon; /* per router */
    char *mon_buf;        /* receive buffer of the monitors (TOPO_MON_BUF) */
    bool *announced;      /* per node */
    bool *link_down;      /* per node */
    struct ah_addr *node4, *node6, *client4, *client6;
    uint8_t *talks; /* [vantage * nnodes + node]: router and node exchange packets */
};

/* The address plan (docs/topology.md). */
void topo_plan_node(size_t i, int family, struct nl_ip *ip);
void topo_plan_router(size_t v, int family, struct nl_ip *ip);
void topo_plan_client_net(size_t v, int family, struct nl_ip *ip, unsigned *plen);
void topo_plan_client_side(size_t v, int family, bool router_side, struct nl_ip *ip);
int topo_plan_node_of(const struct nl_ip *gw); /* node index from its fabric address */
void topo_ip_from_addr(const struct ah_addr *a, struct nl_ip *ip);

/* The vantage's preferred nodes (its prefer list, or every node in index
 * order): how many, and the node at rank r. */
size_t topo_nprefer(const struct topo *t, size_t v);
size_t topo_pref_node(const struct topo *t, size_t v, size_t r);
int topo_rank(const struct topo *t, size_t v, size_t node); /* -1: not preferred */
bool topo_family_used(const struct topo *t, int family);

/* topo_route.c */
int topo_route_install(struct topo *t, size_t v);
int topo_node_links(struct topo *t, size_t i); /* fab0 addresses and return routes */

/* topo_neigh.c: MACs, and the permanent neighbour entries of a client, a
 * router (client and nodes) and a node (routers), queued on its socket. */
void topo_plan_mac(enum topo_mac kind, size_t idx, uint8_t mac[NL_MAC_LEN]);
int topo_neigh_plan(struct topo *t); /* fills t->talks */
/* Whether vantage v's router and node exchange packets (t->talks). */
bool topo_talks(const struct topo *t, size_t v, size_t node);
int topo_neigh_client(struct topo *t, size_t v);
int topo_neigh_router(struct topo *t, size_t v);
int topo_neigh_node(struct topo *t, size_t i);

/* topo_ns.c: the names of every namespace of the run (0 or -ENAMETOOLONG,
 * logged), and every namespace made (0 or the first error; those made are
 * marked made, for topo_destroy). */
int topo_ns_name_all(struct topo *t, const char *run_id);
int topo_ns_make_all(struct topo *t);
/* topo.c, shared with topo_attach.c: the topology's memory with every node
 * announced, and the run id check (1..TOPO_RUNID_MAX - 1 of [a-z0-9], else
 * -EINVAL). */
struct topo *topo_alloc(const struct lab *lab, const char *run_id);
int topo_valid_run_id(const char *id);

/* topo_monitor.c */
int topo_monitor_start(struct topo *t);
void topo_monitor_free(struct topo *t);

#endif
