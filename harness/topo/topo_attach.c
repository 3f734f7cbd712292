/* The topology of a lab that is up, seen from another process (`anycast-lab
 * drill`): the request and monitor sockets topo_build opens while it builds,
 * opened instead inside the namespaces that are already there, so that the
 * drill actions of topo_route.c work on a lab they did not build. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "ah/log.h"
#include "harness/sys/netns.h"
#include "topo_int.h"

/* Opens the sockets of one namespace from inside it (mon: its route monitor
 * too), then returns to the namespace self. */
static int attach_ns(struct topo_ns *ns, struct topo_mon *mon, int self)
{
    int err = netns_enter(ns->name);
    if (err < 0) {
        ah_log_error("netns %s: %s", ns->name,
                     err == -ENOENT ? "no such namespace (is the lab up?)" : strerror(-err));
        return err;
    }
    err = nl_open(&ns->nl, ns->name, 0);
    if (!err && mon)
        err = nl_open(&mon->nl, ns->name, 0);
    if (setns(self, CLONE_NEWNET) < 0) {
        /* Cannot happen with a namespace file held open; said in case. */
        ah_log_error("netns %s: back to our namespace: %s", ns->name, strerror(errno));
        return -errno;
    }
    if (err < 0)
        ah_log_error("netns %s: netlink socket: %s", ns->name, strerror(-err));
    return err;
}

static int attach_all(struct topo *t, int self)
{
    const struct lab *lab = t->lab;
    int err = attach_ns(&t->fabric, NULL, self);
    for (size_t i = 0; i < lab->nnodes && !err; i++)
        err = attach_ns(&t->nodes[i], NULL, self);
    for (size_t v = 0; v < lab->nvantages && !err; v++) {
        err = attach_ns(&t->routers[v], &t->mon[v], self);
        if (!err)
            err = attach_ns(&t->clients[v], NULL, self);
    }
    return err;
}

int topo_attach(const struct lab *lab, const char *run_id, const bool *withdrawn,
                const bool *link_down, struct topo **out)
{
    struct topo *t = NULL;
    int self = -1, err;

    *out = NULL;
    if (topo_valid_run_id(run_id) < 0)
        return -EINVAL;
    if (!(t = topo_alloc(lab, run_id)))
        return -ENOMEM;
    for (size_t i = 0; i < lab->nnodes; i++) {
        t->announced[i] = !(withdrawn && withdrawn[i]);
        t->link_down[i] = link_down && link_down[i];
    }
    if ((err = topo_ns_name_all(t, run_id)) < 0)
        goto out;
    self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0) {
        err = -errno;
        goto out;
    }
    if ((err = attach_all(t, self)) < 0)
        goto out;
    /* The monitors read the routers' routes as they are now: the text a
     * change is then reported against. */
    err = topo_monitor_start(t);
out:
    if (self >= 0)
        close(self);
    if (err < 0)
        topo_release(t);
    else
        *out = t;
    return err;
}
