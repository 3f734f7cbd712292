/* routing: the health checker (see health.h): the rise/fall state machine
 * and the UDP checker. Both run inside the lab process's poll loop: a
 * checker socket was opened inside its namespace and keeps it. */
#include "health.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/echo.h"
#include "harness/sys/netns.h"

/* ---- the rise/fall state machine ---- */

void health_sm_init(struct health_sm *sm, unsigned down, unsigned up, uint64_t delay_down_ns,
                    uint64_t delay_up_ns)
{
    *sm = (struct health_sm){.down = down ? down : 1,
                             .up = up ? up : 1,
                             .delay_down_ns = delay_down_ns,
                             .delay_up_ns = delay_up_ns,
                             .state = true,
                             .raw = true};
}

static uint64_t delay_of(const struct health_sm *sm)
{
    return sm->raw ? sm->delay_up_ns : sm->delay_down_ns;
}

enum health_change health_sm_tick(struct health_sm *sm, uint64_t now_ns)
{
    if (sm->raw == sm->state || now_ns < sm->raw_since + delay_of(sm))
        return HEALTH_NONE;
    sm->state = sm->raw;
    return sm->state ? HEALTH_WENT_UP : HEALTH_WENT_DOWN;
}

enum health_change health_sm_feed(struct health_sm *sm, bool ok, uint64_t now_ns)
{
    if (ok) {
        sm->ok_run++;
        sm->fail_run = 0;
    } else {
        sm->fail_run++;
        sm->ok_run = 0;
    }
    bool raw = sm->raw;
    if (raw && sm->fail_run >= sm->down)
        raw = false;
    else if (!raw && sm->ok_run >= sm->up)
        raw = true;
    if (raw != sm->raw) {
        sm->raw = raw;
        /* A change back to the reported state cancels the pending one; a
         * change away from it starts its delay now. */
        if (raw != sm->state)
            sm->raw_since = now_ns;
    }
    return health_sm_tick(sm, now_ns);
}

uint64_t health_sm_deadline(const struct health_sm *sm)
{
    return sm->raw == sm->state ? UINT64_MAX : sm->raw_since + delay_of(sm);
}

/* ---- checker ---- */

int health_open(struct health_check *c, const char *netns, const struct ah_addr *addr,
                enum ah_service service)
{
    struct ah_addr to = *addr;

    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->service = service;
    if (service == AH_SVC_DNS && ah_ident_query_parse("hostname.bind", &c->iq) < 0)
        return -EINVAL;
    ah_addr_set_port(&to, service == AH_SVC_DNS ? 53 : 7);
    int fd =
        netns_socket(netns, ah_addr_family(addr), SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return fd;
    if (connect(fd, (const struct sockaddr *)&to.ss, to.len) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    c->fd = fd;
    c->id = (uint16_t)(ah_clock_mono_ns() >> 10);
    return 0;
}

void health_close(struct health_check *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static void set_why(struct health_check *c, const char *why)
{
    snprintf(c->why, sizeof c->why, "%s", why);
}

enum health_result health_send(struct health_check *c, uint64_t now_ns, uint64_t timeout_ns)
{
    int len;

    c->id++;
    if (c->service == AH_SVC_DNS)
        len = ah_ident_query_build(&c->iq, c->id, c->q, sizeof c->q);
    else
        len = snprintf((char *)c->q, sizeof c->q, "track %u\n", (unsigned)c->id);
    if (len < 0)
        return HEALTH_FAILED;
    c->qlen = (size_t)len;
    c->outstanding = true;
    c->deadline = now_ns + timeout_ns;
    /* Drop late answers to earlier checks, and with them a pending ICMP
     * error (reading it clears it), so neither is taken for this check. */
    uint8_t junk[512];
    while (recv(c->fd, junk, sizeof junk, 0) >= 0) {
    }
    if (send(c->fd, c->q, c->qlen, 0) < 0) {
        set_why(c, errno == ECONNREFUSED ? "refused" : strerror(errno));
        c->outstanding = false;
        return HEALTH_FAILED;
    }
    return HEALTH_PENDING;
}

enum health_result health_poll(struct health_check *c, uint64_t now_ns)
{
    uint8_t buf[4096];

    if (!c->outstanding)
        return HEALTH_PENDING;
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            set_why(c, errno == ECONNREFUSED ? "refused" : strerror(errno));
            c->outstanding = false;
            return HEALTH_FAILED;
        }
        bool ok = false;
        if (c->service == AH_SVC_DNS) {
            struct ah_ident_reply rep;
            ok = ah_ident_reply_parse(&c->iq, buf, (size_t)n, &rep) == 0 && rep.id == c->id &&
                 rep.rcode == 0;
        } else {
            char ident[AH_IDENT_MAX];
            ok = ah_echo_parse_reply(buf, (size_t)n, c->q, c->qlen, ident, sizeof ident) == 0;
        }
        if (ok) {
            c->outstanding = false;
            return HEALTH_OK;
        }
    }
    if (now_ns >= c->deadline) {
        set_why(c, "timeout");
        c->outstanding = false;
        return HEALTH_FAILED;
    }
    return HEALTH_PENDING;
}
