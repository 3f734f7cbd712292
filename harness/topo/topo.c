/* Builds and removes the lab topology (docs/lab-file.md, docs/topology.md):
 * the fabric bridge and veths, addresses, and the address plan. The
 * namespaces are made in topo_ns.c, the routes in topo_route.c. */
#include "topo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/log.h"
#include "harness/sys/netns.h"
#include "harness/sys/par.h"
#include "topo_int.h"

/* ---- address plan ---- */

static void ip4(struct nl_ip *ip, uint32_t host_order)
{
    memset(ip, 0, sizeof(*ip));
    ip->family = AF_INET;
    ip->u.v4.s_addr = htonl(host_order);
}

static void ip6(struct nl_ip *ip, uint16_t w2, uint16_t w3, uint16_t w6, uint16_t w7)
{
    memset(ip, 0, sizeof(*ip));
    ip->family = AF_INET6;
    uint16_t w[8] = {0x2001, 0x0db8, w2, w3, 0, 0, w6, w7};
    for (int k = 0; k < 8; k++) {
        ip->u.v6.s6_addr[2 * k] = (uint8_t)(w[k] >> 8);
        ip->u.v6.s6_addr[2 * k + 1] = (uint8_t)w[k];
    }
}

#define NET_198_18 ((198u << 24) | (18u << 16))
#define NET_198_19 ((198u << 24) | (19u << 16))

/* Nodes 198.18.1.1, 198.18.1.2 ... 198.18.1.250, 198.18.2.1 ...; routers the
 * same from 198.18.128.1; all in 198.18.0.0/16 on the fabric. IPv6: nodes
 * 2001:db8:f::1:<i+1>, routers 2001:db8:f::2:<v+1> in 2001:db8:f::/64. */
void topo_plan_node(size_t i, int family, struct nl_ip *ip)
{
    if (family == AF_INET)
        ip4(ip, NET_198_18 | (uint32_t)((1 + i / 250) << 8) | (uint32_t)(1 + i % 250));
    else
        ip6(ip, 0xf, 0, 1, (uint16_t)(i + 1));
}

void topo_plan_router(size_t v, int family, struct nl_ip *ip)
{
    if (family == AF_INET)
        ip4(ip, NET_198_18 | (uint32_t)((128 + v / 250) << 8) | (uint32_t)(1 + v % 250));
    else
        ip6(ip, 0xf, 0, 2, (uint16_t)(v + 1));
}

int topo_plan_node_of(const struct nl_ip *gw)
{
    if (gw->family == AF_INET) {
        uint32_t a = ntohl(gw->u.v4.s_addr);
        if ((a & 0xffff0000u) != NET_198_18)
            return -1;
        uint32_t hi = (a >> 8) & 0xff, lo = a & 0xff;
        if (hi < 1 || hi >= 128 || lo < 1 || lo > 250)
            return -1;
        return (int)((hi - 1) * 250 + lo - 1);
    }
    struct nl_ip n;
    ip6(&n, 0xf, 0, 1, 0);
    if (memcmp(n.u.raw, gw->u.raw, 14) != 0)
        return -1;
    int w = (gw->u.raw[14] << 8) | gw->u.raw[15];
    return w >= 1 ? w - 1 : -1;
}

/* Client link of vantage v: 198.19.0.0/16 cut into /30s (router .1, client
 * .2 of the v-th), and 2001:db8:c:<v>::/64 (router ::1, client ::2). */
void topo_plan_client_net(size_t v, int family, struct nl_ip *ip, unsigned *plen)
{
    if (family == AF_INET) {
        ip4(ip, NET_198_19 + (uint32_t)(4 * v));
        *plen = 30;
    } else {
        ip6(ip, 0xc, (uint16_t)v, 0, 0);
        *plen = 64;
    }
}

void topo_plan_client_side(size_t v, int family, bool router_side, struct nl_ip *ip)
{
    if (family == AF_INET)
        ip4(ip, NET_198_19 + (uint32_t)(4 * v) + (router_side ? 1 : 2));
    else
        ip6(ip, 0xc, (uint16_t)v, 0, router_side ? 1 : 2);
}

void topo_ip_from_addr(const struct ah_addr *a, struct nl_ip *ip)
{
    memset(ip, 0, sizeof(*ip));
    ip->family = a->ss.ss_family;
    if (ip->family == AF_INET)
        ip->u.v4 = ((const struct sockaddr_in *)&a->ss)->sin_addr;
    else
        ip->u.v6 = ((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
}

static void addr_from_ip(const struct nl_ip *ip, struct ah_addr *a)
{
    memset(a, 0, sizeof(*a));
    if (ip->family == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)&a->ss;
        s->sin_family = AF_INET;
        s->sin_addr = ip->u.v4;
        a->len = sizeof(*s);
    } else {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&a->ss;
        s->sin6_family = AF_INET6;
        s->sin6_addr = ip->u.v6;
        a->len = sizeof(*s);
    }
}

/* ---- lab model helpers ---- */

size_t topo_nprefer(const struct topo *t, size_t v)
{
    const struct lab_vantage *vt = &t->lab->vantages[v];
    return vt->nprefer ? vt->nprefer : t->lab->nnodes;
}

size_t topo_pref_node(const struct topo *t, size_t v, size_t r)
{
    const struct lab_vantage *vt = &t->lab->vantages[v];
    return vt->nprefer ? vt->prefer[r] : r;
}

int topo_rank(const struct topo *t, size_t v, size_t node)
{
    const struct lab_vantage *vt = &t->lab->vantages[v];
    if (!vt->nprefer)
        return node < t->lab->nnodes ? (int)node : -1;
    for (size_t r = 0; r < vt->nprefer; r++)
        if (vt->prefer[r] == node)
            return (int)r;
    return -1;
}

bool topo_family_used(const struct topo *t, int family)
{
    for (size_t a = 0; a < t->lab->nanycast; a++)
        if (t->lab->anycast[a].ss.ss_family == family)
            return true;
    return false;
}

/* ---- public accessors ---- */

const char *topo_netns(const struct topo *t, enum topo_role role, size_t idx)
{
    switch (role) {
    case TOPO_FABRIC:
        return t->fabric.name;
    case TOPO_NODE:
        return idx < t->lab->nnodes ? t->nodes[idx].name : NULL;
    case TOPO_ROUTER:
        return idx < t->lab->nvantages ? t->routers[idx].name : NULL;
    case TOPO_CLIENT:
        return idx < t->lab->nvantages ? t->clients[idx].name : NULL;
    }
    return NULL;
}

const struct ah_addr *topo_node_addr(const struct topo *t, size_t node, int family)
{
    if (node >= t->lab->nnodes)
        return NULL;
    return family == AF_INET6 ? &t->node6[node] : &t->node4[node];
}

const struct ah_addr *topo_client_addr(const struct topo *t, size_t vantage, int family)
{
    if (vantage >= t->lab->nvantages)
        return NULL;
    return family == AF_INET6 ? &t->client6[vantage] : &t->client4[vantage];
}

/* ---- links and addresses ---- */

/* lo and the namespace's end of its veth up. A veth peer cannot be created
 * up (its open fails until the pair is complete), so it is set up here, in
 * the batch of its own namespace. */
static int add_links_up(struct topo_ns *ns, int ifindex)
{
    int err = nl_link_set(&ns->nl, TOPO_IF_LO, true);
    return err ? err : nl_link_set(&ns->nl, ifindex, true);
}

static int add_both(struct topo_ns *ns, int ifindex, size_t v, bool router_side)
{
    struct nl_ip ip;
    unsigned plen;
    int err = 0;
    for (int f = 0; f < 2 && !err; f++) {
        int fam = f ? AF_INET6 : AF_INET;
        topo_plan_client_net(v, fam, &ip, &plen);
        topo_plan_client_side(v, fam, router_side, &ip);
        err = nl_addr_add(&ns->nl, ifindex, &ip, plen, true);
    }
    return err;
}

/* The fabric: the bridges (one per TOPO_BRIDGE_PORTS ends, joined to br0)
 * and one veth per node and router, each created in the fabric namespace
 * with its peer ("fab0", its MAC from the plan) made directly in the other
 * namespace, already up and attached: one message per pair. */
static size_t fabric_bridges(const struct topo *t)
{
    return (t->lab->nnodes + t->lab->nvantages + TOPO_BRIDGE_PORTS - 1) / TOPO_BRIDGE_PORTS;
}

/* The bridge of end e (nodes first, then routers). */
static int fabric_master(size_t e)
{
    return TOPO_IF_BRIDGE + (int)(e / TOPO_BRIDGE_PORTS);
}

static int build_bridges(struct nl *nl, size_t nbr)
{
    char a[IFNAMSIZ], b[IFNAMSIZ];
    int err = 0;

    for (size_t k = 0; k < nbr && !err; k++) {
        snprintf(a, sizeof(a), "br%u", (unsigned)k);
        err = nl_bridge_add(
            nl, &(struct nl_link){.name = a, .ifindex = TOPO_IF_BRIDGE + (int)k, .up = true});
    }
    /* A veth peer cannot be attached as it is made: a second message does. */
    for (size_t k = 1; k < nbr && !err; k++) {
        snprintf(a, sizeof(a), "l%u", (unsigned)k);
        snprintf(b, sizeof(b), "m%u", (unsigned)k);
        err = nl_veth_add(nl,
                          &(struct nl_link){.name = a,
                                            .ifindex = TOPO_IF_FAB_LINK + (int)k,
                                            .up = true,
                                            .master = TOPO_IF_BRIDGE},
                          &(struct nl_link){.name = b, .ifindex = TOPO_IF_FAB_LINKP + (int)k}, -1);
        if (!err)
            err = nl_link_set_master(nl, TOPO_IF_FAB_LINKP + (int)k, TOPO_IF_BRIDGE + (int)k);
    }
    return err;
}

static int build_fabric(struct topo *t)
{
    struct nl *nl = &t->fabric.nl;
    char a[IFNAMSIZ];
    uint8_t mac[NL_MAC_LEN];
    size_t nn = t->lab->nnodes;
    int err;

    err = nl_link_set(nl, TOPO_IF_LO, true);
    if (!err)
        err = build_bridges(nl, fabric_bridges(t));
    for (size_t i = 0; i < nn && !err; i++) {
        snprintf(a, sizeof(a), "n%u", (unsigned)(i % 100000));
        topo_plan_mac(TOPO_MAC_NODE_FAB, i, mac);
        err = nl_veth_add(nl,
                          &(struct nl_link){.name = a,
                                            .ifindex = TOPO_IF_FAB_NODE + (int)i,
                                            .up = true,
                                            .master = fabric_master(i)},
                          &(struct nl_link){.name = "fab0", .ifindex = TOPO_IF_FAB, .mac = mac},
                          t->nodes[i].fd);
    }
    for (size_t v = 0; v < t->lab->nvantages && !err; v++) {
        snprintf(a, sizeof(a), "r%u", (unsigned)(v % 100000));
        topo_plan_mac(TOPO_MAC_ROUTER_FAB, v, mac);
        err = nl_veth_add(nl,
                          &(struct nl_link){.name = a,
                                            .ifindex = TOPO_IF_FAB_ROUTER + (int)v,
                                            .up = true,
                                            .master = fabric_master(nn + v)},
                          &(struct nl_link){.name = "fab0", .ifindex = TOPO_IF_FAB, .mac = mac},
                          t->routers[v].fd);
        /* Every end that talks has its neighbours' addresses (topo_neigh.c),
         * so multicast (IPv6 neighbour discovery, MLD reports of a thousand
         * links coming up) need not reach every router: only the nodes,
         * which can still resolve an unplanned router from its solicitation. */
        if (!err)
            err = nl_brport_mcast_flood(nl, TOPO_IF_FAB_ROUTER + (int)v, false);
    }
    int ferr = nl_flush(nl);
    return err ? err : ferr;
}

/* A router: its client link (peer "up0" made in the client namespace), its
 * addresses, its neighbours and its anycast routes. Queued only; the caller
 * flushes. */
static int build_router(struct topo *t, size_t v)
{
    struct topo_ns *ns = &t->routers[v];
    struct nl_ip ip;
    uint8_t cli[NL_MAC_LEN], up[NL_MAC_LEN];
    int err = add_links_up(ns, TOPO_IF_FAB);

    topo_plan_mac(TOPO_MAC_ROUTER_CLI, v, cli);
    topo_plan_mac(TOPO_MAC_CLIENT_UP, v, up);
    if (!err)
        err = nl_veth_add(
            &ns->nl,
            &(struct nl_link){.name = "cli0", .ifindex = TOPO_IF_CLI, .up = true, .mac = cli},
            &(struct nl_link){.name = "up0", .ifindex = TOPO_IF_UP, .mac = up}, t->clients[v].fd);
    for (int f = 0; f < 2 && !err; f++) {
        topo_plan_router(v, f ? AF_INET6 : AF_INET, &ip);
        err = nl_addr_add(&ns->nl, TOPO_IF_FAB, &ip, f ? 64 : 16, true);
    }
    if (!err)
        err = add_both(ns, TOPO_IF_CLI, v, true);
    if (!err)
        err = topo_neigh_router(t, v);
    if (!err)
        err = topo_route_install(t, v);
    return err;
}

/* A node: the anycast addresses on lo, its fabric addresses and the return
 * routes to every vantage's clients. */
static int build_node(struct topo *t, size_t i)
{
    struct topo_ns *ns = &t->nodes[i];
    struct nl_ip ip;
    int err = add_links_up(ns, TOPO_IF_FAB);

    for (size_t a = 0; a < t->lab->nanycast && !err; a++) {
        topo_ip_from_addr(&t->lab->anycast[a], &ip);
        err = nl_addr_add(&ns->nl, TOPO_IF_LO, &ip, ip.family == AF_INET ? 32 : 128, true);
    }
    if (!err)
        err = topo_node_links(t, i);
    return err;
}

static int build_client(struct topo *t, size_t v)
{
    struct topo_ns *ns = &t->clients[v];
    struct nl_ip gw, dst;
    int err = add_links_up(ns, TOPO_IF_UP);

    if (!err)
        err = add_both(ns, TOPO_IF_UP, v, false);
    if (!err)
        err = topo_neigh_client(t, v);
    for (int f = 0; f < 2 && !err; f++) {
        int fam = f ? AF_INET6 : AF_INET;
        topo_plan_client_side(v, fam, true, &gw);
        memset(&dst, 0, sizeof(dst));
        dst.family = fam;
        err = nl_route_add(&ns->nl,
                           &(struct nl_route){.dst = &dst,
                                              .plen = 0,
                                              .metric = TOPO_METRIC_NODE,
                                              .oif = TOPO_IF_UP,
                                              .gw = &gw,
                                              .ngw = 1},
                           false);
    }
    return err;
}

/* ---- build / destroy ---- */

int topo_valid_run_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n >= TOPO_RUNID_MAX)
        return -EINVAL;
    for (size_t k = 0; k < n; k++)
        if (!((id[k] >= 'a' && id[k] <= 'z') || (id[k] >= '0' && id[k] <= '9')))
            return -EINVAL;
    return 0;
}

struct topo *topo_alloc(const struct lab *lab, const char *run_id)
{
    struct topo *t = calloc(1, sizeof(*t));
    size_t n = lab->nnodes, v = lab->nvantages;
    if (!t)
        return NULL;
    t->lab = lab;
    t->fabric.fd = -1;
    snprintf(t->run_id, sizeof(t->run_id), "%s", run_id);
    t->nodes = calloc(n, sizeof(*t->nodes));
    t->routers = calloc(v, sizeof(*t->routers));
    t->clients = calloc(v, sizeof(*t->clients));
    t->mon = calloc(v, sizeof(*t->mon));
    t->announced = calloc(n, sizeof(*t->announced));
    t->link_down = calloc(n, sizeof(*t->link_down));
    t->node4 = calloc(n, sizeof(*t->node4));
    t->node6 = calloc(n, sizeof(*t->node6));
    t->client4 = calloc(v, sizeof(*t->client4));
    t->client6 = calloc(v, sizeof(*t->client6));
    if (!t->nodes || !t->routers || !t->clients || !t->mon || !t->announced || !t->link_down ||
        !t->node4 || !t->node6 || !t->client4 || !t->client6 || topo_neigh_plan(t) < 0) {
        /* Only the fabric's fd is set; the arrays that exist are zeroed,
         * so release must not close fd 0 of their entries. */
        free(t->nodes);
        free(t->routers);
        free(t->clients);
        t->nodes = NULL;
        t->routers = t->clients = NULL;
        topo_release(t);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        struct nl_ip ip;
        t->announced[i] = true;
        t->nodes[i].fd = -1;
        topo_plan_node(i, AF_INET, &ip);
        addr_from_ip(&ip, &t->node4[i]);
        topo_plan_node(i, AF_INET6, &ip);
        addr_from_ip(&ip, &t->node6[i]);
    }
    for (size_t k = 0; k < v; k++) {
        struct nl_ip ip;
        t->routers[k].fd = t->clients[k].fd = -1;
        topo_plan_client_side(k, AF_INET, false, &ip);
        addr_from_ip(&ip, &t->client4[k]);
        topo_plan_client_side(k, AF_INET6, false, &ip);
        addr_from_ip(&ip, &t->client6[k]);
    }
    return t;
}

static void close_fd(struct topo_ns *ns)
{
    if (ns->fd >= 0)
        close(ns->fd);
    ns->fd = -1;
}

static void ns_close(struct topo_ns *ns)
{
    nl_close(&ns->nl);
    close_fd(ns);
}

/* The namespace fds are only needed to create veth peers: once built, the
 * sockets are all we keep. */
static void close_build_fds(struct topo *t)
{
    close_fd(&t->fabric);
    for (size_t i = 0; i < t->lab->nnodes; i++)
        close_fd(&t->nodes[i]);
    for (size_t v = 0; v < t->lab->nvantages; v++) {
        close_fd(&t->routers[v]);
        close_fd(&t->clients[v]);
    }
}

static uint64_t ms_since(uint64_t t0)
{
    return (ah_clock_mono_ns() - t0) / 1000000;
}

/* Each namespace's requests go as one batch on its own socket. */
static int flushed(struct topo_ns *ns, int err)
{
    int ferr = nl_flush(&ns->nl);
    return err ? err : ferr;
}

static int router_one(void *arg, size_t v)
{
    struct topo *t = arg;
    return flushed(&t->routers[v], build_router(t, v));
}

static int client_one(void *arg, size_t v)
{
    struct topo *t = arg;
    return flushed(&t->clients[v], build_client(t, v));
}

static int node_one(void *arg, size_t i)
{
    struct topo *t = arg;
    return flushed(&t->nodes[i], build_node(t, i));
}

/* Routers before clients: a router's batch makes its client link, the
 * clients' batches use it. The batches of one kind are independent (each
 * reads the plan and writes its own namespace), and the kernel takes
 * routes into different namespaces side by side, so a thread per core
 * sends them. */
static int build_namespaces(struct topo *t)
{
    const struct lab *lab = t->lab;
    unsigned th = par_cores();
    int err = par_for(lab->nvantages, th, true, router_one, t);
    if (!err)
        err = par_for(lab->nvantages, th, true, client_one, t);
    if (!err)
        err = par_for(lab->nnodes, th, true, node_one, t);
    return err;
}

static int check_args(const struct lab *lab, const char *run_id)
{
    if (topo_valid_run_id(run_id) < 0) {
        ah_log_error("topology: bad run id \"%s\" (1..%d characters a-z, 0-9)", run_id,
                     TOPO_RUNID_MAX - 1);
        return -EINVAL;
    }
    if (lab->nnodes == 0 || lab->nnodes > TOPO_MAX_NODES || lab->nvantages == 0 ||
        lab->nvantages > TOPO_MAX_VANTAGES) {
        ah_log_error("topology: %zu nodes and %zu vantages: at most %d nodes and %d vantages",
                     lab->nnodes, lab->nvantages, TOPO_MAX_NODES, TOPO_MAX_VANTAGES);
        return -EINVAL;
    }
    return 0;
}

int topo_build(const struct lab *lab, const char *run_id, struct topo **out)
{
    struct topo *t = NULL;
    uint64_t t0 = ah_clock_mono_ns();

    *out = NULL;
    int err = check_args(lab, run_id);
    if (err < 0)
        return err;
    t = topo_alloc(lab, run_id);
    if (!t)
        return -ENOMEM;
    if ((err = netns_prepare()) < 0 || (err = topo_ns_name_all(t, run_id)) < 0)
        goto fail;
    /* Namespaces first: every later step talks to them over their sockets. */
    if ((err = topo_ns_make_all(t)) < 0)
        goto fail;
    ah_log_debug("topology %s: %zu namespaces in %llu ms", run_id,
                 1 + lab->nnodes + 2 * lab->nvantages, (unsigned long long)ms_since(t0));
    if ((err = build_fabric(t)) < 0)
        goto fail;
    ah_log_debug("topology %s: fabric at %llu ms", run_id, (unsigned long long)ms_since(t0));
    if ((err = build_namespaces(t)) < 0)
        goto fail;
    close_build_fds(t);
    if ((err = topo_monitor_start(t)) < 0)
        goto fail;
    ah_log_debug("topology %s: up in %llu ms", run_id, (unsigned long long)ms_since(t0));
    *out = t;
    return 0;
fail:
    ah_log_error("topology %s: build failed: %s; removing what was made", run_id, strerror(-err));
    topo_destroy(t);
    return err;
}

void topo_release(struct topo *t)
{
    if (!t)
        return;
    if (t->mon)
        topo_monitor_free(t);
    ns_close(&t->fabric);
    for (size_t i = 0; t->nodes && i < t->lab->nnodes; i++)
        ns_close(&t->nodes[i]);
    for (size_t v = 0; v < t->lab->nvantages; v++) {
        if (t->routers)
            ns_close(&t->routers[v]);
        if (t->clients)
            ns_close(&t->clients[v]);
    }
    free(t->nodes);
    free(t->routers);
    free(t->clients);
    free(t->mon);
    free(t->announced);
    free(t->link_down);
    free(t->node4);
    free(t->node6);
    free(t->client4);
    free(t->client6);
    free(t->talks);
    free(t);
}

static void destroy_report(void *arg, int pid, const char *comm, size_t idx)
{
    (void)arg;
    (void)idx;
    ah_log_warn("topology: killed %s (pid %d) left inside the lab", comm, pid);
}

int topo_destroy(struct topo *t)
{
    int ret = 0;
    size_t n = 0, cap;

    if (!t)
        return 0;
    cap = 1 + t->lab->nnodes + 2 * t->lab->nvantages;
    struct topo_ns **all = calloc(cap, sizeof(*all));
    struct netns_id *ids = calloc(cap, sizeof(*ids));
    const char **names = calloc(cap, sizeof(*names));
    int *errs = calloc(cap, sizeof(*errs));
    if (!all || !ids || !names || !errs) {
        free(all);
        free(ids);
        free(names);
        free(errs);
        topo_release(t);
        return -ENOMEM;
    }
    all[n++] = &t->fabric;
    for (size_t i = 0; i < t->lab->nnodes; i++)
        all[n++] = &t->nodes[i];
    for (size_t v = 0; v < t->lab->nvantages; v++) {
        all[n++] = &t->routers[v];
        all[n++] = &t->clients[v];
    }
    /* Our sockets hold the namespaces too: close them before unmounting. */
    topo_monitor_free(t);
    size_t nids = 0;
    for (size_t k = 0; k < n; k++) {
        ns_close(all[k]);
        if (all[k]->made && netns_id_of(all[k]->name, &ids[nids]) == 0)
            nids++;
    }
    if (nids)
        netns_kill_procs(ids, nids, 1000, destroy_report, NULL);
    size_t nmade = 0;
    for (size_t k = 0; k < n; k++)
        if (all[k]->made)
            names[nmade++] = all[k]->name;
    netns_delete_many(names, nmade, errs);
    for (size_t k = 0, m = 0; k < n; k++) {
        if (!all[k]->made)
            continue;
        int err = errs[m++];
        if (err < 0) {
            ah_log_error("netns %s: delete: %s", all[k]->name, strerror(-err));
            if (!ret)
                ret = err;
        }
        all[k]->made = false;
    }
    free(all);
    free(ids);
    free(names);
    free(errs);
    topo_release(t);
    return ret;
}
