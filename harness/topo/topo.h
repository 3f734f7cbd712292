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
#include "harness/lab/lab.h"

#define TOPO_NETNS_PREFIX "ah-lab-"
#define TOPO_NETNS_MAX    64
#define TOPO_RUNID_MAX    17 /* run ids: 1..16 characters [a-z0-9] */
/* The lab file's bounds (lab.h) are the topology's: what `check` accepts,
 * `run` builds. */
#define TOPO_MAX_NODES    LAB_NODES_MAX
#define TOPO_MAX_VANTAGES LAB_VANTAGES_MAX

enum topo_role {
    TOPO_FABRIC, /* the namespace holding the bridge (index ignored) */
    TOPO_NODE,   /* one per lab node: anycast addresses on lo */
    TOPO_ROUTER, /* one per vantage */
    TOPO_CLIENT, /* one per vantage, behind its router: where probes run */
};

struct topo;

/* Builds the whole topology for lab under run id run_id (short, [a-z0-9]).
 * On failure everything already made is removed again. lab is borrowed and
 * must outlive the topology. No other thread of the process may make
 * sockets while this runs: it makes the namespaces and sends their batches
 * on threads of its own (each switches its own namespace back and forth) and
 * joins them before it returns; the address plan and interface names are in
 * docs/topology.md. */
int topo_build(const struct lab *lab, const char *run_id, struct topo **out);

/* The topology of a lab another process built under run_id (`anycast-lab
 * up`) from the same lab model: the netlink sockets opened inside its
 * existing namespaces and the route monitors started, nothing created or
 * changed. withdrawn and link_down (per node, each may be NULL) say what
 * earlier drills of that lab changed, so that the drill actions install
 * what they would in the lab's own process. Returns 0, -ENOENT when a
 * namespace is missing (logged), or another negative errno. The calling
 * process must be single-threaded (it enters each namespace in turn).
 * topo_release() frees it and leaves the lab up. */
int topo_attach(const struct lab *lab, const char *run_id, const bool *withdrawn,
                const bool *link_down, struct topo **out);

/* Removes every namespace (and so every link and route) of the topology,
 * after killing any process still inside one of them, and frees it. Safe on
 * NULL. Returns the first error but always tries all. */
int topo_destroy(struct topo *t);

/* Frees the topology and closes its sockets but leaves the namespaces up
 * (`anycast-lab up`, --keep-up); teardown_sweep() (harness/run/teardown.h) with the run's prefix
 * removes them later. Safe on NULL. */
void topo_release(struct topo *t);

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
/* routing: tracked: adds (on) or deletes one node's static routes (all
 * anycast addresses, metric by the vantage's prefer rank) at one router, as a
 * track object going up or down does; nothing when the vantage does not
 * prefer the node. Sets *ack_ns like the drill actions. */
int topo_router_route_set(struct topo *t, size_t v, size_t node, bool on, uint64_t *ack_ns);
/* link-down/link-up of the node's fabric link; link-up puts back what the
 * kernel deleted on link-down (IPv6 addresses, routes). */
int topo_link_set(struct topo *t, size_t node, bool up, uint64_t *ack_ns);

/* Route monitor: one netlink socket per router subscribed to route and
 * nexthop changes. topo_monitor_fds() stores up to cap fds to poll and
 * returns how many it stored (with fds NULL: how many there are, one per
 * vantage). When one is readable, topo_monitor_read() decodes the messages
 * and calls cb once per change to the anycast routes with the router's
 * vantage index and a short text naming the new nexthop(s) ("ams",
 * "ams+nyc", "none"). ts_ns is when the first notification was read. The
 * kernel queues a change's notifications before it acknowledges the change,
 * so reading right after topo_withdraw() & co. sees their effect. */
typedef void (*topo_route_cb)(void *arg, uint64_t ts_ns, size_t vantage, const char *nexthops);
int topo_monitor_fds(const struct topo *t, int *fds, size_t cap);
int topo_monitor_read(struct topo *t, int fd, topo_route_cb cb, void *arg);
/* The text the monitor holds now for a vantage's router (the routes as built
 * before any callback: "ams" for static, "ams+nyc+sin" for ecmp). When the
 * anycast addresses disagree, e.g. in the middle of a change, the text names
 * each: "198.51.100.53=nyc 2001:db8:53::53=ams". The sockets are non-blocking;
 * cb is called once per change of this text, after all queued notifications
 * are applied. */
const char *topo_monitor_state(const struct topo *t, size_t vantage);

#endif
