/* routing: tracked (Cisco IP SLA + track): every router health-checks every
 * preferred node's unicast fabric address (with the checker of health.h)
 * and keeps that node's static route only while the track is up. */
#ifndef TRACKED_H
#define TRACKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/lab/lab.h"
#include "harness/topo/topo.h"
#include "health.h"

/* ---- routing: tracked ---- */
typedef void (*tracked_event_cb)(void *arg, uint64_t ts_ns, const char *event, const char *node,
                                 const char *detail);
struct tracked;

/* Installs every router's static routes (tracks start up) and opens one
 * checker per (router, preferred node) inside the router's namespace. The
 * sockets are added to epfd (EPOLLIN). Returns 0 or -errno. */
int tracked_start(const struct lab *lab, struct topo *topo, int epfd, tracked_event_cb cb,
                  void *arg, struct tracked **out);
/* Does everything due at now_ns (monotonic): reads answers, times out,
 * sends the next checks, lets delays expire, and adds or removes routes on
 * track changes. Returns the next monotonic deadline. */
uint64_t tracked_handle(struct tracked *tr, uint64_t now_ns);
/* Drill withdraw/announce: the operator's route removal (`no ip route`),
 * which a track coming up does not undo. */
int tracked_set_announced(struct tracked *tr, size_t node, bool on, uint64_t *ack_ns);
void tracked_free(struct tracked *tr);

#endif
