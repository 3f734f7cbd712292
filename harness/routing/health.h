/* routing: the one health checker, shared by the tracked mode (a router
 * checks every preferred node, like Cisco IP SLA + track) and the BGP mode (a
 * node checks its own service, like anycast-healthchecker): a pure
 * rise/fall state machine with hold-down delays, and a one-socket UDP
 * checker opened inside a namespace. */
#ifndef HEALTH_H
#define HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ah/addr.h"
#include "ah/ident.h"
#include "harness/lab/lab.h"

/* ---- the rise/fall state machine (pure) ----
 * Results of single checks come in; `down` consecutive failures make the
 * raw state down, `up` consecutive successes make it up again (hysteresis).
 * The reported state follows the raw state once it has held for delay_down
 * (going down) or delay_up (going up), like `track N ... delay down S up S`:
 * a raw change that reverts within its delay reports nothing. */
enum health_change {
    HEALTH_NONE = 0,
    HEALTH_WENT_DOWN,
    HEALTH_WENT_UP,
};

struct health_sm {
    unsigned down, up; /* thresholds, >= 1 */
    uint64_t delay_down_ns, delay_up_ns;
    bool state; /* reported: true = up */
    bool raw;   /* after the thresholds, before the delays */
    unsigned ok_run, fail_run;
    uint64_t raw_since; /* when raw last differed from state */
};

/* Starts up (the lab checked every responder before the drill). */
void health_sm_init(struct health_sm *sm, unsigned down, unsigned up, uint64_t delay_down_ns,
                    uint64_t delay_up_ns);
/* One check result at now_ns (any monotonic clock). */
enum health_change health_sm_feed(struct health_sm *sm, bool ok, uint64_t now_ns);
/* Lets a delay expire without a new result. */
enum health_change health_sm_tick(struct health_sm *sm, uint64_t now_ns);
/* When health_sm_tick may next report a change, or UINT64_MAX. */
uint64_t health_sm_deadline(const struct health_sm *sm);

/* ---- one UDP checker ----
 * A connected, non-blocking UDP socket opened inside a namespace, sending one
 * DNS hostname.bind query or one echo line per check and judging the answer:
 * ok, failed (ICMP port unreachable shows as ECONNREFUSED at once) or timed
 * out. At most one check is outstanding. */
enum health_result {
    HEALTH_PENDING = 0,
    HEALTH_OK,
    HEALTH_FAILED,
};

struct health_check {
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
int health_open(struct health_check *c, const char *netns, const struct ah_addr *addr,
                enum ah_service service);
void health_close(struct health_check *c);
/* Sends one check with the given timeout. Returns HEALTH_PENDING, or
 * HEALTH_FAILED when it could not be sent (e.g. refused by an earlier ICMP). */
enum health_result health_send(struct health_check *c, uint64_t now_ns, uint64_t timeout_ns);
/* Reads what arrived and applies the timeout. Returns the outstanding
 * check's result, HEALTH_PENDING while it waits (or when none is out). */
enum health_result health_poll(struct health_check *c, uint64_t now_ns);

#endif
