/* The responders of a run: one process per node, started in the node's
 * namespace, waited for until each answers on every anycast address, and
 * stopped together at the end. */
#include "run_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ah/addr.h"
#include "ah/clock.h"
#include "ah/log.h"
#include "harness/topo/topo.h"

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / AH_NS_PER_S), (long)(ns % AH_NS_PER_S)};
    nanosleep(&ts, NULL);
}

/* Responder i's process spec (its strings live in r). */
static struct proc_spec responder_spec(struct run *r, size_t i)
{
    snprintf(r->resp[i].name, sizeof r->resp[i].name, "responder %s", r->lab->nodes[i].name);
    return (struct proc_spec){
        .netns = topo_netns(r->topo, TOPO_NODE, i),
        .log_path = r->resp_log[i],
        .argv = r->launch[i].argv,
        .die_with_parent = !(r->o->up_only || r->o->keep_up),
        .chdir_to = r->rundir,
    };
}

static void log_spawn_error(const struct run *r, size_t i, int rc)
{
    ah_log_error("%s: starting %s in %s: %s", r->lab->nodes[i].name, r->launch[i].argv[0],
                 topo_netns(r->topo, TOPO_NODE, i), strerror(-rc));
}

static void spawn_failed(struct run *r, size_t i, int rc)
{
    log_spawn_error(r, i, rc);
    run_fail(r, "%s: responder did not start", r->lab->nodes[i].name);
}

int run_spawn_responder(struct run *r, size_t i)
{
    struct proc_spec spec = responder_spec(r, i);
    int rc = proc_spawn(&r->resp[i], &spec);
    if (rc < 0)
        log_spawn_error(r, i, rc);
    return rc;
}

int run_prepare_responder(struct run *r, size_t i)
{
    char abuf[LAB_ANYCAST_MAX + 2][AH_ADDR_STRLEN];
    const char *addrs[LAB_ANYCAST_MAX + 2];
    size_t n = 0;
    for (size_t a = 0; a < r->lab->nanycast; a++)
        ah_addr_format(&r->lab->anycast[a], false, abuf[n], sizeof abuf[n]), n++;
    static const int fams[] = {AF_INET, AF_INET6};
    for (size_t f = 0; f < 2; f++) {
        const struct ah_addr *u = topo_node_addr(r->topo, i, fams[f]);
        if (u && ah_addr_format(u, false, abuf[n], sizeof abuf[n]) == 0)
            n++;
    }
    for (size_t k = 0; k < n; k++)
        addrs[k] = abuf[k];
    int rc = resp_prepare(r->lab, i, addrs, n, r->rundir, &r->launch[i]);
    snprintf(r->resp_log[i], sizeof r->resp_log[i], "%s/responder-%s.log", r->logdir,
             r->lab->nodes[i].name);
    return rc;
}

/* Every responder, up to PROC_WINDOW of them forked before the first exec
 * is confirmed. */
int run_start_responders(struct run *r)
{
    struct proc_window w = {0};
    size_t failed;
    int rc = 0;
    for (size_t i = 0; i < r->lab->nnodes && rc == 0; i++) {
        if ((rc = run_prepare_responder(r, i)) < 0) {
            run_fail(r, "%s: cannot prepare the responder: %s", r->lab->nodes[i].name,
                     strerror(-rc));
            break;
        }
        struct proc_spec spec = responder_spec(r, i);
        if ((rc = proc_window_add(&w, &r->resp[i], &spec, i, &failed)) < 0)
            spawn_failed(r, failed, rc);
        else
            state_add_pid(&r->st, "responder", r->lab->nodes[i].name, r->resp[i].pid);
    }
    /* Every fork gets its confirmation, also after a failure. */
    while (w.n > 0) {
        int e = proc_window_pop(&w, &failed);
        if (e < 0 && rc == 0)
            spawn_failed(r, failed, rc = e);
    }
    state_save(&r->st);
    return rc;
}

static bool node_speaks(const struct lab_node *n, enum ah_service s)
{
    return s == AH_SVC_DNS || !lab_responder_dns_only(n->responder);
}

/* Waits until every node answers each probed service on each anycast
 * address, queried from inside the node's own namespace. */
int run_wait_ready(struct run *r)
{
    enum ah_service svcs[AH_SVC_COUNT];
    size_t nsvc = 0;
    for (int s = 0; s < AH_SVC_COUNT; s++)
        if (lab_probes_service(r->lab, (enum ah_service)s))
            svcs[nsvc++] = (enum ah_service)s;
    if (nsvc == 0)
        svcs[nsvc++] = AH_SVC_DNS;

    uint64_t start = ah_clock_mono_ns();
    uint64_t deadline = start + r->o->ready_timeout_ns;
    for (size_t i = 0; i < r->lab->nnodes; i++) {
        const char *ns = topo_netns(r->topo, TOPO_NODE, i);
        for (size_t a = 0; a < r->lab->nanycast; a++) {
            for (size_t s = 0; s < nsvc; s++) {
                if (!node_speaks(&r->lab->nodes[i], svcs[s]))
                    continue;
                int rc;
                while ((rc = resp_check(ns, &r->lab->anycast[a], svcs[s], 200 * AH_NS_PER_MS)) <
                       0) {
                    if (run_poll_signals(r))
                        return -EINTR;
                    if (r->resp[i].pid == 0) {
                        run_fail(r, "%s: responder exited before answering (log %s)",
                                 r->lab->nodes[i].name, r->resp_log[i]);
                        run_log_tail(r->resp_log[i]);
                        return -ESRCH;
                    }
                    if (ah_clock_mono_ns() >= deadline) {
                        char ab[AH_ADDR_STRLEN];
                        ah_addr_format(&r->lab->anycast[a], false, ab, sizeof ab);
                        run_fail(r, "%s: no %s answer on %s within %llu ms (%s; log %s)",
                                 r->lab->nodes[i].name, ah_service_name(svcs[s]), ab,
                                 (unsigned long long)(r->o->ready_timeout_ns / AH_NS_PER_MS),
                                 strerror(-rc), r->resp_log[i]);
                        run_log_tail(r->resp_log[i]);
                        return -ETIMEDOUT;
                    }
                    sleep_ns(20 * AH_NS_PER_MS);
                }
            }
        }
    }
    ah_log_info("%zu responder%s answer%s (%.0f ms)", r->lab->nnodes, AH_S(r->lab->nnodes),
                r->lab->nnodes == 1 ? "s" : "", (double)(ah_clock_mono_ns() - start) / 1e6);
    return 0;
}

/* SIGTERM to every responder first, then the waits: they stop in parallel,
 * not one after the other. */
void run_stop_responders(struct run *r)
{
    for (size_t i = 0; r->resp && i < r->lab->nnodes; i++) {
        if (r->resp[i].pid > 0) {
            r->resp[i].expected_exit = true;
            if (r->resp[i].stopped)
                proc_signal(&r->resp[i], SIGCONT);
            proc_signal(&r->resp[i], SIGTERM);
        }
    }
    uint64_t end = ah_clock_mono_ns() + 2 * AH_NS_PER_S;
    for (size_t i = 0; r->resp && i < r->lab->nnodes; i++) {
        uint64_t now = ah_clock_mono_ns();
        if (r->resp[i].pid > 0 &&
            proc_stop(&r->resp[i], 0, now < end ? end - now : AH_NS_PER_MS) == 1)
            ah_log_warn("%s: responder needed SIGKILL", r->lab->nodes[i].name);
    }
}
