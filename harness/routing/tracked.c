/* routing: tracked — the IP SLA + track state machine, the UDP checker, and
 * the per-router checking of every node's unicast address that adds and
 * removes the node's static route. All of it runs inside the lab process's
 * poll loop: the checker sockets were opened inside the routers' namespaces
 * and keep them, so no thread or child is needed. */
#include "tracked.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/echo.h"
#include "ah/log.h"
#include "harness/sys/netns.h"

/* ---- state machine ---- */

void track_sm_init(struct track_sm *sm, unsigned down, unsigned up, uint64_t delay_down_ns,
                   uint64_t delay_up_ns)
{
    *sm = (struct track_sm){.down = down ? down : 1,
                            .up = up ? up : 1,
                            .delay_down_ns = delay_down_ns,
                            .delay_up_ns = delay_up_ns,
                            .state = true,
                            .raw = true};
}

static uint64_t delay_of(const struct track_sm *sm)
{
    return sm->raw ? sm->delay_up_ns : sm->delay_down_ns;
}

enum track_change track_sm_tick(struct track_sm *sm, uint64_t now_ns)
{
    if (sm->raw == sm->state || now_ns < sm->raw_since + delay_of(sm))
        return TRACK_NONE;
    sm->state = sm->raw;
    return sm->state ? TRACK_WENT_UP : TRACK_WENT_DOWN;
}

enum track_change track_sm_feed(struct track_sm *sm, bool ok, uint64_t now_ns)
{
    if (ok) {
        sm->ok_run++;
        sm->fail_run = 0;
    } else {
        sm->fail_run++;
        sm->ok_run = 0;
    }
    bool raw = sm->raw;
    if (raw && sm->fail_run >= sm->down)
        raw = false;
    else if (!raw && sm->ok_run >= sm->up)
        raw = true;
    if (raw != sm->raw) {
        sm->raw = raw;
        /* A change back to the reported state cancels the pending one; a
         * change away from it starts its delay now. */
        if (raw != sm->state)
            sm->raw_since = now_ns;
    }
    return track_sm_tick(sm, now_ns);
}

uint64_t track_sm_deadline(const struct track_sm *sm)
{
    return sm->raw == sm->state ? UINT64_MAX : sm->raw_since + delay_of(sm);
}

/* ---- checker ---- */

int socket_in_netns_named(const char *netns, int family, int type)
{
    int self = -1, target = -1, fd = -1, rc;

    if (!netns) {
        fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        return fd < 0 ? -errno : fd;
    }
    self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0)
        return -errno;
    target = netns_open(netns);
    if (target < 0) {
        rc = target;
        goto out;
    }
    if (setns(target, CLONE_NEWNET) < 0) {
        rc = -errno;
        goto out;
    }
    fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    rc = fd < 0 ? -errno : fd;
    if (setns(self, CLONE_NEWNET) < 0) {
        /* Staying in the wrong namespace would break everything after. */
        ah_log_error("setns back to the lab's own namespace: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        rc = -errno;
    }
out:
    if (target >= 0)
        close(target);
    close(self);
    return rc;
}

int check_open(struct check *c, const char *netns, const struct ah_addr *addr,
               enum ah_service service)
{
    struct ah_addr to = *addr;

    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->service = service;
    if (service == AH_SVC_DNS && ah_ident_query_parse("hostname.bind", &c->iq) < 0)
        return -EINVAL;
    ah_addr_set_port(&to, service == AH_SVC_DNS ? 53 : 7);
    int fd = socket_in_netns_named(netns, ah_addr_family(addr), SOCK_DGRAM);
    if (fd < 0)
        return fd;
    if (connect(fd, (const struct sockaddr *)&to.ss, to.len) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    c->fd = fd;
    c->id = (uint16_t)(ah_clock_mono_ns() >> 10);
    return 0;
}

void check_close(struct check *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static void set_why(struct check *c, const char *why)
{
    snprintf(c->why, sizeof c->why, "%s", why);
}

enum check_result check_send(struct check *c, uint64_t now_ns, uint64_t timeout_ns)
{
    int len;

    c->id++;
    if (c->service == AH_SVC_DNS)
        len = ah_ident_query_build(&c->iq, c->id, c->q, sizeof c->q);
    else
        len = snprintf((char *)c->q, sizeof c->q, "track %u\n", (unsigned)c->id);
    if (len < 0)
        return CHECK_FAILED;
    c->qlen = (size_t)len;
    c->outstanding = true;
    c->deadline = now_ns + timeout_ns;
    /* Drop late answers to earlier checks, and with them a pending ICMP
     * error (reading it clears it), so neither is taken for this check. */
    uint8_t junk[512];
    while (recv(c->fd, junk, sizeof junk, 0) >= 0) {
    }
    if (send(c->fd, c->q, c->qlen, 0) < 0) {
        set_why(c, errno == ECONNREFUSED ? "refused" : strerror(errno));
        c->outstanding = false;
        return CHECK_FAILED;
    }
    return CHECK_PENDING;
}

enum check_result check_poll(struct check *c, uint64_t now_ns)
{
    uint8_t buf[4096];

    if (!c->outstanding)
        return CHECK_PENDING;
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            set_why(c, errno == ECONNREFUSED ? "refused" : strerror(errno));
            c->outstanding = false;
            return CHECK_FAILED;
        }
        bool ok = false;
        if (c->service == AH_SVC_DNS) {
            struct ah_ident_reply rep;
            ok = ah_ident_reply_parse(&c->iq, buf, (size_t)n, &rep) == 0 && rep.id == c->id &&
                 rep.rcode == 0;
        } else {
            char ident[AH_IDENT_MAX];
            ok = ah_echo_parse_reply(buf, (size_t)n, c->q, c->qlen, ident, sizeof ident) == 0;
        }
        if (ok) {
            c->outstanding = false;
            return CHECK_OK;
        }
    }
    if (now_ns >= c->deadline) {
        set_why(c, "timeout");
        c->outstanding = false;
        return CHECK_FAILED;
    }
    return CHECK_PENDING;
}

/* ---- routing: tracked ---- */

struct track_obj {
    size_t v, node;
    struct check chk;
    struct track_sm sm;
    uint64_t next_send;
    bool route; /* installed now */
};

struct tracked {
    const struct lab *lab;
    struct topo *topo;
    tracked_event_cb cb;
    void *arg;
    struct track_obj *obj;
    size_t nobj;
    bool *announced; /* per node: the drill's withdraw/announce */
};

static void emit(struct tracked *tr, uint64_t ts, const char *event, size_t node,
                 const char *detail)
{
    if (tr->cb)
        tr->cb(tr->arg, ts, event, tr->lab->nodes[node].name, detail);
}

/* Makes the route of one track object match announced && track up. */
static int sync_route(struct tracked *tr, struct track_obj *o, uint64_t *ack)
{
    bool want = tr->announced[o->node] && o->sm.state;
    if (want == o->route) {
        if (ack)
            *ack = ah_clock_realtime_ns();
        return 0;
    }
    int rc = topo_router_route_set(tr->topo, o->v, o->node, want, ack);
    if (rc == 0 || (!want && rc == -ESRCH) || (want && rc == -EEXIST))
        o->route = want;
    if (rc < 0)
        ah_log_warn("tracked: %s route of %s at %s's router: %s", want ? "adding" : "deleting",
                    tr->lab->nodes[o->node].name, tr->lab->vantages[o->v].name, strerror(-rc));
    return rc;
}

int tracked_start(const struct lab *lab, struct topo *topo, int epfd, tracked_event_cb cb,
                  void *arg, struct tracked **out)
{
    int rc = -ENOMEM;
    struct tracked *tr = calloc(1, sizeof *tr);
    if (!tr)
        return -ENOMEM;
    tr->lab = lab;
    tr->topo = topo;
    tr->cb = cb;
    tr->arg = arg;
    tr->announced = calloc(lab->nnodes, sizeof *tr->announced);
    tr->obj = calloc(lab->nnodes * lab->nvantages, sizeof *tr->obj);
    if (!tr->announced || !tr->obj)
        goto fail;
    for (size_t i = 0; i < lab->nnodes; i++)
        tr->announced[i] = true;
    uint64_t now = ah_clock_mono_ns();
    for (size_t v = 0; v < lab->nvantages; v++) {
        const struct lab_vantage *va = &lab->vantages[v];
        size_t np = va->nprefer ? va->nprefer : lab->nnodes;
        for (size_t r = 0; r < np; r++) {
            size_t node = va->nprefer ? va->prefer[r] : r;
            struct track_obj *o = &tr->obj[tr->nobj];
            o->v = v;
            o->node = node;
            o->chk.fd = -1;
            track_sm_init(&o->sm, lab->track.down, lab->track.up, lab->track.delay_down_ns,
                          lab->track.delay_up_ns);
            const struct ah_addr *ua = topo_node_addr(topo, node, AF_INET);
            if (!ua)
                ua = topo_node_addr(topo, node, AF_INET6);
            rc = ua ? check_open(&o->chk, topo_netns(topo, TOPO_ROUTER, v), ua, lab->track.service)
                    : -EADDRNOTAVAIL;
            if (rc < 0) {
                ah_log_error("tracked: checker of %s at %s's router: %s", lab->nodes[node].name,
                             va->name, strerror(-rc));
                goto fail;
            }
            tr->nobj++;
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = o};
            if (epoll_ctl(epfd, EPOLL_CTL_ADD, o->chk.fd, &ev) < 0) {
                rc = -errno;
                goto fail;
            }
            /* Spread the first checks over one period, as independent
             * IP SLA operations would be. */
            o->next_send = now + lab->track.frequency_ns * (tr->nobj % 8) / 8;
            if ((rc = sync_route(tr, o, NULL)) < 0)
                goto fail;
        }
    }
    ah_log_info("tracked: %zu track objects (%s every %.0f ms, timeout %.0f ms, down %u, up %u)",
                tr->nobj, ah_service_name(lab->track.service),
                (double)lab->track.frequency_ns / 1e6, (double)lab->track.timeout_ns / 1e6,
                lab->track.down, lab->track.up);
    *out = tr;
    return 0;
fail:
    tracked_free(tr);
    return rc;
}

static void on_change(struct tracked *tr, struct track_obj *o, enum track_change ch)
{
    char detail[128];
    uint64_t ts = ah_clock_realtime_ns();
    if (ch == TRACK_NONE)
        return;
    if (ch == TRACK_WENT_DOWN)
        snprintf(detail, sizeof detail, "router=%s after %u failed checks (%s)",
                 tr->lab->vantages[o->v].name, o->sm.fail_run, o->chk.why);
    else
        snprintf(detail, sizeof detail, "router=%s after %u good checks",
                 tr->lab->vantages[o->v].name, o->sm.ok_run);
    emit(tr, ts,
         ah_schema_event_name(ch == TRACK_WENT_DOWN ? AH_EVENT_TRACK_DOWN : AH_EVENT_TRACK_UP),
         o->node, detail);
    ah_log_info("tracked: %s %s at %s's router", tr->lab->nodes[o->node].name,
                ch == TRACK_WENT_DOWN ? "down" : "up", tr->lab->vantages[o->v].name);
    sync_route(tr, o, NULL);
}

uint64_t tracked_handle(struct tracked *tr, uint64_t now)
{
    uint64_t next = UINT64_MAX;
    const struct lab_track *lt = &tr->lab->track;

    for (size_t k = 0; k < tr->nobj; k++) {
        struct track_obj *o = &tr->obj[k];
        enum check_result res = check_poll(&o->chk, now);
        if (res != CHECK_PENDING)
            on_change(tr, o, track_sm_feed(&o->sm, res == CHECK_OK, now));
        on_change(tr, o, track_sm_tick(&o->sm, now));
        if (now >= o->next_send) {
            /* A check still out when the next is due counts as failed. */
            if (o->chk.outstanding) {
                o->chk.outstanding = false;
                snprintf(o->chk.why, sizeof o->chk.why, "timeout");
                on_change(tr, o, track_sm_feed(&o->sm, false, now));
            }
            if (check_send(&o->chk, now, lt->timeout_ns) == CHECK_FAILED)
                on_change(tr, o, track_sm_feed(&o->sm, false, now));
            o->next_send += lt->frequency_ns;
            if (o->next_send <= now)
                o->next_send = now + lt->frequency_ns;
        }
        uint64_t d = track_sm_deadline(&o->sm);
        if (o->chk.outstanding && o->chk.deadline < d)
            d = o->chk.deadline;
        if (o->next_send < d)
            d = o->next_send;
        if (d < next)
            next = d;
    }
    return next;
}

int tracked_set_announced(struct tracked *tr, size_t node, bool on, uint64_t *ack_ns)
{
    int ret = 0;
    uint64_t last = 0;
    if (node >= tr->lab->nnodes)
        return -EINVAL;
    tr->announced[node] = on;
    for (size_t k = 0; k < tr->nobj; k++) {
        uint64_t ack = 0;
        if (tr->obj[k].node != node)
            continue;
        int rc = sync_route(tr, &tr->obj[k], &ack);
        if (rc < 0 && !ret)
            ret = rc;
        if (ack > last)
            last = ack;
    }
    if (ack_ns)
        *ack_ns = last ? last : ah_clock_realtime_ns();
    return ret;
}

void tracked_free(struct tracked *tr)
{
    if (!tr)
        return;
    for (size_t k = 0; k < tr->nobj; k++)
        check_close(&tr->obj[k].chk);
    free(tr->obj);
    free(tr->announced);
    free(tr);
}
