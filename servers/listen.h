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

/* "198.51.100.53:53/udp" into buf. */
void listen_describe(const struct ah_addr *addr, uint16_t port, int type, char *buf, size_t len);

#endif
