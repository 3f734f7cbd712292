/* UDP GRO on receiving sockets and the split of a coalesced buffer into its
 * datagrams; see ah/udp_gro.h. */
#include "ah/udp_gro.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/udp.h>

int ah_udp_gro_enable(int fd)
{
    int on = 1;

    if (setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof(on)) < 0)
        return -errno;
    return 0;
}

size_t ah_udp_gro_size(const struct msghdr *m)
{
    const unsigned char *end = (const unsigned char *)m->msg_control + m->msg_controllen;

    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
        int v;
        if (c->cmsg_level != SOL_UDP || c->cmsg_type != UDP_GRO)
            continue;
        if (c->cmsg_len < CMSG_LEN(sizeof(v)) || CMSG_DATA(c) + sizeof(v) > end)
            return 0;
        memcpy(&v, CMSG_DATA(c), sizeof(v));
        return v > 0 ? (size_t)v : 0;
    }
    return 0;
}

size_t ah_udp_gro_next(size_t len, size_t seg, size_t off)
{
    if (off >= len)
        return 0;
    if (seg == 0 || seg > len - off)
        return len - off;
    return seg;
}
