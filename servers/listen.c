/* Socket set-up for the responder's listeners; see listen.h. */
#include "listen.h"

#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ah/schema.h"

/* A large receive buffer absorbs bursts (benchmarks, floods) while a worker
 * is busy; SO_RCVBUFFORCE passes rmem_max when we have CAP_NET_ADMIN, else the
 * plain option is capped by the kernel, which is fine. */
#define UDP_RCVBUF (4 * 1024 * 1024)

void listen_describe(const struct ah_addr *addr, uint16_t port, int type, char *buf, size_t len)
{
    struct ah_addr a = *addr;
    char s[AH_ADDR_STRLEN];
    ah_addr_set_port(&a, port);
    if (ah_addr_format(&a, true, s, sizeof s) < 0)
        snprintf(s, sizeof s, "?");
    snprintf(buf, len, "%s/%s", s, ah_transport_name(type == SOCK_DGRAM ? AH_TR_UDP : AH_TR_TCP));
}

static const char *errno_hint(int err)
{
    switch (err) {
    case EADDRNOTAVAIL:
        return " (is the address on lo?)";
    case EADDRINUSE:
        return " (is another server using the port?)";
    case EACCES:
        return " (ports below 1024 need root or CAP_NET_BIND_SERVICE)";
    default:
        return "";
    }
}

int listen_check_free(const struct ah_addr *addr, uint16_t port, int type, char *err, size_t errlen)
{
    char what[AH_ADDR_STRLEN + 8];
    struct ah_addr a = *addr;
    int family = ah_addr_family(addr);
    int one = 1;
    int rc = 0;
    int fd;

    ah_addr_set_port(&a, port);
    fd = socket(family, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0; /* the real socket() will report it */
    if (type == SOCK_STREAM)
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)&a.ss, a.len) < 0 && errno == EADDRINUSE) {
        rc = -EADDRINUSE;
        listen_describe(addr, port, type, what, sizeof what);
        snprintf(err, errlen, "bind %s: %s%s", what, strerror(EADDRINUSE), errno_hint(EADDRINUSE));
    }
    close(fd);
    return rc;
}

int listen_open(const struct ah_addr *addr, uint16_t port, int type, int backlog, int *fd_out,
                char *err, size_t errlen)
{
    char what[AH_ADDR_STRLEN + 8];
    const char *step = "socket";
    struct ah_addr a = *addr;
    int family = ah_addr_family(addr);
    int one = 1;
    int rc = 0;
    int fd;

    listen_describe(addr, port, type, what, sizeof what);
    ah_addr_set_port(&a, port);
    fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    step = "setsockopt SO_REUSEPORT";
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
        goto fail;
    step = "setsockopt SO_REUSEADDR";
    if (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        goto fail;
    step = "setsockopt IPV6_V6ONLY";
    if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
        goto fail;
    if (type == SOCK_DGRAM) {
        int size = UDP_RCVBUF;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
            (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    step = "bind";
    if (bind(fd, (const struct sockaddr *)&a.ss, a.len) < 0)
        goto fail;
    step = "listen";
    if (type == SOCK_STREAM && listen(fd, backlog) < 0)
        goto fail;
    *fd_out = fd;
    return 0;

fail:
    rc = -errno;
    snprintf(err, errlen, "%s %s: %s%s", step, what, strerror(-rc), errno_hint(-rc));
    if (fd >= 0)
        close(fd);
    return rc;
}

int listen_open_udp_sender(const struct ah_addr *addr, uint16_t port, int *fd_out, char *err,
                           size_t errlen)
{
    char what[AH_ADDR_STRLEN + 8];
    const char *step = "socket";
    struct ah_addr a = *addr;
    int family = ah_addr_family(addr);
    int one = 1;
    int rc;
    int fd;

    listen_describe(addr, port, SOCK_DGRAM, what, sizeof what);
    ah_addr_set_port(&a, port);
    fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    step = "setsockopt SO_REUSEPORT";
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
        goto fail;
    step = "setsockopt IPV6_V6ONLY";
    if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
        goto fail;
    step = "bind (sender)";
    if (bind(fd, (const struct sockaddr *)&a.ss, a.len) < 0)
        goto fail;
    *fd_out = fd;
    return 0;

fail:
    rc = -errno;
    snprintf(err, errlen, "%s %s: %s", step, what, strerror(-rc));
    if (fd >= 0)
        close(fd);
    return rc;
}

int listen_steer_udp(int fd, int family, unsigned nrecv)
{
    /* Offsets from the network header: IPv4 source address 12, source port
     * 20 (no options); IPv6 last word of the source address 20, port 40.
     * A failed load ends the program with 0, which picks socket 0. */
    uint32_t addr_off = family == AF_INET6 ? 20 : 12;
    uint32_t port_off = family == AF_INET6 ? 40 : 20;
    struct sock_filter hash[] = {
        {BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)SKF_NET_OFF + addr_off},
        {BPF_MISC | BPF_TAX, 0, 0, 0},
        {BPF_LD | BPF_H | BPF_ABS, 0, 0, (uint32_t)SKF_NET_OFF + port_off},
        {BPF_ALU | BPF_ADD | BPF_X, 0, 0, 0},
        {BPF_ALU | BPF_MOD | BPF_K, 0, 0, nrecv},
        {BPF_RET | BPF_A, 0, 0, 0},
    };
    struct sock_filter first[] = {{BPF_RET | BPF_K, 0, 0, 0}};
    struct sock_fprog prog = {.len = 6, .filter = hash};
    if (nrecv <= 1) {
        prog.len = 1;
        prog.filter = first;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) < 0)
        return -errno;
    return 0;
}
