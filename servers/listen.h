/* Creating the responder's listening sockets: each bound to one exact
 * address (never the wildcard, so UDP answers leave from the anycast
 * address), with SO_REUSEPORT so every worker gets its own socket. */
#ifndef RESPONDER_LISTEN_H
#define RESPONDER_LISTEN_H

#include <stddef.h>
#include <stdint.h>

#include "ah/addr.h"

/* Opens a non-blocking SOCK_DGRAM or SOCK_STREAM socket bound to addr:port.
 * TCP sockets are also put in listening state (backlog). On failure returns
 * a negative errno and writes a message naming the object into err, e.g.
 * "bind 198.51.100.53:53/udp: Cannot assign requested address (is the
 * address on lo?)". */
int listen_open(const struct ah_addr *addr, uint16_t port, int type, int backlog, int *fd_out,
                char *err, size_t errlen);

/* Fails with -EADDRINUSE (and a message naming the object) when another
 * socket already holds addr:port. SO_REUSEPORT would otherwise let a second
 * responder (or an old one that never died) silently share the port. The
 * TCP check uses SO_REUSEADDR so that TIME_WAIT leftovers of an earlier run
 * do not count; a listening socket does. */
int listen_check_free(const struct ah_addr *addr, uint16_t port, int type, char *err,
                      size_t errlen);

/* Opens a send-only UDP socket bound to the same address and port as a
 * receiving socket. It joins that socket's SO_REUSEPORT group, so the group
 * must first be steered to the receiving sockets (listen_steer_udp).
 * Replies sent from a socket that no epoll watches skip a wake-up per
 * datagram in the kernel (sock_wfree -> write-space callback). */
int listen_open_udp_sender(const struct ah_addr *addr, uint16_t port, int *fd_out, char *err,
                           size_t errlen);

/* Attaches a classic BPF program to fd's SO_REUSEPORT group that hands each
 * datagram to one of the first nrecv sockets of the group (by source
 * address and port), so the send-only sockets bound after them never
 * receive. Returns 0 or a negative errno. */
int listen_steer_udp(int fd, int family, unsigned nrecv);

/* "198.51.100.53:53/udp" into buf. */
void listen_describe(const struct ah_addr *addr, uint16_t port, int type, char *buf, size_t len);

#endif
