/* --query auto's bursts: before the measured window starts, a few queries of
 * each candidate go to the target over UDP on one blocking socket, and
 * query_auto.c judges the replies; the run then uses the chosen query from
 * its first probe to its last, so no measured window sees a switch. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/log.h"
#include "probe.h"
#include "query_auto.h"
#include "wire.h"

/* A burst waits at most this long for its answers (or --timeout if less). */
#define PICK_WAIT_NS (500 * AH_NS_PER_MS)

static int pick_socket(const struct probe_opts *o)
{
    struct ah_addr dst = o->target;
    int fd = socket(ah_addr_family(&o->target), SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -errno;
    ah_addr_set_port(&dst, o->port[AH_SVC_DNS]);
    if ((o->has_source && bind(fd, (const struct sockaddr *)&o->source.ss, o->source.len) < 0) ||
        connect(fd, (const struct sockaddr *)&dst.ss, dst.len) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

/* Sends one burst of the current candidate and feeds what comes back within
 * the wait to a. Returns the number sent. */
static unsigned pick_burst(int fd, struct qauto *a, uint16_t id_base, uint64_t wait_ns)
{
    struct wire_dns_tpl tpl;
    uint8_t q[WIRE_DNS_MAX], r[4096];
    bool seen[QAUTO_BURST] = {false};
    unsigned sent = 0, got = 0;

    if (wire_dns_template(qauto_query(a), &tpl) < 0)
        return 0;
    for (unsigned i = 0; i < QAUTO_BURST; i++) {
        size_t n = wire_dns_query(&tpl, (uint16_t)(id_base + i), q);
        if (send(fd, q, n, 0) == (ssize_t)n)
            sent++;
    }
    uint64_t end = ah_clock_mono_ns() + wait_ns;
    while (got < sent) {
        uint64_t now = ah_clock_mono_ns();
        if (now >= end)
            break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int ms = (int)((end - now + AH_NS_PER_MS - 1) / AH_NS_PER_MS);
        if (poll(&p, 1, ms) <= 0)
            break;
        ssize_t n = recv(fd, r, sizeof(r), MSG_DONTWAIT);
        uint16_t id;
        /* An ICMP error (nothing listening) ends the wait early too. */
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            break;
        if (n < 0 || wire_dns_id(r, (size_t)n, &id) < 0)
            continue;
        unsigned k = (uint16_t)(id - id_base);
        if (k >= QAUTO_BURST || seen[k])
            continue;
        seen[k] = true;
        got++;
        qauto_reply(a, r, (size_t)n);
    }
    return sent;
}

int query_pick(struct probe_opts *o)
{
    struct qauto a;
    int fd, rc = qauto_init(&a);

    if (rc < 0)
        return rc;
    fd = pick_socket(o);
    if (fd < 0) {
        /* Nothing to learn from: the run itself will report the error. */
        ah_log_debug("--query auto: %s", strerror(-fd));
        snprintf(o->query_why, sizeof(o->query_why), "no socket: %s", strerror(-fd));
        o->query = a.cand[0];
        snprintf(o->query_spec, sizeof(o->query_spec), "%s", qauto_spec(0));
        return 0;
    }
    uint64_t wait = o->timeout_ns < PICK_WAIT_NS ? o->timeout_ns : PICK_WAIT_NS;
    uint16_t id_base = (uint16_t)(ah_clock_mono_ns() & 0xfff0);
    while (!qauto_burst_done(&a, pick_burst(fd, &a, id_base, wait)))
        id_base = (uint16_t)(id_base + QAUTO_BURST);
    close(fd);
    o->query = *qauto_query(&a);
    snprintf(o->query_spec, sizeof(o->query_spec), "%s", qauto_spec(a.chosen));
    snprintf(o->query_why, sizeof(o->query_why), "%s", a.why);
    ah_log_debug("--query auto: %s (%s)", o->query_spec, o->query_why);
    return 0;
}

const char *query_row_detail(struct probe_ctx *ctx, const struct probe_row *p, char *buf,
                             size_t cap)
{
    const char *d = p->detail && p->detail[0] ? p->detail : NULL;

    if (!ctx->o->query_auto || p->service != AH_SVC_DNS || ctx->query_noted[p->transport])
        return d;
    ctx->query_noted[p->transport] = true;
    snprintf(buf, cap, "%s%squery=auto:%s", d ? d : "", d ? " " : "", ctx->o->query_spec);
    return buf;
}
