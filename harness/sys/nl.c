/* Thin rtnetlink helpers on libmnl (see nl.h): batching of requests with a
 * single ACK per batch, error mapping with extended-ack text, dumps, and the
 * message builders the topology needs (links, addresses, routes, nexthops). */
#include "nl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/neighbour.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ah/clock.h"
#include "ah/log.h"

/* The batch buffer, and the room a message may need at most (a multipath
 * route over a few hundred IPv6 gateways stays well below it). */
#define NL_BUF_CAP   (192 * 1024)
#define NL_MSG_ROOM  (32 * 1024)
#define NL_RCVBUF    (4 * 1024 * 1024)
#define NL_RECV_SIZE (64 * 1024)

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

const char *nl_ip_str(const struct nl_ip *ip, char *buf, size_t len)
{
    if (!inet_ntop(ip->family, ip->u.raw, buf, (socklen_t)len))
        snprintf(buf, len, "?");
    return buf;
}

int nl_open(struct nl *nl, const char *label, unsigned groups)
{
    int one = 1, rcv = NL_RCVBUF, snd = NL_BUF_CAP * 2, err;

    memset(nl, 0, sizeof(*nl));
    nl->cur = SIZE_MAX;
    snprintf(nl->label, sizeof(nl->label), "%s", label);
    /* Close-on-exec: a lab holds thousands of these, and every responder
     * and probe it started used to inherit them all. */
    nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!nl->sock)
        return -errno;
    /* Extended ACKs give the kernel's reason; capped ACKs keep them small. */
    mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
    mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
    /* Monitors must not lose notifications in a burst (a drill touching
     * every router); the FORCE variants need CAP_NET_ADMIN, which we have. */
    if (setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
        setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    if (setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) < 0)
        setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
    if (mnl_socket_bind(nl->sock, groups, MNL_SOCKET_AUTOPID) < 0) {
        err = -errno;
        goto fail;
    }
    nl->portid = mnl_socket_get_portid(nl->sock);
    nl->seq = 1;
    return 0;
fail:
    nl_close(nl);
    return err;
}

void nl_close(struct nl *nl)
{
    if (nl->sock)
        mnl_socket_close(nl->sock);
    free(nl->buf);
    nl->sock = NULL;
    nl->buf = NULL;
    nl->desc = NULL;
}

int nl_fd(const struct nl *nl)
{
    return nl->sock ? mnl_socket_get_fd(nl->sock) : -1;
}

int nl_join(struct nl *nl, unsigned group)
{
    if (mnl_socket_setsockopt(nl->sock, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
        return -errno;
    return 0;
}

static void nl_commit(struct nl *nl)
{
    if (nl->cur == SIZE_MAX)
        return;
    struct nlmsghdr *nlh = (struct nlmsghdr *)(nl->buf + nl->cur);
    nl->len = nl->cur + NLMSG_ALIGN(nlh->nlmsg_len);
    nl->cur = SIZE_MAX;
}

/* The batch buffer exists only while a batch is pending: a lab keeps
 * thousands of these sockets, and a process holding their buffers (200 KiB
 * each, partly touched) made every fork() of a probe slower by milliseconds
 * (the page tables are copied). */
static int nl_buf_get(struct nl *nl)
{
    if (nl->buf)
        return 0;
    nl->buf = malloc(NL_BUF_CAP + NL_BATCH_MAX * sizeof(*nl->desc));
    if (!nl->buf)
        return -ENOMEM;
    nl->desc = (char(*)[NL_DESC_MAX])(nl->buf + NL_BUF_CAP);
    return 0;
}

static void nl_buf_put(struct nl *nl)
{
    free(nl->buf);
    nl->buf = NULL;
    nl->desc = NULL;
}

struct nlmsghdr *nl_msg(struct nl *nl, uint16_t type, uint16_t flags, const char *desc, ...)
{
    va_list ap;

    nl_commit(nl);
    if (nl->npending >= NL_BATCH_MAX || nl->len + NL_MSG_ROOM > NL_BUF_CAP) {
        int err = nl_flush(nl);
        if (err < 0 && !nl->err)
            nl->err = err;
    }
    if (nl_buf_get(nl) < 0) {
        if (!nl->err)
            nl->err = -ENOMEM;
        return NULL;
    }
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf + nl->len);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    nlh->nlmsg_seq = nl->seq++;
    if (nl->npending == 0)
        nl->first_seq = nlh->nlmsg_seq;
    va_start(ap, desc);
    vsnprintf(nl->desc[nl->npending], NL_DESC_MAX, desc, ap);
    va_end(ap);
    nl->npending++;
    nl->cur = nl->len;
    return nlh;
}

/* Logs one error answer: which request failed, in which namespace, why. */
static void nl_log_error(struct nl *nl, const struct nlmsghdr *nlh, const struct nlmsgerr *e)
{
    const char *text = NULL;
    uint32_t i = e->msg.nlmsg_seq - nl->first_seq;

    if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
        size_t off = sizeof(*e);
        if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
            off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
        const char *p = (const char *)e + NLMSG_ALIGN(off);
        const char *end = (const char *)nlh + nlh->nlmsg_len;
        while (end - p >= (ptrdiff_t)sizeof(struct nlattr)) {
            const struct nlattr *a = (const struct nlattr *)p;
            if (a->nla_len < sizeof(*a) || a->nla_len > end - p)
                break;
            if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG && a->nla_len > sizeof(*a)) {
                text = (const char *)(a + 1);
                break;
            }
            p += NLA_ALIGN(a->nla_len);
        }
    }
    ah_log_error("netns %s: %s: %s%s%s%s", nl->label, i < nl->npending ? nl->desc[i] : "request",
                 strerror(-e->error), text ? " (kernel: " : "", text ? text : "", text ? ")" : "");
}

int nl_flush(struct nl *nl)
{
    char *rbuf = NULL;
    int ret = nl->err;
    uint32_t last;

    nl->err = 0;
    nl_commit(nl);
    if (nl->npending == 0)
        return ret;
    struct nlmsghdr *lastmsg = NULL;
    for (size_t off = 0; off < nl->len;) {
        lastmsg = (struct nlmsghdr *)(nl->buf + off);
        off += NLMSG_ALIGN(lastmsg->nlmsg_len);
    }
    lastmsg->nlmsg_flags |= NLM_F_ACK;
    last = lastmsg->nlmsg_seq;
    if (mnl_socket_sendto(nl->sock, nl->buf, nl->len) < 0) {
        ret = -errno;
        ah_log_error("netns %s: netlink send of %u requests: %s", nl->label, nl->npending,
                     strerror(errno));
        goto out;
    }
    rbuf = malloc(NL_RECV_SIZE);
    if (!rbuf) {
        ret = -ENOMEM;
        goto out;
    }
    /* rtnetlink handles the whole batch inside sendmsg, so every answer is
     * already queued; read until the last message's ACK. */
    for (bool done = false; !done;) {
        ssize_t n = mnl_socket_recvfrom(nl->sock, rbuf, NL_RECV_SIZE);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            ret = ret ? ret : -errno;
            ah_log_error("netns %s: netlink receive: %s", nl->label, strerror(errno));
            goto out;
        }
        nl->ack_ns = ah_clock_realtime_ns();
        const struct nlmsghdr *nlh = (const struct nlmsghdr *)rbuf;
        int len = (int)n;
        for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
            if (nlh->nlmsg_type != NLMSG_ERROR)
                continue;
            const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
            uint32_t seq = e->msg.nlmsg_seq;
            if (seq < nl->first_seq || seq > last)
                continue; /* a late answer to an earlier batch */
            if (e->error) {
                nl_log_error(nl, nlh, e);
                if (!ret)
                    ret = e->error;
            }
            if (seq == last)
                done = true;
        }
    }
out:
    free(rbuf);
    nl->len = 0;
    nl->cur = SIZE_MAX;
    nl->npending = 0;
    nl_buf_put(nl);
    return ret;
}

int nl_dump(struct nl *nl, uint16_t type, int family, nl_dump_cb cb, void *arg)
{
    char *rbuf = malloc(NL_RECV_SIZE);
    size_t hdr = sizeof(struct rtmsg);
    int ret = 0;

    if (!rbuf)
        return -ENOMEM;
    if (type == RTM_GETNEXTHOP)
        hdr = sizeof(struct nhmsg);
    else if (type == RTM_GETLINK)
        hdr = sizeof(struct ifinfomsg);
    else if (type == RTM_GETADDR)
        hdr = sizeof(struct ifaddrmsg);
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(rbuf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = nl->seq++;
    unsigned char *fam = mnl_nlmsg_put_extra_header(nlh, hdr);
    fam[0] = (unsigned char)family;
    uint32_t seq = nlh->nlmsg_seq;
    if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0) {
        ret = -errno;
        goto out;
    }
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl->sock, rbuf, NL_RECV_SIZE);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            ret = -errno;
            goto out;
        }
        const struct nlmsghdr *m = (const struct nlmsghdr *)rbuf;
        int len = (int)n;
        for (; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
            if (m->nlmsg_seq != seq)
                continue;
            if (m->nlmsg_type == NLMSG_DONE)
                goto out;
            if (m->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
                ret = e->error;
                goto out;
            }
            if (ret == 0) {
                int r = cb(m, arg);
                if (r < 0)
                    ret = r; /* keep reading to the end of the dump */
            }
        }
    }
out:
    free(rbuf);
    return ret;
}

/* Fills the ifinfomsg of a new or changed link. */
static void put_ifinfo(struct nlmsghdr *nlh, int ifindex, bool up)
{
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    ifi->ifi_flags = up ? IFF_UP : 0;
    ifi->ifi_change = IFF_UP;
}

int nl_bridge_add(struct nl *nl, const struct nl_link *br)
{
    struct nlmsghdr *nlh =
        nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, "create bridge %s", br->name);
    if (!nlh)
        return -EIO;
    put_ifinfo(nlh, br->ifindex, br->up);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, br->name);
    struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
    struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
    /* No STP (ports forward at once) and no multicast snooping (IPv6
     * neighbour discovery must flood: the lab has no MLD querier). */
    mnl_attr_put_u32(nlh, IFLA_BR_STP_STATE, 0);
    mnl_attr_put_u32(nlh, IFLA_BR_FORWARD_DELAY, 0);
    mnl_attr_put_u8(nlh, IFLA_BR_MCAST_SNOOPING, 0);
    mnl_attr_nest_end(nlh, data);
    mnl_attr_nest_end(nlh, info);
    return 0;
}

int nl_veth_add(struct nl *nl, const struct nl_link *a, const struct nl_link *peer,
                int peer_netns_fd)
{
    struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL,
                                  "create veth %s (peer %s)", a->name, peer->name);
    if (!nlh)
        return -EIO;
    put_ifinfo(nlh, a->ifindex, a->up);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, a->name);
    /* One queue each way, said explicitly: otherwise veth makes one per CPU
     * and then trims them, which waits for an RCU grace period per link. */
    mnl_attr_put_u32(nlh, IFLA_NUM_TX_QUEUES, 1);
    mnl_attr_put_u32(nlh, IFLA_NUM_RX_QUEUES, 1);
    if (a->master)
        mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)a->master);
    if (a->mac)
        mnl_attr_put(nlh, IFLA_ADDRESS, NL_MAC_LEN, a->mac);
    struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
    struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
    struct nlattr *p = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
    /* The peer's ifinfomsg sits right at the start of VETH_INFO_PEER. */
    struct ifinfomsg *ifi = mnl_nlmsg_get_payload_tail(nlh);
    memset(ifi, 0, sizeof(*ifi));
    nlh->nlmsg_len += MNL_ALIGN(sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = peer->ifindex;
    ifi->ifi_flags = peer->up ? IFF_UP : 0;
    ifi->ifi_change = IFF_UP;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, peer->name);
    mnl_attr_put_u32(nlh, IFLA_NUM_TX_QUEUES, 1);
    mnl_attr_put_u32(nlh, IFLA_NUM_RX_QUEUES, 1);
    if (peer_netns_fd >= 0)
        mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
    if (peer->mac)
        mnl_attr_put(nlh, IFLA_ADDRESS, NL_MAC_LEN, peer->mac);
    mnl_attr_nest_end(nlh, p);
    mnl_attr_nest_end(nlh, data);
    mnl_attr_nest_end(nlh, info);
    return 0;
}

int nl_link_set(struct nl *nl, int ifindex, bool up)
{
    struct nlmsghdr *nlh =
        nl_msg(nl, RTM_NEWLINK, 0, "set link %d %s", ifindex, up ? "up" : "down");
    if (!nlh)
        return -EIO;
    put_ifinfo(nlh, ifindex, up);
    return 0;
}

int nl_brport_mcast_flood(struct nl *nl, int ifindex, bool on)
{
    struct nlmsghdr *nlh =
        nl_msg(nl, RTM_NEWLINK, 0, "set bridge port %d mcast_flood %s", ifindex, on ? "on" : "off");
    if (!nlh)
        return -EIO;
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_SLAVE_KIND, "bridge");
    struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_SLAVE_DATA);
    mnl_attr_put_u8(nlh, IFLA_BRPORT_MCAST_FLOOD, on ? 1 : 0);
    mnl_attr_nest_end(nlh, data);
    mnl_attr_nest_end(nlh, info);
    return 0;
}

int nl_link_set_master(struct nl *nl, int ifindex, int master)
{
    struct nlmsghdr *nlh =
        nl_msg(nl, RTM_NEWLINK, 0, "attach link %d to bridge %d", ifindex, master);
    if (!nlh)
        return -EIO;
    put_ifinfo(nlh, ifindex, true);
    mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
    return 0;
}

int nl_neigh_add(struct nl *nl, int ifindex, const struct nl_ip *ip, const uint8_t *mac)
{
    char a[INET6_ADDRSTRLEN];
    struct nlmsghdr *nlh =
        nl_msg(nl, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, "add neighbour %s on link %d",
               nl_ip_str(ip, a, sizeof(a)), ifindex);
    if (!nlh)
        return -EIO;
    struct ndmsg *nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
    nd->ndm_family = (uint8_t)ip->family;
    nd->ndm_ifindex = ifindex;
    nd->ndm_state = NUD_PERMANENT;
    mnl_attr_put(nlh, NDA_DST, nl_ip_len(ip), ip->u.raw);
    mnl_attr_put(nlh, NDA_LLADDR, NL_MAC_LEN, mac);
    return 0;
}

int nl_addr_add(struct nl *nl, int ifindex, const struct nl_ip *ip, unsigned plen, bool nodad)
{
    char a[INET6_ADDRSTRLEN];
    struct nlmsghdr *nlh =
        nl_msg(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, "add address %s/%u on link %d",
               nl_ip_str(ip, a, sizeof(a)), plen, ifindex);
    if (!nlh)
        return -EIO;
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
    ifa->ifa_family = (unsigned char)ip->family;
    ifa->ifa_prefixlen = (unsigned char)plen;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = (unsigned)ifindex;
    if (nodad && ip->family == AF_INET6) {
        ifa->ifa_flags = IFA_F_NODAD;
        mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
    }
    mnl_attr_put(nlh, IFA_LOCAL, nl_ip_len(ip), ip->u.raw);
    mnl_attr_put(nlh, IFA_ADDRESS, nl_ip_len(ip), ip->u.raw);
    return 0;
}

/* The common part of route requests: header, destination, table, metric. */
static struct nlmsghdr *route_msg(struct nl *nl, uint16_t type, uint16_t flags,
                                  const struct nl_route *r)
{
    char a[INET6_ADDRSTRLEN];
    struct nlmsghdr *nlh = nl_msg(nl, type, flags, "%s route %s/%u metric %u",
                                  type == RTM_DELROUTE      ? "delete"
                                  : (flags & NLM_F_REPLACE) ? "replace"
                                                            : "add",
                                  nl_ip_str(r->dst, a, sizeof(a)), r->plen, r->metric);
    if (!nlh)
        return NULL;
    struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
    rtm->rtm_family = (unsigned char)r->dst->family;
    rtm->rtm_dst_len = (unsigned char)r->plen;
    rtm->rtm_table = RT_TABLE_MAIN;
    rtm->rtm_protocol = RTPROT_STATIC;
    rtm->rtm_type = RTN_UNICAST;
    rtm->rtm_scope = (type == RTM_DELROUTE) ? RT_SCOPE_NOWHERE : RT_SCOPE_UNIVERSE;
    if (type != RTM_DELROUTE && r->ngw == 0 && r->nh_id == 0)
        rtm->rtm_scope = RT_SCOPE_LINK;
    mnl_attr_put(nlh, RTA_DST, nl_ip_len(r->dst), r->dst->u.raw);
    mnl_attr_put_u32(nlh, RTA_PRIORITY, r->metric);
    return nlh;
}

int nl_route_add(struct nl *nl, const struct nl_route *r, bool replace)
{
    struct nlmsghdr *nlh =
        route_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL), r);
    if (!nlh)
        return -EIO;
    if (r->nh_id) {
        mnl_attr_put_u32(nlh, RTA_NH_ID, r->nh_id);
    } else if (r->ngw <= 1) {
        mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)r->oif);
        if (r->ngw == 1)
            mnl_attr_put(nlh, RTA_GATEWAY, nl_ip_len(&r->gw[0]), r->gw[0].u.raw);
    } else {
        struct nlattr *mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
        for (size_t i = 0; i < r->ngw; i++) {
            struct rtnexthop *nh = mnl_nlmsg_get_payload_tail(nlh);
            memset(nh, 0, sizeof(*nh));
            nlh->nlmsg_len += RTNH_ALIGN(sizeof(*nh));
            nh->rtnh_ifindex = r->oif;
            mnl_attr_put(nlh, RTA_GATEWAY, nl_ip_len(&r->gw[i]), r->gw[i].u.raw);
            nh->rtnh_len = (unsigned short)((char *)mnl_nlmsg_get_payload_tail(nlh) - (char *)nh);
        }
        mnl_attr_nest_end(nlh, mp);
    }
    return 0;
}

int nl_route_del(struct nl *nl, const struct nl_route *r)
{
    return route_msg(nl, RTM_DELROUTE, 0, r) ? 0 : -EIO;
}

int nl_nexthop_add(struct nl *nl, uint32_t id, int oif, const struct nl_ip *gw)
{
    char a[INET6_ADDRSTRLEN];
    struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWNEXTHOP, NLM_F_CREATE | NLM_F_EXCL,
                                  "add nexthop %u via %s", id, nl_ip_str(gw, a, sizeof(a)));
    if (!nlh)
        return -EIO;
    struct nhmsg *nhm = mnl_nlmsg_put_extra_header(nlh, sizeof(*nhm));
    nhm->nh_family = (unsigned char)gw->family;
    mnl_attr_put_u32(nlh, NHA_ID, id);
    mnl_attr_put_u32(nlh, NHA_OIF, (uint32_t)oif);
    mnl_attr_put(nlh, NHA_GATEWAY, nl_ip_len(gw), gw->u.raw);
    return 0;
}

int nl_nhgroup_res_set(struct nl *nl, uint32_t id, const uint32_t *members, size_t n,
                       uint16_t buckets, uint32_t idle_timer_s, bool replace)
{
    struct nlmsghdr *nlh =
        nl_msg(nl, RTM_NEWNEXTHOP, NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL),
               "%s resilient nexthop group %u (%zu members)", replace ? "replace" : "add", id, n);
    if (!nlh)
        return -EIO;
    struct nhmsg *nhm = mnl_nlmsg_put_extra_header(nlh, sizeof(*nhm));
    nhm->nh_family = AF_UNSPEC;
    mnl_attr_put_u32(nlh, NHA_ID, id);
    /* NHA_GROUP is a plain array: a nest flag would fail strict parsing. */
    struct nlattr *g = mnl_nlmsg_get_payload_tail(nlh);
    g->nla_type = NHA_GROUP;
    g->nla_len = (uint16_t)(sizeof(*g) + n * sizeof(struct nexthop_grp));
    struct nexthop_grp *e = (struct nexthop_grp *)(g + 1);
    memset(e, 0, n * sizeof(*e));
    for (size_t i = 0; i < n; i++)
        e[i].id = members[i];
    nlh->nlmsg_len += MNL_ALIGN(g->nla_len);
    mnl_attr_put_u16(nlh, NHA_GROUP_TYPE, NEXTHOP_GRP_TYPE_RES);
    struct nlattr *res = mnl_attr_nest_start(nlh, NHA_RES_GROUP);
    mnl_attr_put_u16(nlh, NHA_RES_GROUP_BUCKETS, buckets);
    mnl_attr_put_u32(nlh, NHA_RES_GROUP_IDLE_TIMER, idle_timer_s * 100); /* clock_t */
    mnl_attr_put_u32(nlh, NHA_RES_GROUP_UNBALANCED_TIMER, 0);
    mnl_attr_nest_end(nlh, res);
    return 0;
}

int nl_nexthop_del(struct nl *nl, uint32_t id)
{
    struct nlmsghdr *nlh = nl_msg(nl, RTM_DELNEXTHOP, 0, "delete nexthop %u", id);
    if (!nlh)
        return -EIO;
    struct nhmsg *nhm = mnl_nlmsg_put_extra_header(nlh, sizeof(*nhm));
    nhm->nh_family = AF_UNSPEC;
    mnl_attr_put_u32(nlh, NHA_ID, id);
    return 0;
}
