/* The lab topology in the kernel: network namespaces, veths, the fabric
 * bridge, addresses, routes and sysctls, all made in-process over rtnetlink
 * (libmnl) from a validated lab model, and the route changes drills make.
 * Every namespace name starts with "ah-lab-<run id>-" so runs never collide and
 * `anycast-lab clean` finds leftovers. */
#ifndef TOPO_H
#define TOPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ah/addr.h"
#include "lab.h"

#define TOPO_NETNS_PREFIX "ah-lab-"
#define TOPO_NETNS_MAX    64

enum topo_role {
    TOPO_FABRIC, /* the namespace holding the bridge (index ignored) */
    TOPO_NODE,   /* one per lab node: anycast addresses on lo */
    TOPO_ROUTER, /* one per vantage */
    TOPO_CLIENT, /* one per vantage, behind its router: where probes run */
};

struct topo;

/* Builds the whole topology for lab under run id run_id (short, [a-z0-9]).
 * On failure everything already made is removed again. */
int topo_build(const struct lab *lab, const char *run_id, struct topo **out);

/* Removes every namespace (and so every link and route) of the topology and
 * frees it. Safe on NULL. Returns the first error but always tries all. */
int topo_destroy(struct topo *t);

/* "ah-lab-<run id>-<role letter>-<name>", e.g. "ah-lab-k3x9-n-ams"; usable with
 * `ip netns exec`. */
const char *topo_netns(const struct topo *t, enum topo_role role, size_t idx);

/* The node's unicast fabric address, and a vantage client's address (the
 * source of its probes), by family (AF_INET or AF_INET6). */
const struct ah_addr *topo_node_addr(const struct topo *t, size_t node, int family);
const struct ah_addr *topo_client_addr(const struct topo *t, size_t vantage, int family);

/* Drill actions. Each returns 0 and the CLOCK_REALTIME ns at which the last
 * kernel acknowledgement arrived (ack_ns may be NULL). What withdraw means
 * follows the lab's routing mode (static: delete the node's routes at every
 * router; ecmp: rebuild the multipath route without it; ecmp-resilient:
 * remove it from the nexthop group). */
int topo_withdraw(struct topo *t, size_t node, uint64_t *ack_ns);
int topo_announce(struct topo *t, size_t node, uint64_t *ack_ns);
/* link-down/link-up of the node's fabric link; link-up puts back what the
 * kernel deleted on link-down (IPv6 addresses, routes). */
int topo_link_set(struct topo *t, size_t node, bool up, uint64_t *ack_ns);

/* Route monitor: one netlink socket per router subscribed to route and
 * nexthop changes. topo_monitor_fds() gives the fds to poll; when one is
 * readable, topo_monitor_read() decodes the messages and calls cb once per
 * change to the anycast routes with the router's vantage index and a short
 * text naming the new nexthop(s) ("ams", "ams+nyc", "none"). */
typedef void (*topo_route_cb)(void *arg, uint64_t ts_ns, size_t vantage, const char *nexthops);
int topo_monitor_fds(const struct topo *t, int *fds, size_t cap);
int topo_monitor_read(struct topo *t, int fd, topo_route_cb cb, void *arg);

/* Runs in a forked child before exec: enters the named namespace (network,
 * plus /etc/netns/NAME bind mounts are not used). Returns 0 or -errno. */
int topo_enter_netns(const char *netns_name);

/* Removes every namespace whose name starts with TOPO_NETNS_PREFIX (or
 * prefix, e.g. "ah-lab-k3x9-"), after killing every process inside it, but
 * skips labs whose owning anycast-lab process is alive. Calls
 * report(arg, what) for each thing removed. Returns the count or -errno. */
int topo_clean(const char *prefix, void (*report)(void *arg, const char *what), void *arg);

#endif
