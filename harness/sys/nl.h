/* Thin rtnetlink helpers on libmnl for the lab topology: one socket per
 * network namespace, requests appended to a batch and sent with one sendmsg,
 * errors mapped to -errno (the kernel's extended-ack text logged with the
 * object the request was about), and dumps for reading state back. */
#ifndef NL_H
#define NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct mnl_socket;
struct nlmsghdr;

/* Most messages a batch holds before nl_msg() flushes it by itself. Only the
 * last message of a batch asks for an ACK; the kernel answers a failing
 * message with an error anyway, so a batch costs one round trip. */
#define NL_BATCH_MAX 256
#define NL_DESC_MAX  80

struct nl {
    struct mnl_socket *sock;
    uint32_t portid;
    uint32_t seq;              /* sequence number of the next message */
    char *buf;                 /* pending batch, NULL when none */
    size_t len;                /* bytes of finished messages in buf */
    size_t cur;                /* offset of the message being built, or SIZE_MAX */
    int err;                   /* first error of a flush nl_msg() forced */
    unsigned npending;         /* messages in the batch */
    uint32_t first_seq;        /* sequence number of the batch's first message */
    char (*desc)[NL_DESC_MAX]; /* what each pending message does, for errors */
    char label[64];            /* namespace name, for messages */
    uint64_t ack_ns;           /* CLOCK_REALTIME of the last ACK received */
};

/* An IPv4 or IPv6 address without port, as netlink carries it. */
struct nl_ip {
    int family; /* AF_INET or AF_INET6 */
    union {
        struct in_addr v4;
        struct in6_addr v6;
        uint8_t raw[16];
    } u;
};

static inline size_t nl_ip_len(const struct nl_ip *ip)
{
    return ip->family == AF_INET ? 4 : 16;
}

/* Opens a route netlink socket in the calling thread's current network
 * namespace (it stays bound to that namespace for its lifetime), with
 * extended ACKs and a large receive buffer. groups: RTMGRP_* bitmask for
 * monitors, 0 for request sockets. */
int nl_open(struct nl *nl, const char *label, unsigned groups);
void nl_close(struct nl *nl);
int nl_fd(const struct nl *nl);

/* Subscribes a socket to the multicast group (RTNLGRP_* number). Works from
 * any namespace: the socket keeps the namespace it was opened in. */
int nl_join(struct nl *nl, unsigned group);

/* Starts a message of type with flags (NLM_F_REQUEST is added) in the batch,
 * flushing first if the batch is full; desc (printf format) names the object
 * for error messages. The batch's buffer is allocated here and freed by
 * nl_flush. Returns NULL only when that allocation fails (the error is kept
 * and returned by the next nl_flush, as is that of a forced flush). */
struct nlmsghdr *nl_msg(struct nl *nl, uint16_t type, uint16_t flags, const char *desc, ...)
    __attribute__((format(printf, 4, 5)));

/* Sends the batch and waits for its ACK. Returns 0 or the first -errno; every
 * failing message is logged with its description and the kernel's text.
 * nl->ack_ns is set when the ACK arrives. An empty batch returns 0. */
int nl_flush(struct nl *nl);

/* Sends a dump request (type RTM_GET*, family) and calls cb for each
 * answer. The batch must be empty. Returns 0 or -errno. */
typedef int (*nl_dump_cb)(const struct nlmsghdr *nlh, void *arg);
int nl_dump(struct nl *nl, uint16_t type, int family, nl_dump_cb cb, void *arg);

/* Links. Names must be shorter than IFNAMSIZ. ifindex 0 lets the kernel
 * choose; a fixed index (they are per namespace) lets later messages in the
 * same batch refer to the link without asking for it. */
struct nl_link {
    const char *name;
    int ifindex;
    bool up;
    int master;         /* ifindex of the bridge, or 0 (a veth peer: ignored) */
    const uint8_t *mac; /* NL_MAC_LEN bytes, or NULL: the kernel picks one */
};
#define NL_MAC_LEN 6
int nl_bridge_add(struct nl *nl, const struct nl_link *br);
/* A veth pair: a here, peer in the namespace open as peer_netns_fd (-1: here). */
int nl_veth_add(struct nl *nl, const struct nl_link *a, const struct nl_link *peer,
                int peer_netns_fd);
int nl_link_set(struct nl *nl, int ifindex, bool up);
/* A bridge port's multicast flooding (on by default): off, the port gets no
 * multicast frame the bridge has no group entry for. */
int nl_brport_mcast_flood(struct nl *nl, int ifindex, bool on);
/* Attaches a link to a bridge (master ifindex) and sets it up. */
int nl_link_set_master(struct nl *nl, int ifindex, int master);

/* Adds (or, with replace, updates) an address; nodad for IPv6. */
int nl_addr_add(struct nl *nl, int ifindex, const struct nl_ip *ip, unsigned plen, bool nodad);

/* A permanent neighbour (ARP or ND) entry: ip is at mac on link ifindex.
 * Permanent entries are never resolved, probed or garbage collected, and the
 * kernel does not count them against the neighbour table's gc_thresh limits,
 * which all namespaces share. Replaces an entry already there. */
int nl_neigh_add(struct nl *nl, int ifindex, const struct nl_ip *ip, const uint8_t *mac);

/* A route to dst/plen in the main table with metric. Nexthops: one gateway
 * (ngw == 1), several (RTA_MULTIPATH), or a nexthop object nh_id (ngw == 0).
 * With ngw == 0 and nh_id == 0 the route is on-link via oif. */
struct nl_route {
    const struct nl_ip *dst;
    unsigned plen;
    uint32_t metric;
    int oif;
    const struct nl_ip *gw; /* array of ngw gateways, all via oif */
    size_t ngw;
    uint32_t nh_id;
};
int nl_route_add(struct nl *nl, const struct nl_route *r, bool replace);
int nl_route_del(struct nl *nl, const struct nl_route *r);

/* Nexthop objects: a gateway via oif, and a resilient group of member ids. */
int nl_nexthop_add(struct nl *nl, uint32_t id, int oif, const struct nl_ip *gw);
int nl_nhgroup_res_set(struct nl *nl, uint32_t id, const uint32_t *members, size_t n,
                       uint16_t buckets, uint32_t idle_timer_s, bool replace);
int nl_nexthop_del(struct nl *nl, uint32_t id);

/* Formats an address for messages into buf (INET6_ADDRSTRLEN bytes). */
const char *nl_ip_str(const struct nl_ip *ip, char *buf, size_t len);

#endif
