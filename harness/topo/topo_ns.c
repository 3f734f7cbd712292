/* The namespaces of a lab topology (docs/topology.md): their names, and
 * each one made with its netlink sockets, its own fd and its sysctls,
 * thousands of them side by side on a few threads. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ah/log.h"
#include "harness/sys/netns.h"
#include "harness/sys/par.h"
#include "topo_int.h"

/* ---- namespaces ---- */

enum ns_kind { NS_FABRIC, NS_NODE, NS_ROUTER, NS_CLIENT };

struct inside_ctx {
    struct topo *t;
    struct topo_ns *ns;
    enum ns_kind kind;
    struct topo_mon *mon;       /* routers: the monitor socket is opened here too */
    struct netns_sysdir sysdir; /* the namespace's sysctl directories, while inside */
};

/* The sysctls of a new namespace. Setting the "default" values before any
 * link exists gives every link made later the same value, so each
 * interface's rp_filter is explicitly 0. */
static const char *const sysctl_common[][2] = {
    {"net.ipv4.conf.all.rp_filter", "0"},
    {"net.ipv4.conf.default.rp_filter", "0"},
    {"net.ipv4.conf.lo.rp_filter", "0"},
    {"net.ipv6.conf.all.accept_dad", "0"},
    {"net.ipv6.conf.default.accept_dad", "0"},
    /* No router solicitations from clients and nodes: the routers would
     * keep a dynamic neighbour entry for every client's link-local
     * address, and the senders one for ff02::2 (docs/topology.md). */
    {"net.ipv6.conf.all.router_solicitations", "0"},
    {"net.ipv6.conf.default.router_solicitations", "0"},
};
/* The fabric's ports and bridges have no addresses: without IPv6 they
 * send no MLD reports and router solicitations to a thousand ports. */
static const char *const sysctl_fabric[][2] = {
    {"net.ipv6.conf.all.disable_ipv6", "1"},
    {"net.ipv6.conf.default.disable_ipv6", "1"},
};
static const char *const sysctl_router[][2] = {
    {"net.ipv4.ip_forward", "1"},
    {"net.ipv6.conf.all.forwarding", "1"},
};
/* ECMP hashes on the 5-tuple of each packet's headers (policy 3 with
 * fields src/dst address, protocol, src/dst port), as a real router does.
 * Policy 1 would reuse the hash a veth carries over from the sender's
 * socket (a random value per socket, which TCP even changes after a
 * retransmission timeout), so flows would not follow their ports. */
static const char *const sysctl_ecmp[][2] = {
    {"net.ipv4.fib_multipath_hash_fields", "0x37"},
    {"net.ipv4.fib_multipath_hash_policy", "3"},
    {"net.ipv6.fib_multipath_hash_fields", "0x37"},
    {"net.ipv6.fib_multipath_hash_policy", "3"},
};

#define NS_SYSCTLS(list) list, sizeof(list) / sizeof(list[0])

/* Writes count sysctls of list inside the namespace. */
static int ns_sysctl_list(const struct inside_ctx *c, const char *const (*list)[2], size_t count)
{
    for (size_t k = 0; k < count; k++) {
        int err = netns_sysctl_write_at(&c->sysdir, list[k][0], list[k][1]);
        if (err < 0) {
            ah_log_error("netns %s: sysctl %s=%s: %s", c->ns->name, list[k][0], list[k][1],
                         strerror(-err));
            return err;
        }
    }
    return 0;
}

/* The sysctls a namespace of this kind needs (run inside it). */
static int ns_sysctls(const struct inside_ctx *c)
{
    const struct lab *lab = c->t->lab;
    int err = ns_sysctl_list(c, NS_SYSCTLS(sysctl_common));
    if (err == 0 && c->kind == NS_FABRIC)
        err = ns_sysctl_list(c, NS_SYSCTLS(sysctl_fabric));
    if (err < 0 || c->kind != NS_ROUTER)
        return err;
    if ((err = ns_sysctl_list(c, NS_SYSCTLS(sysctl_router))) < 0)
        return err;
    /* This router's own mode (a router's monitor is t->mon[v]); bgp with
     * multipath: BIRD's merged route hashes the same way. */
    if (!lab_routing_hashes(lab, (size_t)(c->mon - c->t->mon)))
        return 0;
    if ((err = ns_sysctl_list(c, NS_SYSCTLS(sysctl_ecmp))) < 0)
        return err;
    /* A fixed hash seed (kernels from 6.11 have the sysctl) makes every run
     * spread the same flows the same way, so drills are reproducible. */
    err = netns_sysctl_write_at(&c->sysdir, "net.ipv4.fib_multipath_hash_seed", "1095262572");
    if (err < 0 && err != -ENOENT)
        ah_log_warn("netns %s: sysctl net.ipv4.fib_multipath_hash_seed: %s", c->ns->name,
                    strerror(-err));
    return 0;
}

/* Runs inside a new namespace: its sockets, its own fd, and its sysctls. */
static int ns_inside(void *arg)
{
    struct inside_ctx *c = arg;
    int err = nl_open(&c->ns->nl, c->ns->name, 0);
    if (err < 0) {
        ah_log_error("netns %s: netlink socket: %s", c->ns->name, strerror(-err));
        return err;
    }
    if (c->mon) {
        err = nl_open(&c->mon->nl, c->ns->name, 0);
        if (err < 0)
            return err;
    }
    c->ns->fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (c->ns->fd < 0)
        return -errno;
    if ((err = netns_sysdir_open(&c->sysdir)) < 0)
        return err;
    err = ns_sysctls(c);
    netns_sysdir_close(&c->sysdir);
    return err;
}

static int ns_make(struct topo *t, struct topo_ns *ns, enum ns_kind kind, struct topo_mon *mon)
{
    struct inside_ctx c = {.t = t, .ns = ns, .kind = kind, .mon = mon};
    ns->fd = -1;
    int err = netns_create(ns->name, ns_inside, &c);
    if (err < 0) {
        nl_close(&ns->nl);
        if (mon)
            nl_close(&mon->nl);
        if (ns->fd >= 0)
            close(ns->fd);
        ns->fd = -1;
        return err;
    }
    ns->made = true;
    return 0;
}

static int ns_name(char *buf, const char *run_id, char role, const char *name)
{
    int n = name
                ? snprintf(buf, TOPO_NETNS_MAX, "%s%s-%c-%s", TOPO_NETNS_PREFIX, run_id, role, name)
                : snprintf(buf, TOPO_NETNS_MAX, "%s%s-%c", TOPO_NETNS_PREFIX, run_id, role);
    return (n < 0 || n >= TOPO_NETNS_MAX) ? -ENAMETOOLONG : 0;
}

/* The names of every namespace of the run. Returns 0 or -ENAMETOOLONG
 * (logged). */
int topo_ns_name_all(struct topo *t, const char *run_id)
{
    const struct lab *lab = t->lab;
    int err = ns_name(t->fabric.name, run_id, 'f', NULL);
    for (size_t i = 0; i < lab->nnodes && !err; i++)
        err = ns_name(t->nodes[i].name, run_id, 'n', lab->nodes[i].name);
    for (size_t v = 0; v < lab->nvantages && !err; v++) {
        err = ns_name(t->routers[v].name, run_id, 'r', lab->vantages[v].name);
        if (!err)
            err = ns_name(t->clients[v].name, run_id, 'c', lab->vantages[v].name);
    }
    if (err < 0)
        ah_log_error("topology: a namespace name for run %s is longer than %d characters", run_id,
                     TOPO_NETNS_MAX - 1);
    return err;
}

/* Namespace i of the run: the fabric, the nodes, then each vantage's
 * router and client. */
static int make_one(void *arg, size_t i)
{
    struct topo *t = arg;
    size_t nn = t->lab->nnodes;
    if (i == 0)
        return ns_make(t, &t->fabric, NS_FABRIC, NULL);
    if (i <= nn)
        return ns_make(t, &t->nodes[i - 1], NS_NODE, NULL);
    size_t v = (i - 1 - nn) / 2;
    if ((i - 1 - nn) % 2 == 0)
        return ns_make(t, &t->routers[v], NS_ROUTER, &t->mon[v]);
    return ns_make(t, &t->clients[v], NS_CLIENT, NULL);
}

/* Each namespace is made on a thread of its own choosing: a new namespace
 * belongs to the thread that made it, which makes its sockets and writes
 * its sysctls and then returns to ours, so the namespaces are independent
 * and a thread per core builds them side by side. */
int topo_ns_make_all(struct topo *t)
{
    return par_for(1 + t->lab->nnodes + 2 * t->lab->nvantages, par_cores(), true, make_one, t);
}
