/* The drill of `anycast-lab run` and `up`: the route monitors' rows, the
 * routing modes that run beside the drill (tracked, bgp), each drill step's
 * action and the poll loop that plays the steps on time. */
#include "run_int.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/log.h"
#include "harness/lab/drill.h"
#include "harness/lab/lab.h"
#include "harness/routing/routing.h"
#include "harness/sys/proc.h"
#include "harness/topo/topo.h"
#include "deploy.h"
#include "responders.h"

/* ---- route monitor ---- */

static void on_route(void *arg, uint64_t ts_ns, size_t vantage, const char *nexthops)
{
    struct run *r = arg;
    char detail[128];
    snprintf(detail, sizeof detail, "router=%s nexthop=%s",
             vantage < r->lab->nvantages ? r->lab->vantages[vantage].name : "?", nexthops);
    run_event(r, ts_ns, ah_schema_event_name(AH_EVENT_ROUTE), nexthops, detail);
}

/* Reads what the route monitors have pending; cb NULL applies the changes
 * without writing rows. */
static void drain_monitor(struct run *r, topo_route_cb cb)
{
    for (size_t i = 0; i < r->nmon; i++) {
        struct pollfd p = {.fd = r->mon[i], .events = POLLIN};
        while (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
            if (topo_monitor_read(r->topo, r->mon[i], cb, r) < 0)
                break;
        }
    }
}

/* One `route` row per router with its route at the drill's start, marked
 * initial so that no reader takes it for a change (docs/formats.md,
 * "events.csv"). The changes since the monitors started (BIRD installing
 * its routes, with routing: bgp) are folded into it. */
void run_record_initial_routes(struct run *r)
{
    drain_monitor(r, NULL);
    uint64_t ts = ah_clock_realtime_ns();
    for (size_t v = 0; v < r->lab->nvantages; v++) {
        const char *nexthops = topo_monitor_state(r->topo, v);
        char *detail = NULL;
        if (asprintf(&detail, "%s router=%s nexthop=%s", AH_ROUTE_INITIAL, r->lab->vantages[v].name,
                     nexthops) < 0) {
            run_fail(r, "out of memory");
            return;
        }
        run_event(r, ts, ah_schema_event_name(AH_EVENT_ROUTE), nexthops, detail);
        free(detail);
    }
}

/* ---- routing: tracked / bgp (routing.c) ---- */

static void on_routing_event(void *arg, uint64_t ts, const char *event, const char *node,
                             const char *detail)
{
    run_event(arg, ts, event, node, detail);
}

int run_start_routing(struct run *r)
{
    struct routing_opts ro = {.lab = r->lab,
                              .topo = r->topo,
                              .rundir = r->rundir,
                              .logdir = r->logdir,
                              .die_with_parent = !(r->o->up_only || r->o->keep_up),
                              .ready_timeout_ns = r->o->ready_timeout_ns,
                              .cb = on_routing_event,
                              .arg = r};
    int rc = routing_start(&ro, &r->routing);
    if (rc < 0)
        run_fail(r, "%s: starting routing: %s: %s", r->lab->name, lab_routing_name(r->lab->routing),
                 strerror(-rc));
    return rc;
}

/* ---- the drill ---- */

/* stop and start: the responder process itself, killed or started again. */
static int step_process(struct run *r, struct drill_step *s, uint64_t *ack, char *detail,
                        size_t dlen)
{
    struct proc *p = &r->resp[s->node];
    int rc = 0;
    if (s->verb == AH_VERB_STOP) {
        if (p->pid <= 0) {
            snprintf(detail, dlen, "not running");
            return 0;
        }
        p->expected_exit = true;
        snprintf(detail, dlen, "pid %ld SIGKILL", (long)p->pid);
        rc = proc_signal(p, SIGKILL);
        *ack = ah_clock_realtime_ns();
        return rc;
    }
    if (p->pid > 0) {
        snprintf(detail, dlen, "already running (pid %ld)", (long)p->pid);
        return 0;
    }
    rc = run_spawn_responder(r, s->node);
    *ack = ah_clock_realtime_ns();
    if (rc == 0) {
        snprintf(detail, dlen, "pid %ld", (long)p->pid);
        state_add_pid(&r->st, "responder", r->lab->nodes[s->node].name, p->pid);
        state_save(&r->st);
    }
    return rc;
}

/* pause and resume: the builtin responder through its control socket, any
 * other by SIGSTOP/SIGCONT. */
static int step_pause(struct run *r, struct drill_step *s, uint64_t *ack, char *detail, size_t dlen)
{
    struct proc *p = &r->resp[s->node];
    bool pause = s->verb == AH_VERB_PAUSE;
    int rc;
    if (r->lab->nodes[s->node].responder == LAB_RESPONDER_BUILTIN) {
        char reply[64] = "";
        rc = resp_control(r->launch[s->node].control,
                          ah_schema_control_name(pause ? AH_CTL_PAUSE : AH_CTL_RESUME), reply,
                          sizeof reply, AH_NS_PER_S, ack);
        snprintf(detail, dlen, "control%s%s", reply[0] ? ": " : "", reply);
    } else {
        snprintf(detail, dlen, "%s pid %ld", pause ? "SIGSTOP" : "SIGCONT", (long)p->pid);
        rc = proc_signal(p, pause ? SIGSTOP : SIGCONT);
        *ack = ah_clock_realtime_ns();
    }
    return rc;
}

/* delay: the builtin responder's answers held back (the loader allows it on
 * builtin responders only). */
static int step_delay(struct run *r, struct drill_step *s, uint64_t *ack, char *detail, size_t dlen)
{
    unsigned ms = r->lab->drill[s->event].delay_ms;
    char cmd[32], reply[64] = "";
    if (r->lab->nodes[s->node].responder != LAB_RESPONDER_BUILTIN)
        return -ENOTSUP;
    snprintf(cmd, sizeof cmd, "%s %u", ah_schema_control_name(AH_CTL_DELAY), ms);
    int rc = resp_control(r->launch[s->node].control, cmd, reply, sizeof reply, AH_NS_PER_S, ack);
    snprintf(detail, dlen, "%s; control%s%s", cmd, reply[0] ? ": " : "", reply);
    return rc;
}

/* One step's action, by its verb; routing: tracked and bgp (routing.c)
 * take the verbs that depend on them. */
static int do_step(struct run *r, struct drill_step *s, uint64_t *ack, char *detail, size_t dlen)
{
    if (r->lab->kind == LAB_KIND_DEPLOYMENT)
        return deploy_step(r, s, ack, detail, dlen);
    if (routing_takes(r->routing, s->verb))
        return routing_action(r->routing, s->verb, s->node, ack, detail, dlen);
    switch (s->verb) {
    case AH_VERB_WITHDRAW:
        return topo_withdraw(r->topo, s->node, ack);
    case AH_VERB_ANNOUNCE:
        return topo_announce(r->topo, s->node, ack);
    case AH_VERB_LINK_DOWN:
    case AH_VERB_LINK_UP:
        return topo_link_set(r->topo, s->node, s->verb == AH_VERB_LINK_UP, ack);
    case AH_VERB_STOP:
    case AH_VERB_START:
        return step_process(r, s, ack, detail, dlen);
    case AH_VERB_PAUSE:
    case AH_VERB_RESUME:
        return step_pause(r, s, ack, detail, dlen);
    case AH_VERB_DELAY:
        return step_delay(r, s, ack, detail, dlen);
    default:
        return -ENOTSUP;
    }
}

int run_step(struct run *r, struct drill_step *s, uint64_t *ack, char *detail, size_t dlen)
{
    const struct lab_node *node = &r->lab->nodes[s->node];

    if (s->flap_n)
        snprintf(detail, dlen, "flap %u/%u", s->flap_i, s->flap_n);
    int rc = do_step(r, s, ack, detail, dlen);
    if (*ack == 0)
        *ack = ah_clock_realtime_ns();
    if (rc < 0) {
        size_t l = strlen(detail);
        snprintf(detail + l, dlen - l, "%sfailed: %s", l ? "; " : "", strerror(-rc));
        ah_log_error("%s %s at %.3fs: %s", ah_schema_verb_name(s->verb), node->name,
                     (double)s->at_ns / 1e9, strerror(-rc));
        r->failed = true;
        r->stop = r->lab->on_failure_stop;
        if (!r->status[0])
            snprintf(r->status, sizeof r->status, "%s %s failed", ah_schema_verb_name(s->verb),
                     node->name);
    }
    run_event(r, *ack, ah_schema_verb_name(s->verb), node->name, detail);
    return rc;
}

/* The drill's action callback. */
static int on_step(void *arg, struct drill_step *s, uint64_t *ack, char *detail, size_t dlen)
{
    return run_step(arg, s, ack, detail, dlen);
}

void run_route_rows(struct run *r)
{
    drain_monitor(r, on_route);
}

static uint64_t drill_clock(void *arg)
{
    struct run *r = arg;
    return ah_clock_mono_ns() - r->t0_mono;
}

/* The drill's poll loop: each step when it is due, the route monitors and
 * the routing's events in between, until the lab's duration. */
void run_drill_loop(struct run *r)
{
    struct drill_ops ops = {.arg = r, .action = on_step, .now = drill_clock};
    uint64_t dur = r->lab->duration_ns;
    struct pollfd *fds = calloc(r->nmon + 3, sizeof *fds);
    if (!fds) {
        run_fail(r, "out of memory");
        return;
    }

    fds[0] = (struct pollfd){.fd = r->sigfd, .events = POLLIN};
    fds[1] = (struct pollfd){.fd = r->tfd, .events = POLLIN};
    for (size_t i = 0; i < r->nmon; i++)
        fds[2 + i] = (struct pollfd){.fd = r->mon[i], .events = POLLIN};
    /* routing.c's one fd (-1, ignored by poll, in the static modes). */
    fds[2 + r->nmon] = (struct pollfd){.fd = routing_fd(r->routing), .events = POLLIN};

    if (run_progress_start(r) < 0)
        ah_log_warn("no live progress: out of memory");
    while (!run_poll_signals(r) && !r->stop) {
        uint64_t now = ah_clock_mono_ns() - r->t0_mono;
        drill_run_due(&r->drill, now, &ops);
        if (r->stop)
            break;
        now = ah_clock_mono_ns() - r->t0_mono;
        if (now >= dur)
            break;
        run_progress_tick(r, now);
        uint64_t next = drill_next_at(&r->drill);
        if (next > run_progress_due(r))
            next = run_progress_due(r);
        if (next > dur)
            next = dur;
        uint64_t abs = r->t0_mono + next;
        struct itimerspec its = {
            .it_value = {(time_t)(abs / AH_NS_PER_S), (long)(abs % AH_NS_PER_S)}};
        timerfd_settime(r->tfd, TFD_TIMER_ABSTIME, &its, NULL);
        if (poll(fds, 3 + r->nmon, -1) < 0 && errno != EINTR)
            break;
        if (fds[1].revents & POLLIN) {
            uint64_t x;
            if (read(r->tfd, &x, sizeof x) < 0) {
                /* spurious wake-up: the loop re-reads the clock anyway */
            }
        }
        for (size_t i = 0; i < r->nmon; i++) {
            if (fds[2 + i].revents & POLLIN)
                topo_monitor_read(r->topo, r->mon[i], on_route, r);
        }
        if (fds[2 + r->nmon].revents & POLLIN)
            routing_handle(r->routing);
    }
    run_progress_end(r);
    free(fds);
}
