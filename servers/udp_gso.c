/* Grouping of consecutive UDP answers to one peer into UDP GSO messages;
 * see udp_gso.h. */
#include "udp_gso.h"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>

static bool same_dst(const struct msghdr *a, const struct msghdr *b)
{
    return a->msg_namelen == b->msg_namelen &&
           memcmp(a->msg_name, b->msg_name, a->msg_namelen) == 0;
}

unsigned udp_gso_run(const struct iovec *iov, const struct msghdr *const *dst, unsigned n,
                     size_t max_seg)
{
    if (n == 0)
        return 0;
    size_t seg = iov[0].iov_len, total = seg;
    unsigned b = 1;
    if (seg > max_seg || seg > UDP_GSO_MAX_SEG)
        return 1;
    while (b < n && b < UDP_GSO_MAX_SEGS && iov[b].iov_len <= seg &&
           total + iov[b].iov_len <= UDP_GSO_MAX_BYTES && same_dst(dst[0], dst[b])) {
        total += iov[b].iov_len;
        if (iov[b++].iov_len < seg)
            break; /* a shorter segment must be the last */
    }
    return b;
}

bool udp_gso_supported(int fd)
{
    int v = 0;
    socklen_t len = sizeof v;
    return getsockopt(fd, SOL_UDP, UDP_SEGMENT, &v, &len) == 0;
}

void udp_gso_control(struct msghdr *m, uint8_t *ctl, size_t seg)
{
    uint16_t v = (uint16_t)seg;
    m->msg_control = ctl;
    m->msg_controllen = UDP_GSO_CTL_SPACE;
    struct cmsghdr *c = CMSG_FIRSTHDR(m);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof v);
    memcpy(CMSG_DATA(c), &v, sizeof v);
}
