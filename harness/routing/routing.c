/* Dispatch of the self-removing routing modes (tracked, bgp) behind one
 * pollable fd: an epoll set holding a CLOCK_MONOTONIC timerfd armed for the
 * mode's next deadline plus the mode's own sockets. */
#include "routing.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/log.h"
#include "bgp.h"
#include "tracked.h"

struct routing {
    enum lab_routing mode;
    int epfd, tfd;
    struct tracked *tr;
    struct bgp *bgp;
};

static void arm(struct routing *r, uint64_t deadline)
{
    if (deadline == UINT64_MAX)
        deadline = ah_clock_mono_ns() + 1000000000ULL;
    if (deadline == 0)
        deadline = 1;
    struct itimerspec its = {
        .it_value = {(time_t)(deadline / 1000000000ULL), (long)(deadline % 1000000000ULL)}};
    timerfd_settime(r->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

int routing_start(const struct routing_opts *o, struct routing **out)
{
    int rc;
    *out = NULL;
    if (o->lab->routing != LAB_ROUTING_TRACKED && o->lab->routing != LAB_ROUTING_BGP)
        return 0;
    struct routing *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->mode = o->lab->routing;
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (r->epfd < 0 || r->tfd < 0) {
        rc = -errno;
        goto fail;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->tfd, &ev) < 0) {
        rc = -errno;
        goto fail;
    }
    if (r->mode == LAB_ROUTING_TRACKED)
        rc = tracked_start(o->lab, o->topo, r->epfd, o->cb, o->arg, &r->tr);
    else
        rc = bgp_start(o, r->epfd, &r->bgp);
    if (rc < 0)
        goto fail;
    *out = r;
    routing_handle(r);
    return 0;
fail:
    routing_stop(r, false);
    return rc;
}

int routing_fd(const struct routing *r)
{
    return r ? r->epfd : -1;
}

void routing_handle(struct routing *r)
{
    uint64_t x;

    if (!r)
        return;
    /* Which fd woke us does not matter: the mode reads all its sockets
     * (the set is level-triggered, so nothing needs draining here). */
    if (read(r->tfd, &x, sizeof x) < 0) {
        /* not expired: woken by a socket */
    }
    uint64_t now = ah_clock_mono_ns();
    uint64_t next = r->tr    ? tracked_handle(r->tr, now)
                    : r->bgp ? bgp_handle(r->bgp, now)
                             : UINT64_MAX;
    arm(r, next);
}

bool routing_takes(const struct routing *r, enum ah_verb verb)
{
    if (!r)
        return false;
    if (verb == AH_VERB_WITHDRAW || verb == AH_VERB_ANNOUNCE)
        return true;
    return r->mode == LAB_ROUTING_BGP && bgp_takes(verb);
}

int routing_action(struct routing *r, enum ah_verb verb, size_t node, uint64_t *ack_ns,
                   char *detail, size_t dlen)
{
    int rc = -ENOTSUP;
    if (!r)
        return rc;
    if (r->tr && (verb == AH_VERB_WITHDRAW || verb == AH_VERB_ANNOUNCE))
        rc = tracked_set_announced(r->tr, node, verb == AH_VERB_ANNOUNCE, ack_ns);
    else if (r->bgp)
        rc = bgp_action(r->bgp, verb, node, ack_ns, detail, dlen);
    routing_handle(r);
    return rc;
}

void routing_stop(struct routing *r, bool keep)
{
    if (!r)
        return;
    tracked_free(r->tr);
    if (r->bgp)
        bgp_stop(r->bgp, keep);
    if (r->tfd >= 0)
        close(r->tfd);
    if (r->epfd >= 0)
        close(r->epfd);
    free(r);
}
