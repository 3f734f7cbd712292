/* The route monitor: per router, a socket subscribed to IPv4/IPv6 route and
 * nexthop notifications keeps a copy of what the kernel has for the anycast
 * addresses and reports which node(s) each router sends to after a change:
 * the ground truth the drill's effects are measured against. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ah/addr.h"
#include "ah/clock.h"
#include "ah/log.h"
#include "topo_int.h"

struct mon_ctx {
    struct topo *t;
    size_t v;
};

static struct mon_route *route_find(struct topo_mon *m, size_t any, uint32_t metric, bool make,
                                    size_t nnodes)
{
    for (size_t k = 0; k < m->nroutes; k++)
        if (m->routes[k].any == any && m->routes[k].metric == metric)
            return &m->routes[k];
    if (!make)
        return NULL;
    if (m->nroutes == m->caproutes) {
        size_t cap = m->caproutes ? 2 * m->caproutes : 8;
        struct mon_route *r = realloc(m->routes, cap * sizeof(*r));
        if (!r)
            return NULL;
        m->routes = r;
        m->caproutes = cap;
    }
    struct mon_route *r = &m->routes[m->nroutes];
    memset(r, 0, sizeof(*r));
    r->set = calloc(nnodes, 1);
    if (!r->set)
        return NULL;
    r->any = any;
    r->metric = metric;
    m->nroutes++;
    return r;
}

static void route_drop(struct topo_mon *m, struct mon_route *r)
{
    free(r->set);
    *r = m->routes[--m->nroutes];
}

static struct mon_group *group_find(struct topo_mon *m, uint32_t id, bool make, size_t nnodes)
{
    for (size_t k = 0; k < m->ngroups; k++)
        if (m->groups[k].id == id)
            return &m->groups[k];
    if (!make)
        return NULL;
    if (m->ngroups == m->capgroups) {
        size_t cap = m->capgroups ? 2 * m->capgroups : 4;
        struct mon_group *g = realloc(m->groups, cap * sizeof(*g));
        if (!g)
            return NULL;
        m->groups = g;
        m->capgroups = cap;
    }
    struct mon_group *g = &m->groups[m->ngroups];
    g->id = id;
    g->set = calloc(nnodes, 1);
    if (!g->set)
        return NULL;
    m->ngroups++;
    return g;
}

/* Node index of a nexthop object id (TOPO_NH_V4/V6 + node), or -1. */
static int node_of_nh(const struct topo *t, uint32_t id)
{
    if (id >= TOPO_NH_V6 && id - TOPO_NH_V6 < t->lab->nnodes)
        return (int)(id - TOPO_NH_V6);
    if (id >= TOPO_NH_V4 && id - TOPO_NH_V4 < t->lab->nnodes)
        return (int)(id - TOPO_NH_V4);
    return -1;
}

static void mark_gw(const struct topo *t, uint8_t *set, int family, const struct nlattr *a)
{
    struct nl_ip gw = {.family = family};
    size_t len = mnl_attr_get_payload_len(a);
    if (len != nl_ip_len(&gw))
        return;
    memcpy(gw.u.raw, mnl_attr_get_payload(a), len);
    int n = topo_plan_node_of(&gw);
    if (n >= 0 && (size_t)n < t->lab->nnodes)
        set[n] = 1;
}

static int route_msg(const struct nlmsghdr *nlh, struct topo *t, size_t v)
{
    const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *tb[RTA_MAX + 1] = {0}, *a;
    uint32_t table = rtm->rtm_table;

    if (rtm->rtm_flags & RTM_F_CLONED)
        return 0;
    if (rtm->rtm_dst_len != (rtm->rtm_family == AF_INET ? 32 : 128))
        return 0;
    mnl_attr_for_each(a, nlh, sizeof(*rtm))
    {
        uint16_t type = mnl_attr_get_type(a);
        if (type <= RTA_MAX)
            tb[type] = a;
    }
    if (tb[RTA_TABLE])
        table = mnl_attr_get_u32(tb[RTA_TABLE]);
    if (table != RT_TABLE_MAIN || !tb[RTA_DST])
        return 0;
    struct nl_ip dst = {.family = rtm->rtm_family};
    if (mnl_attr_get_payload_len(tb[RTA_DST]) != nl_ip_len(&dst))
        return 0;
    memcpy(dst.u.raw, mnl_attr_get_payload(tb[RTA_DST]), nl_ip_len(&dst));
    size_t any = SIZE_MAX;
    for (size_t k = 0; k < t->lab->nanycast; k++) {
        struct nl_ip ip;
        topo_ip_from_addr(&t->lab->anycast[k], &ip);
        if (ip.family == dst.family && !memcmp(ip.u.raw, dst.u.raw, nl_ip_len(&ip)))
            any = k;
    }
    if (any == SIZE_MAX)
        return 0;
    uint32_t metric = tb[RTA_PRIORITY] ? mnl_attr_get_u32(tb[RTA_PRIORITY]) : 0;
    struct topo_mon *m = &t->mon[v];
    if (nlh->nlmsg_type == RTM_DELROUTE) {
        struct mon_route *r = route_find(m, any, metric, false, 0);
        if (r)
            route_drop(m, r);
        return 0;
    }
    struct mon_route *r = route_find(m, any, metric, true, t->lab->nnodes);
    if (!r)
        return -ENOMEM;
    memset(r->set, 0, t->lab->nnodes);
    r->nh_id = tb[RTA_NH_ID] ? mnl_attr_get_u32(tb[RTA_NH_ID]) : 0;
    if (tb[RTA_GATEWAY])
        mark_gw(t, r->set, rtm->rtm_family, tb[RTA_GATEWAY]);
    if (tb[RTA_MULTIPATH]) {
        const char *p = mnl_attr_get_payload(tb[RTA_MULTIPATH]);
        size_t rem = mnl_attr_get_payload_len(tb[RTA_MULTIPATH]);
        while (rem >= sizeof(struct rtnexthop)) {
            const struct rtnexthop *nh = (const struct rtnexthop *)p;
            if (nh->rtnh_len < sizeof(*nh) || nh->rtnh_len > rem)
                break;
            const char *ap = p + RTNH_ALIGN(sizeof(*nh));
            const char *end = p + nh->rtnh_len;
            while (end - ap >= (ptrdiff_t)sizeof(struct nlattr)) {
                const struct nlattr *na = (const struct nlattr *)ap;
                if (na->nla_len < sizeof(*na) || na->nla_len > end - ap)
                    break;
                /* RTA_VIA would carry another family; the lab never uses it. */
                if (mnl_attr_get_type(na) == RTA_GATEWAY)
                    mark_gw(t, r->set, rtm->rtm_family, na);
                ap += MNL_ALIGN(na->nla_len);
            }
            size_t step = RTNH_ALIGN(nh->rtnh_len);
            if (step > rem)
                break;
            p += step;
            rem -= step;
        }
    }
    return 0;
}

static int nexthop_msg(const struct nlmsghdr *nlh, struct topo *t, size_t v)
{
    const struct nlattr *a, *id = NULL, *grp = NULL;
    struct topo_mon *m = &t->mon[v];

    mnl_attr_for_each(a, nlh, sizeof(struct nhmsg))
    {
        if (mnl_attr_get_type(a) == NHA_ID)
            id = a;
        else if (mnl_attr_get_type(a) == NHA_GROUP)
            grp = a;
    }
    if (!id)
        return 0;
    uint32_t gid = mnl_attr_get_u32(id);
    if (nlh->nlmsg_type == RTM_DELNEXTHOP) {
        struct mon_group *g = group_find(m, gid, false, 0);
        if (g) {
            free(g->set);
            *g = m->groups[--m->ngroups];
        }
        return 0;
    }
    if (!grp)
        return 0;
    struct mon_group *g = group_find(m, gid, true, t->lab->nnodes);
    if (!g)
        return -ENOMEM;
    memset(g->set, 0, t->lab->nnodes);
    const struct nexthop_grp *e = mnl_attr_get_payload(grp);
    size_t n = mnl_attr_get_payload_len(grp) / sizeof(*e);
    for (size_t k = 0; k < n; k++) {
        int node = node_of_nh(t, e[k].id);
        if (node >= 0)
            g->set[node] = 1;
    }
    return 0;
}

static int apply(const struct nlmsghdr *nlh, void *arg)
{
    struct mon_ctx *c = arg;
    switch (nlh->nlmsg_type) {
    case RTM_NEWROUTE:
    case RTM_DELROUTE:
        return route_msg(nlh, c->t, c->v);
    case RTM_NEWNEXTHOP:
    case RTM_DELNEXTHOP:
        return nexthop_msg(nlh, c->t, c->v);
    }
    return 0;
}

/* The text for one anycast address: the nodes of its lowest-metric route. */
static void any_text(const struct topo *t, const struct topo_mon *m, size_t any, char *buf,
                     size_t len)
{
    const struct mon_route *best = NULL;
    for (size_t k = 0; k < m->nroutes; k++)
        if (m->routes[k].any == any && (!best || m->routes[k].metric < best->metric))
            best = &m->routes[k];
    const uint8_t *set = best ? best->set : NULL;
    if (best && best->nh_id) {
        set = NULL;
        for (size_t k = 0; k < m->ngroups; k++)
            if (m->groups[k].id == best->nh_id)
                set = m->groups[k].set;
        int single = node_of_nh(t, best->nh_id);
        if (!set && single >= 0) {
            snprintf(buf, len, "%s", t->lab->nodes[single].name);
            return;
        }
    }
    size_t off = 0;
    buf[0] = 0;
    for (size_t i = 0; set && i < t->lab->nnodes; i++) {
        if (!set[i])
            continue;
        int n = snprintf(buf + off, len - off, "%s%s", off ? "+" : "", t->lab->nodes[i].name);
        if (n < 0 || (size_t)n >= len - off)
            break;
        off += (size_t)n;
    }
    if (!buf[0])
        snprintf(buf, len, "none");
}

/* The router's text: one node list if every anycast address agrees, else
 * "addr=list" for each. Returns a malloc'd string. */
static char *router_text(const struct topo *t, size_t v)
{
    size_t cap = 32 * (t->lab->nnodes + 2) * (t->lab->nanycast + 1) + 64;
    char *out = malloc(cap), *one = malloc(cap), *first = malloc(cap);
    bool same = true;

    if (!out || !one || !first)
        goto fail;
    out[0] = first[0] = 0;
    for (size_t a = 0; a < t->lab->nanycast; a++) {
        any_text(t, &t->mon[v], a, a ? one : first, cap);
        if (a && strcmp(one, first) != 0)
            same = false;
    }
    if (same || t->lab->nanycast <= 1) {
        snprintf(out, cap, "%s", t->lab->nanycast ? first : "none");
    } else {
        size_t off = 0;
        for (size_t a = 0; a < t->lab->nanycast; a++) {
            char addr[AH_ADDR_STRLEN];
            any_text(t, &t->mon[v], a, one, cap);
            if (ah_addr_format(&t->lab->anycast[a], false, addr, sizeof(addr)) < 0)
                snprintf(addr, sizeof(addr), "?");
            int n = snprintf(out + off, cap - off, "%s%s=%s", a ? " " : "", addr, one);
            if (n < 0 || (size_t)n >= cap - off)
                break;
            off += (size_t)n;
        }
    }
    free(one);
    free(first);
    return out;
fail:
    free(out);
    free(one);
    free(first);
    return NULL;
}

static void shadow_clear(struct topo_mon *m)
{
    for (size_t k = 0; k < m->nroutes; k++)
        free(m->routes[k].set);
    for (size_t k = 0; k < m->ngroups; k++)
        free(m->groups[k].set);
    m->nroutes = m->ngroups = 0;
}

/* Reads the router's current anycast routes and groups over its request
 * socket, replacing the copy. */
static int resync(struct topo *t, size_t v)
{
    struct mon_ctx c = {t, v};
    struct nl *nl = &t->routers[v].nl;
    int err;

    shadow_clear(&t->mon[v]);
    err = nl_dump(nl, RTM_GETNEXTHOP, AF_UNSPEC, apply, &c);
    if (err == -EOPNOTSUPP || err == -EINVAL)
        err = 0; /* no nexthop objects in this kernel: fine for static/ecmp */
    if (!err && topo_family_used(t, AF_INET))
        err = nl_dump(nl, RTM_GETROUTE, AF_INET, apply, &c);
    if (!err && topo_family_used(t, AF_INET6))
        err = nl_dump(nl, RTM_GETROUTE, AF_INET6, apply, &c);
    return err;
}

int topo_monitor_start(struct topo *t)
{
    static const unsigned groups[] = {RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_NEXTHOP};
    int err = 0;

    t->mon_buf = malloc(TOPO_MON_BUF);
    if (!t->mon_buf)
        return -ENOMEM;
    memset(t->mon_buf, 0, TOPO_MON_BUF);

    for (size_t v = 0; v < t->lab->nvantages && !err; v++) {
        struct topo_mon *m = &t->mon[v];
        /* Subscribe first, then read the state: a change in between shows
         * up in both, and applying it twice is harmless. */
        for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]) && !err; g++)
            err = nl_join(&m->nl, groups[g]);
        if (!err)
            err = resync(t, v);
        if (!err) {
            free(m->text);
            m->text = router_text(t, v);
            if (!m->text)
                err = -ENOMEM;
        }
        if (err)
            ah_log_error("netns %s: route monitor: %s", t->routers[v].name, strerror(-err));
    }
    return err;
}

void topo_monitor_free(struct topo *t)
{
    free(t->mon_buf);
    t->mon_buf = NULL;
    if (!t->mon)
        return;
    for (size_t v = 0; v < t->lab->nvantages; v++) {
        shadow_clear(&t->mon[v]);
        free(t->mon[v].routes);
        free(t->mon[v].groups);
        free(t->mon[v].text);
        nl_close(&t->mon[v].nl);
        memset(&t->mon[v], 0, sizeof(t->mon[v]));
    }
}

int topo_monitor_fds(const struct topo *t, int *fds, size_t cap)
{
    size_t n = 0;
    for (size_t v = 0; v < t->lab->nvantages; v++) {
        if (nl_fd(&t->mon[v].nl) < 0)
            continue;
        if (fds && n < cap)
            fds[n] = nl_fd(&t->mon[v].nl);
        n++;
    }
    return (int)(fds && n > cap ? cap : n);
}

const char *topo_monitor_state(const struct topo *t, size_t vantage)
{
    if (vantage >= t->lab->nvantages || !t->mon[vantage].text)
        return "none";
    return t->mon[vantage].text;
}

int topo_monitor_read(struct topo *t, int fd, topo_route_cb cb, void *arg)
{
    size_t v;
    int err = 0;

    for (v = 0; v < t->lab->nvantages; v++)
        if (nl_fd(&t->mon[v].nl) == fd)
            break;
    if (v == t->lab->nvantages)
        return -EBADF;
    /* One buffer for the topology's life, touched once at start: a fresh
     * one would page-fault inside recv and delay the timestamp. */
    char *buf = t->mon_buf;
    struct mon_ctx c = {t, v};
    uint64_t ts = 0; /* when the first notification was read */
    for (;;) {
        ssize_t n = recv(fd, buf, TOPO_MON_BUF, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (errno == ENOBUFS) {
                /* Notifications were lost: read the state again. */
                ah_log_warn("netns %s: route monitor overrun; resynchronising", t->routers[v].name);
                err = resync(t, v);
                if (err)
                    break;
                continue;
            }
            err = -errno;
            break;
        }
        if (!ts)
            ts = ah_clock_realtime_ns();
        const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
        int len = (int)n;
        for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
            int e = apply(nlh, &c);
            if (e && !err)
                err = e;
        }
    }
    if (!ts)
        ts = ah_clock_realtime_ns();
    char *text = router_text(t, v);
    if (text && (!t->mon[v].text || strcmp(text, t->mon[v].text) != 0)) {
        free(t->mon[v].text);
        t->mon[v].text = text;
        if (cb)
            cb(arg, ts, v, text);
    } else {
        free(text);
    }
    return err;
}
