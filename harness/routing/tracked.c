/* routing: tracked — the per-router checking of every node's unicast
 * address (health.h) that adds and removes the node's static route. All of
 * it runs inside the lab process's poll loop: the checker sockets were
 * opened inside the routers' namespaces and keep them, so no thread or
 * child is needed. */
#include "tracked.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/log.h"

/* ---- routing: tracked ---- */

struct track_obj {
    size_t v, node;
    struct health_check chk;
    struct health_sm sm;
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
            health_sm_init(&o->sm, lab->track.down, lab->track.up, lab->track.delay_down_ns,
                           lab->track.delay_up_ns);
            const struct ah_addr *ua = topo_node_addr(topo, node, AF_INET);
            if (!ua)
                ua = topo_node_addr(topo, node, AF_INET6);
            rc = ua ? health_open(&o->chk, topo_netns(topo, TOPO_ROUTER, v), ua, lab->track.service)
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

static void on_change(struct tracked *tr, struct track_obj *o, enum health_change ch)
{
    char detail[128];
    uint64_t ts = ah_clock_realtime_ns();
    if (ch == HEALTH_NONE)
        return;
    if (ch == HEALTH_WENT_DOWN)
        snprintf(detail, sizeof detail, "router=%s after %u failed checks (%s)",
                 tr->lab->vantages[o->v].name, o->sm.fail_run, o->chk.why);
    else
        snprintf(detail, sizeof detail, "router=%s after %u good checks",
                 tr->lab->vantages[o->v].name, o->sm.ok_run);
    emit(tr, ts,
         ah_schema_event_name(ch == HEALTH_WENT_DOWN ? AH_EVENT_TRACK_DOWN : AH_EVENT_TRACK_UP),
         o->node, detail);
    ah_log_info("tracked: %s %s at %s's router", tr->lab->nodes[o->node].name,
                ch == HEALTH_WENT_DOWN ? "down" : "up", tr->lab->vantages[o->v].name);
    sync_route(tr, o, NULL);
}

uint64_t tracked_handle(struct tracked *tr, uint64_t now)
{
    uint64_t next = UINT64_MAX;
    const struct lab_track *lt = &tr->lab->track;

    for (size_t k = 0; k < tr->nobj; k++) {
        struct track_obj *o = &tr->obj[k];
        enum health_result res = health_poll(&o->chk, now);
        if (res != HEALTH_PENDING)
            on_change(tr, o, health_sm_feed(&o->sm, res == HEALTH_OK, now));
        on_change(tr, o, health_sm_tick(&o->sm, now));
        if (now >= o->next_send) {
            /* A check still out when the next is due counts as failed. */
            if (o->chk.outstanding) {
                o->chk.outstanding = false;
                snprintf(o->chk.why, sizeof o->chk.why, "timeout");
                on_change(tr, o, health_sm_feed(&o->sm, false, now));
            }
            if (health_send(&o->chk, now, lt->timeout_ns) == HEALTH_FAILED)
                on_change(tr, o, health_sm_feed(&o->sm, false, now));
            o->next_send += lt->frequency_ns;
            if (o->next_send <= now)
                o->next_send = now + lt->frequency_ns;
        }
        uint64_t d = health_sm_deadline(&o->sm);
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
        health_close(&tr->obj[k].chk);
    free(tr->obj);
    free(tr->announced);
    free(tr);
}
