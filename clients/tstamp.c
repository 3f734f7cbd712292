/* Kernel timestamps of UDP probes (see tstamp.h): the socket option and the
 * control-message readers. */
#include "tstamp.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>

#include "ah/clock.h"

#define TS_FLAGS                                                                                   \
    (SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_TX_SCHED | SOF_TIMESTAMPING_SOFTWARE |        \
     SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY)

int tstamp_enable(int fd, bool reset)
{
    int flags = TS_FLAGS;

    if (reset) {
        int off = TS_FLAGS & ~SOF_TIMESTAMPING_OPT_ID;
        if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &off, sizeof(off)) < 0)
            return -errno;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof(flags)) < 0)
        return -errno;
    return 0;
}

static uint64_t ts_ns(const struct timespec *t)
{
    if (t->tv_sec < 0 || t->tv_nsec < 0 || t->tv_nsec >= (long)AH_NS_PER_S)
        return 0;
    return (uint64_t)t->tv_sec * AH_NS_PER_S + (uint64_t)t->tv_nsec;
}

/* The software stamp of an SCM_TIMESTAMPING message (the first of its three
 * timespecs; the others are for hardware stamps), or of SCM_TIMESTAMPNS; 0 if
 * c is neither or is too short. */
static uint64_t cmsg_stamp(const struct msghdr *m, const struct cmsghdr *c)
{
    struct timespec t[3];
    size_t len = c->cmsg_len > CMSG_LEN(0) ? c->cmsg_len - CMSG_LEN(0) : 0;
    const unsigned char *end = (const unsigned char *)m->msg_control + m->msg_controllen;

    if (c->cmsg_level != SOL_SOCKET)
        return 0;
    if (c->cmsg_type != SO_TIMESTAMPING && c->cmsg_type != SO_TIMESTAMPNS)
        return 0;
    if (len < sizeof(t[0]) || CMSG_DATA(c) + sizeof(t[0]) > end)
        return 0;
    memcpy(&t[0], CMSG_DATA(c), sizeof(t[0]));
    return ts_ns(&t[0]);
}

int tstamp_rx(const struct msghdr *m, uint64_t *ns)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
        uint64_t v = cmsg_stamp(m, c);
        if (v != 0) {
            *ns = v;
            return 0;
        }
    }
    return -ENOENT;
}

void tstamp_err_parse(const struct msghdr *m, struct tstamp_err *out)
{
    struct sock_extended_err ee;
    bool have_ee = false;
    uint64_t stamp = 0;

    memset(out, 0, sizeof(*out));
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
        const unsigned char *end = (const unsigned char *)m->msg_control + m->msg_controllen;
        if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
            (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
            if (c->cmsg_len < CMSG_LEN(sizeof(ee)) || CMSG_DATA(c) + sizeof(ee) > end)
                continue;
            memcpy(&ee, CMSG_DATA(c), sizeof(ee));
            have_ee = true;
        } else if (stamp == 0) {
            stamp = cmsg_stamp(m, c);
        }
    }
    if (!have_ee)
        return;
    if (ee.ee_origin == SO_EE_ORIGIN_TIMESTAMPING) {
        if (ee.ee_errno == ENOMSG && stamp != 0) {
            out->kind = TSTAMP_TX;
            out->key = ee.ee_data;
            out->ns = stamp;
        }
        return;
    }
    if (ee.ee_errno != 0) {
        out->kind = TSTAMP_ICMP;
        out->err = (int)ee.ee_errno;
    }
}
