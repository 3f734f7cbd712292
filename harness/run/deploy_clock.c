/* The clock offset of a vantage host against the controller: DEPLOY_CLOCK_N
 * four-timestamp exchanges with `anycast-probe --clock-echo` over an ssh
 * session through the host's master, the minimum-delay sample kept
 * (clock_align.h), at the start and at the end of the run. */
#include "deploy_int.h"
#include "run_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/log.h"
#include "clock_exchange.h"
#include "harness/results/clock_align.h"

int deploy_clock_measure(struct deploy *d, size_t i, int which)
{
    struct deploy_host *h = &d->h[i];
    char remote[LAB_COMMAND_MAX + 32];
    struct clock_sample s[DEPLOY_CLOCK_N];
    struct clock_estimate est;
    struct proc_argv a;
    struct ssh_child c;
    snprintf(remote, sizeof remote, "%s --clock-echo", h->probe);
    int rc = deploy_cmd(d, i, SSH_COMMAND, remote, &a);
    if (rc < 0 || d->dry)
        return rc;
    deploy_note(d, i, remote);
    if ((rc = ssh_spawn(a.argv, true, true, -1, h->log_fd, &c)) < 0)
        return rc;
    /* The session's own start (a new channel on the master) is outside the
     * exchanges: each is timed from its own write. */
    rc = clock_exchange(c.in, c.out, DEPLOY_CLOCK_N, 10 * AH_NS_PER_S, s);
    close(c.in);
    close(c.out);
    ssh_wait(&c, 5 * AH_NS_PER_S);
    if (rc < 0)
        return rc;
    if ((rc = clock_estimate(s, DEPLOY_CLOCK_N, &est)) < 0)
        return rc;
    h->clock[which] = (struct deploy_clock){
        .ok = true, .offset_ns = est.offset_ns, .uncertainty_ns = est.uncertainty_ns};
    ah_log_info("%s: clock offset %+.3f ms +- %.3f ms (%s)", h->name, (double)est.offset_ns / 1e6,
                (double)est.uncertainty_ns / 1e6, which ? "end" : "start");
    return 0;
}

void deploy_clock_finish(struct deploy_host *h)
{
    struct clock_estimate a = {.offset_ns = h->clock[0].offset_ns,
                               .uncertainty_ns = h->clock[0].uncertainty_ns};
    struct clock_estimate b = {.offset_ns = h->clock[1].offset_ns,
                               .uncertainty_ns = h->clock[1].uncertainty_ns};
    struct clock_estimate out;
    if (h->clock[0].ok && h->clock[1].ok && clock_combine(&a, &b, &out) == 0)
        h->combined = (struct deploy_clock){
            .ok = true, .offset_ns = out.offset_ns, .uncertainty_ns = out.uncertainty_ns};
    else
        h->combined = h->clock[0].ok ? h->clock[0] : h->clock[1];
}
