/* routing: bgp at run time: BIRD processes on every node and router, the
 * drill verbs that act on them (withdraw/announce through the node's control
 * socket, kill/start and pause/resume of the node's BIRD), the poller that
 * turns the routers' session states into `bgp` events, and the nodes' health
 * checks of their own service (anycast-healthchecker: withdraw after `fall`
 * failed checks, announce again after `rise` good ones), one per address
 * family, so a node whose IPv6 service fails withdraws only its IPv6
 * addresses. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ah/file.h"
#include "ah/clock.h"
#include "ah/log.h"
#include "bgp.h"
#include "harness/sys/proc.h"
#include "health.h"

#define POLL_EVERY (100 * AH_NS_PER_MS)
#define CTL_WAIT   (1 * AH_NS_PER_S)

struct bird {
    struct proc p;
    char conf[PATH_MAX], sock[108], log[PATH_MAX], out[PATH_MAX];
    const char *netns;
};

/* A node in one address family (index 0 IPv4, 1 IPv6): BIRD announces the
 * family's anycast addresses while the drill has not withdrawn the node and
 * the family's health check passes. */
struct bgp_fam {
    bool present; /* the lab has an anycast address of this family */
    bool health;  /* the health check's verdict */
    bool on;      /* what BIRD was last told */
    bool hc;      /* a health check runs */
    struct health_check chk;
    struct health_sm sm;
    uint64_t next_check;
};

struct bgp_node {
    struct bird b;
    bool admin; /* the drill's withdraw/announce */
    struct bgp_fam fam[2];
};

static const int fam_af[2] = {AF_INET, AF_INET6};

struct bgp_router {
    struct bird b;
    char (*state)[64]; /* per node and family: "up Established" */
};

struct bgp {
    const struct lab *lab;
    struct topo *topo;
    routing_event_cb cb;
    void *arg;
    bool die_with_parent;
    struct bgp_node *nodes;
    struct bgp_router *routers;
    uint64_t next_poll;
};

static void emit(struct bgp *b, uint64_t ts, const char *event, const char *node,
                 const char *detail)
{
    if (b->cb)
        b->cb(b->arg, ts ? ts : ah_clock_realtime_ns(), event, node, detail);
}

static int spawn_bird(struct bgp *b, struct bird *bd, const char *name)
{
    char bird[PATH_MAX];
    int rc = proc_find_program("bird", true, bird, sizeof bird);
    if (rc < 0) {
        ah_log_error("bgp: bird not found (install bird2: make deps)");
        return rc;
    }
    char *argv[] = {bird, "-f", "-c", bd->conf, "-s", bd->sock, NULL};
    struct proc_spec spec = {.netns = bd->netns,
                             .log_path = bd->out,
                             .argv = argv,
                             .die_with_parent = b->die_with_parent};
    snprintf(bd->p.name, sizeof bd->p.name, "bird %s", name);
    bd->p.expected_exit = false;
    rc = proc_spawn(&bd->p, &spec);
    if (rc < 0)
        ah_log_error("bgp: starting BIRD for %s in %s: %s", name, bd->netns, strerror(-rc));
    return rc;
}

static int write_conf(struct bgp *b, struct bird *bd, bool node, size_t idx)
{
    FILE *f = ah_file_fopen_w(bd->conf);
    if (!f)
        return -errno;
    int rc;
    if (node) {
        const struct bgp_node *n = &b->nodes[idx];
        const bool ann[2] = {n->admin && n->fam[0].health, n->admin && n->fam[1].health};
        rc = bgp_write_node_conf(f, b->lab, idx, bd->log, ann);
    } else {
        rc = bgp_write_router_conf(f, b->lab, idx, bd->log);
    }
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

static void bird_paths(struct bird *bd, const struct routing_opts *o, const char *kind,
                       const char *name)
{
    snprintf(bd->conf, sizeof bd->conf, "%s/bird-%s-%s.conf", o->rundir, kind, name);
    snprintf(bd->sock, sizeof bd->sock, "%s/bird-%s-%s.ctl", o->rundir, kind, name);
    snprintf(bd->log, sizeof bd->log, "%s/bird-%s-%s.log", o->logdir, kind, name);
    snprintf(bd->out, sizeof bd->out, "%s/bird-%s-%s.out", o->logdir, kind, name);
}

/* Tells a node's BIRD to announce or withdraw one family: enable/disable
 * of its static protocol. Timed at BIRD's reply. */
static int node_tell(struct bgp *b, size_t i, int k, bool on, uint64_t *ack)
{
    struct bgp_node *n = &b->nodes[i];
    char out[512], cmd[64];
    snprintf(cmd, sizeof cmd, "%s anycast%c", on ? "enable" : "disable", k ? '6' : '4');
    int rc = bgp_birdc(n->b.sock, cmd, out, sizeof out, CTL_WAIT, ack);
    if (rc < 0)
        ah_log_warn("bgp: %s: `%s`: %s %s", b->lab->nodes[i].name, cmd, strerror(-rc), out);
    else
        n->fam[k].on = on;
    return rc;
}

/* Brings every family's announcement in line with the drill and its health
 * check; ack is the time of the last reply (now when nothing changed). */
static int node_sync(struct bgp *b, size_t i, uint64_t *ack)
{
    struct bgp_node *n = &b->nodes[i];
    int ret = 0;
    if (ack)
        *ack = ah_clock_realtime_ns();
    for (int k = 0; k < 2; k++) {
        struct bgp_fam *fm = &n->fam[k];
        bool want = n->admin && fm->health;
        if (!fm->present || want == fm->on)
            continue;
        int rc = node_tell(b, i, k, want, ack);
        if (rc < 0 && !ret)
            ret = rc;
    }
    return ret;
}

/* Whether every family the lab has is healthy at node n. */
static bool node_healthy(const struct bgp_node *n)
{
    return (!n->fam[0].present || n->fam[0].health) && (!n->fam[1].present || n->fam[1].health);
}

/* ---- session poller ---- */

struct poll_ctx {
    struct bgp *b;
    size_t v;
    uint64_t ts;
    size_t established;
};

static void on_proto(void *arg, const char *name, const char *state, const char *info)
{
    struct poll_ctx *c = arg;
    size_t i;
    int fam;
    if (sscanf(name, "n%zu_%d", &i, &fam) != 2 || i >= c->b->lab->nnodes)
        return;
    char *slot = c->b->routers[c->v].state[2 * i + (fam == 6)];
    char now[64];
    snprintf(now, sizeof now, "%s %s", state, info);
    if (!strcmp(info, "Established"))
        c->established++;
    if (!strcmp(slot, now))
        return;
    char detail[160];
    snprintf(detail, sizeof detail, "router=%s ipv%d %s", c->b->lab->vantages[c->v].name, fam, now);
    emit(c->b, c->ts, ah_schema_event_name(AH_EVENT_BGP), c->b->lab->nodes[i].name, detail);
    snprintf(slot, 64, "%s", now);
}

/* Polls one router; returns its established sessions or -errno. */
static int poll_router(struct bgp *b, size_t v)
{
    char out[16384];
    uint64_t ts = 0;
    int rc = bgp_birdc(b->routers[v].b.sock, "show protocols", out, sizeof out, CTL_WAIT, &ts);
    if (rc < 0)
        return rc;
    struct poll_ctx c = {.b = b, .v = v, .ts = ts};
    bgp_parse_protocols(out, on_proto, &c);
    return (int)c.established;
}

static void reap(struct bgp *b)
{
    char detail[96], st[32];
    for (size_t i = 0; i < b->lab->nnodes; i++) {
        struct proc *p = &b->nodes[i].b.p;
        pid_t pid = p->pid;
        if (proc_reap(p) && !p->expected_exit) {
            proc_status_text(p->status, st, sizeof st);
            snprintf(detail, sizeof detail, "bird pid %ld %s", (long)pid, st);
            emit(b, 0, ah_schema_event_name(AH_EVENT_EXIT), b->lab->nodes[i].name, detail);
        }
    }
    for (size_t v = 0; v < b->lab->nvantages; v++) {
        struct proc *p = &b->routers[v].b.p;
        pid_t pid = p->pid;
        if (proc_reap(p) && !p->expected_exit) {
            proc_status_text(p->status, st, sizeof st);
            snprintf(detail, sizeof detail, "router bird pid %ld %s", (long)pid, st);
            emit(b, 0, ah_schema_event_name(AH_EVENT_EXIT), b->lab->vantages[v].name, detail);
        }
    }
}

/* Sessions a router should have established: one per preferred node and
 * family. */
static size_t wanted_sessions(const struct lab *lab, size_t v)
{
    size_t fams = 0;
    bool f4 = false, f6 = false;
    for (size_t a = 0; a < lab->nanycast; a++) {
        f4 = f4 || ah_addr_family(&lab->anycast[a]) == AF_INET;
        f6 = f6 || ah_addr_family(&lab->anycast[a]) == AF_INET6;
    }
    fams = (size_t)f4 + (size_t)f6;
    return fams * (lab->vantages[v].nprefer ? lab->vantages[v].nprefer : lab->nnodes);
}

/* Routes router v should hold for an anycast address of family index k:
 * one from each node it peers with that announces the family now. */
static size_t wanted_routes(const struct bgp *b, size_t v, int k)
{
    const struct lab_vantage *vt = &b->lab->vantages[v];
    size_t n = vt->nprefer ? vt->nprefer : b->lab->nnodes, want = 0;
    for (size_t j = 0; j < n; j++) {
        const struct bgp_node *nd = &b->nodes[vt->nprefer ? vt->prefer[j] : j];
        want += nd->admin && nd->fam[k].health;
    }
    return want;
}

/* Whether router v holds every route the nodes announce for every anycast
 * address. Sessions come up before their first UPDATE: a router with only
 * some routes would send the first probes to a node it does not prefer.
 * The router's tables hold nothing but the nodes' anycast routes. */
static bool router_has_routes(struct bgp *b, size_t v)
{
    char out[512];
    size_t have[2], addrs[2] = {0, 0};
    if (bgp_birdc(b->routers[v].b.sock, "show route count", out, sizeof out, CTL_WAIT, NULL) < 0 ||
        bgp_parse_route_count(out, have) < 1)
        return false;
    for (size_t a = 0; a < b->lab->nanycast; a++)
        addrs[ah_addr_family(&b->lab->anycast[a]) == AF_INET6]++;
    for (int k = 0; k < 2; k++)
        if (have[k] < addrs[k] * wanted_routes(b, v, k))
            return false;
    return true;
}

/* Waits until every router has all its sessions up and every node's route
 * for each anycast address. */
static int wait_converged(struct bgp *b, uint64_t timeout_ns)
{
    uint64_t start = ah_clock_mono_ns(), deadline = start + timeout_ns;
    for (;;) {
        size_t ok = 0;
        for (size_t v = 0; v < b->lab->nvantages; v++) {
            int est = poll_router(b, v);
            if (est < 0 || (size_t)est < wanted_sessions(b->lab, v))
                continue;
            ok += router_has_routes(b, v);
        }
        if (ok == b->lab->nvantages) {
            ah_log_info("bgp: %zu routers converged (%.0f ms)", ok,
                        (double)(ah_clock_mono_ns() - start) / 1e6);
            return 0;
        }
        reap(b);
        for (size_t i = 0; i < b->lab->nnodes; i++)
            if (b->nodes[i].b.p.pid == 0) {
                ah_log_error("bgp: BIRD of %s exited (see %s)", b->lab->nodes[i].name,
                             b->nodes[i].b.out);
                return -ESRCH;
            }
        /* SIGINT/SIGTERM are blocked for the runner's signalfd: look
         * without taking them, so an interrupt does not wait for BIRD. */
        sigset_t pend;
        if (sigpending(&pend) == 0 &&
            (sigismember(&pend, SIGINT) == 1 || sigismember(&pend, SIGTERM) == 1)) {
            ah_log_warn("bgp: interrupted while waiting for the sessions");
            return -EINTR;
        }
        if (ah_clock_mono_ns() >= deadline) {
            ah_log_error("bgp: sessions or routes not complete within %.0f s (BIRD logs: %s)",
                         (double)timeout_ns / 1e9, b->routers[0].b.log);
            return -ETIMEDOUT;
        }
        struct timespec ts = {0, 50 * (long)AH_NS_PER_MS};
        nanosleep(&ts, NULL);
    }
}

/* Health checks: from inside each node, of its own service on the first
 * anycast address of each family, as anycast-healthchecker runs on the
 * node; a family's failure withdraws only that family. */
static int open_checks(struct bgp *b, int epfd)
{
    const struct lab *lab = b->lab;
    uint64_t now = ah_clock_mono_ns();
    for (size_t i = 0; i < lab->nnodes; i++) {
        struct bgp_node *n = &b->nodes[i];
        const struct lab_healthcheck *hc = &lab->nodes[i].healthcheck;
        if (!hc->enabled)
            continue;
        enum ah_service svc = lab->udp.enabled   ? lab_services_first(lab->udp.service)
                              : lab->tcp.enabled ? lab_services_first(lab->tcp.service)
                                                 : AH_SVC_DNS;
        if (lab_responder_dns_only(lab->nodes[i].responder))
            svc = AH_SVC_DNS;
        for (int k = 0; k < 2; k++) {
            struct bgp_fam *fm = &n->fam[k];
            const struct ah_addr *addr = NULL;
            for (size_t a = 0; a < lab->nanycast && !addr; a++)
                if (ah_addr_family(&lab->anycast[a]) == fam_af[k])
                    addr = &lab->anycast[a];
            if (!addr)
                continue;
            int rc = health_open(&fm->chk, n->b.netns, addr, svc);
            if (rc < 0) {
                ah_log_error("bgp: health check of %s (ipv%c): %s", lab->nodes[i].name,
                             k ? '6' : '4', strerror(-rc));
                return rc;
            }
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = fm};
            if (epoll_ctl(epfd, EPOLL_CTL_ADD, fm->chk.fd, &ev) < 0)
                return -errno;
            health_sm_init(&fm->sm, hc->fall, hc->rise, 0, 0);
            fm->hc = true;
            fm->next_check = now + hc->interval_ns * (i % 8) / 8;
        }
    }
    return 0;
}

int bgp_start(const struct routing_opts *o, int epfd, struct bgp **out)
{
    const struct lab *lab = o->lab;
    int rc = -ENOMEM;
    struct bgp *b = calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    b->lab = lab;
    b->topo = o->topo;
    b->cb = o->cb;
    b->arg = o->arg;
    b->die_with_parent = o->die_with_parent;
    b->nodes = calloc(lab->nnodes, sizeof *b->nodes);
    b->routers = calloc(lab->nvantages, sizeof *b->routers);
    if (!b->nodes || !b->routers)
        goto fail;
    for (size_t i = 0; i < lab->nnodes; i++) {
        struct bgp_node *n = &b->nodes[i];
        n->admin = true;
        for (int k = 0; k < 2; k++) {
            n->fam[k] = (struct bgp_fam){.health = true, .on = true, .chk.fd = -1};
            for (size_t a = 0; a < lab->nanycast; a++)
                n->fam[k].present |= ah_addr_family(&lab->anycast[a]) == fam_af[k];
        }
    }
    for (size_t v = 0; v < lab->nvantages; v++) {
        struct bgp_router *r = &b->routers[v];
        r->state = calloc(2 * lab->nnodes, sizeof *r->state);
        if (!r->state)
            goto fail;
        bird_paths(&r->b, o, "router", lab->vantages[v].name);
        r->b.netns = topo_netns(o->topo, TOPO_ROUTER, v);
        if ((rc = write_conf(b, &r->b, false, v)) < 0 ||
            (rc = spawn_bird(b, &r->b, lab->vantages[v].name)) < 0)
            goto fail;
    }
    for (size_t i = 0; i < lab->nnodes; i++) {
        struct bgp_node *n = &b->nodes[i];
        bird_paths(&n->b, o, "node", lab->nodes[i].name);
        n->b.netns = topo_netns(o->topo, TOPO_NODE, i);
        if ((rc = write_conf(b, &n->b, true, i)) < 0 ||
            (rc = spawn_bird(b, &n->b, lab->nodes[i].name)) < 0)
            goto fail;
    }
    uint64_t wait = o->ready_timeout_ns > 20 * AH_NS_PER_S ? o->ready_timeout_ns : 20 * AH_NS_PER_S;
    if ((rc = wait_converged(b, wait)) < 0)
        goto fail;
    if ((rc = open_checks(b, epfd)) < 0)
        goto fail;
    b->next_poll = ah_clock_mono_ns();
    *out = b;
    return 0;
fail:
    bgp_stop(b, false);
    return rc;
}

static void health_step(struct bgp *b, size_t i, int k, uint64_t now)
{
    struct bgp_node *n = &b->nodes[i];
    struct bgp_fam *fm = &n->fam[k];
    const struct lab_healthcheck *hc = &b->lab->nodes[i].healthcheck;
    enum health_result res = health_poll(&fm->chk, now);
    enum health_change ch = HEALTH_NONE;
    if (res != HEALTH_PENDING)
        ch = health_sm_feed(&fm->sm, res == HEALTH_OK, now);
    if (ch == HEALTH_NONE && now >= fm->next_check) {
        if (fm->chk.outstanding) {
            fm->chk.outstanding = false;
            snprintf(fm->chk.why, sizeof fm->chk.why, "timeout");
            ch = health_sm_feed(&fm->sm, false, now);
        }
        if (ch == HEALTH_NONE && health_send(&fm->chk, now, hc->timeout_ns) == HEALTH_FAILED)
            ch = health_sm_feed(&fm->sm, false, now);
        fm->next_check += hc->interval_ns;
        if (fm->next_check <= now)
            fm->next_check = now + hc->interval_ns;
    }
    if (ch == HEALTH_NONE)
        return;
    char detail[160], fam[8] = "";
    /* The family is named only where the lab has both. */
    if (n->fam[0].present && n->fam[1].present)
        snprintf(fam, sizeof fam, "ipv%c: ", k ? '6' : '4');
    fm->health = ch == HEALTH_WENT_UP;
    uint64_t ack = 0;
    int rc = node_sync(b, i, &ack);
    if (ch == HEALTH_WENT_DOWN)
        snprintf(detail, sizeof detail, "%safter %u failed checks (%s); %s%s", fam, fm->sm.fail_run,
                 fm->chk.why, n->admin ? "withdrawn" : "already withdrawn",
                 rc < 0 ? " (birdc failed)" : "");
    else
        snprintf(detail, sizeof detail, "%safter %u good checks; %s%s", fam, fm->sm.ok_run,
                 n->admin ? "announced" : "stays withdrawn", rc < 0 ? " (birdc failed)" : "");
    emit(b, ack,
         ah_schema_event_name(ch == HEALTH_WENT_DOWN ? AH_EVENT_HEALTH_DOWN : AH_EVENT_HEALTH_UP),
         b->lab->nodes[i].name, detail);
}

uint64_t bgp_handle(struct bgp *b, uint64_t now)
{
    uint64_t next = UINT64_MAX;
    for (size_t i = 0; i < b->lab->nnodes; i++) {
        for (int k = 0; k < 2; k++) {
            struct bgp_fam *fm = &b->nodes[i].fam[k];
            if (!fm->hc)
                continue;
            health_step(b, i, k, now);
            if (fm->next_check < next)
                next = fm->next_check;
            if (fm->chk.outstanding && fm->chk.deadline < next)
                next = fm->chk.deadline;
        }
    }
    if (now >= b->next_poll) {
        reap(b);
        for (size_t v = 0; v < b->lab->nvantages; v++)
            if (b->routers[v].b.p.pid > 0)
                poll_router(b, v);
        b->next_poll = ah_clock_mono_ns() + POLL_EVERY;
    }
    return b->next_poll < next ? b->next_poll : next;
}

bool bgp_takes(enum ah_verb verb)
{
    switch (verb) {
    case AH_VERB_WITHDRAW:
    case AH_VERB_ANNOUNCE:
    case AH_VERB_KILL_BGP:
    case AH_VERB_START_BGP:
    case AH_VERB_PAUSE_BGP:
    case AH_VERB_RESUME_BGP:
        return true;
    default:
        return false;
    }
}

int bgp_action(struct bgp *b, enum ah_verb verb, size_t node, uint64_t *ack, char *detail,
               size_t dlen)
{
    if (node >= b->lab->nnodes)
        return -EINVAL;
    struct bgp_node *n = &b->nodes[node];
    size_t l = strlen(detail);
    int rc = 0;
    switch (verb) {
    case AH_VERB_WITHDRAW:
    case AH_VERB_ANNOUNCE:
        n->admin = verb == AH_VERB_ANNOUNCE;
        reap(b);
        if (n->b.p.pid <= 0) {
            /* Nothing to tell: start-bgp writes the state into the config. */
            snprintf(detail + l, dlen - l, "%sBIRD not running: applies at start-bgp",
                     l ? "; " : "");
            break;
        }
        rc = node_sync(b, node, ack);
        snprintf(detail + l, dlen - l, "%sbirdc %s%s", l ? "; " : "",
                 n->admin ? "enable" : "disable",
                 node_healthy(n) ? "" : " (health down: stays off)");
        break;
    case AH_VERB_KILL_BGP:
        if (n->b.p.pid <= 0) {
            snprintf(detail + l, dlen - l, "%sBIRD not running", l ? "; " : "");
            break;
        }
        n->b.p.expected_exit = true;
        snprintf(detail + l, dlen - l, "%sbird pid %ld SIGKILL", l ? "; " : "", (long)n->b.p.pid);
        rc = proc_signal(&n->b.p, SIGKILL);
        *ack = ah_clock_realtime_ns();
        break;
    case AH_VERB_START_BGP:
        reap(b);
        if (n->b.p.pid > 0) {
            snprintf(detail + l, dlen - l, "%sBIRD already running (pid %ld)", l ? "; " : "",
                     (long)n->b.p.pid);
            break;
        }
        /* The config says what the drill and the health check decided
         * meanwhile, so a withdrawn node does not announce for a moment. */
        if ((rc = write_conf(b, &n->b, true, node)) == 0)
            rc = spawn_bird(b, &n->b, b->lab->nodes[node].name);
        *ack = ah_clock_realtime_ns();
        if (rc == 0) {
            for (int k = 0; k < 2; k++)
                n->fam[k].on = n->admin && n->fam[k].health;
            snprintf(detail + l, dlen - l, "%sbird pid %ld%s", l ? "; " : "", (long)n->b.p.pid,
                     n->admin && node_healthy(n) ? "" : " (starts withdrawn)");
        }
        break;
    case AH_VERB_PAUSE_BGP:
    case AH_VERB_RESUME_BGP: {
        bool pause = verb == AH_VERB_PAUSE_BGP;
        snprintf(detail + l, dlen - l, "%sbird pid %ld %s", l ? "; " : "", (long)n->b.p.pid,
                 pause ? "SIGSTOP" : "SIGCONT");
        rc = proc_signal(&n->b.p, pause ? SIGSTOP : SIGCONT);
        *ack = ah_clock_realtime_ns();
        break;
    }
    default:
        return -ENOTSUP;
    }
    return rc;
}

void bgp_stop(struct bgp *b, bool keep)
{
    if (!b)
        return;
    for (size_t i = 0; b->nodes && i < b->lab->nnodes; i++) {
        health_close(&b->nodes[i].fam[0].chk);
        health_close(&b->nodes[i].fam[1].chk);
        if (!keep && b->nodes[i].b.p.pid > 0) {
            proc_signal(&b->nodes[i].b.p, SIGCONT);
            proc_stop(&b->nodes[i].b.p, SIGTERM, 2 * AH_NS_PER_S);
        }
    }
    for (size_t v = 0; b->routers && v < b->lab->nvantages; v++) {
        if (!keep && b->routers[v].b.p.pid > 0)
            proc_stop(&b->routers[v].b.p, SIGTERM, 2 * AH_NS_PER_S);
        free(b->routers[v].state);
    }
    free(b->nodes);
    free(b->routers);
    free(b);
}
