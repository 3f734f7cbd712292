/* routing: tracked (Cisco IP SLA + track): every router health-checks every
 * preferred node's unicast fabric address and keeps that node's static route
 * only while the track is up. Also the pieces the BGP node health check
 * reuses: the pure track state machine and a one-socket UDP checker. */
#ifndef TRACKED_H
#define TRACKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ah/addr.h"
#include "ah/ident.h"
#include "harness/lab/lab.h"
#include "harness/topo/topo.h"

/* ---- the track state machine (pure) ----
 * Results of single checks come in; `down` consecutive failures make the
 * raw state down, `up` consecutive successes make it up again (hysteresis).
 * The reported state follows the raw state once it has held for delay_down
 * (going down) or delay_up (going up), like `track N ... delay down S up S`:
 * a raw change that reverts within its delay reports nothing. */
enum track_change {
    TRACK_NONE = 0,
    TRACK_WENT_DOWN,
    TRACK_WENT_UP,
};

struct track_sm {
    unsigned down, up; /* thresholds, >= 1 */
    uint64_t delay_down_ns, delay_up_ns;
    bool state; /* reported: true = up */
    bool raw;   /* after the thresholds, before the delays */
    unsigned ok_run, fail_run;
    uint64_t raw_since; /* when raw last differed from state */
};

/* Starts up (the lab checked every responder before the drill). */
void track_sm_init(struct track_sm *sm, unsigned down, unsigned up, uint64_t delay_down_ns,
                   uint64_t delay_up_ns);
/* One check result at now_ns (any monotonic clock). */
enum track_change track_sm_feed(struct track_sm *sm, bool ok, uint64_t now_ns);
/* Lets a delay expire without a new result. */
enum track_change track_sm_tick(struct track_sm *sm, uint64_t now_ns);
/* When track_sm_tick may next report a change, or UINT64_MAX. */
uint64_t track_sm_deadline(const struct track_sm *sm);

/* ---- one UDP checker ----
 * A connected, non-blocking UDP socket opened inside a namespace, sending one
 * DNS hostname.bind query or one echo line per check and judging the answer:
 * ok, failed (ICMP port unreachable shows as ECONNREFUSED at once) or timed
 * out. At most one check is outstanding. */
enum check_result {
    CHECK_PENDING = 0,
    CHECK_OK,
    CHECK_FAILED,
};

struct check {
    int fd;
    enum ah_service service;
    struct ah_ident_query iq;
    uint8_t q[512];
    size_t qlen;
    uint16_t id;
    bool outstanding;
    uint64_t deadline; /* monotonic, of the outstanding check */
    char why[48];      /* the last failure: "timeout", "refused", ... */
};

/* Opens the socket inside netns (NULL: the current one), connected to addr
 * on the service's port (53 or 7). Returns 0 or -errno. */
int check_open(struct check *c, const char *netns, const struct ah_addr *addr,
               enum ah_service service);
void check_close(struct check *c);
/* Sends one check with the given timeout. Returns CHECK_PENDING, or
 * CHECK_FAILED when it could not be sent (e.g. refused by an earlier ICMP). */
enum check_result check_send(struct check *c, uint64_t now_ns, uint64_t timeout_ns);
/* Reads what arrived and applies the timeout. Returns the outstanding
 * check's result, CHECK_PENDING while it waits (or when none is out). */
enum check_result check_poll(struct check *c, uint64_t now_ns);

/* Opens a socket of family/type inside the named namespace (setns there and
 * back; the caller must be single-threaded). Returns the fd or -errno. */
int socket_in_netns_named(const char *netns, int family, int type);

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
