/* The responder's UDP transport, with two interchangeable receive/send
 * paths on the same kind of socket: libuv's uv_udp (recvmmsg receive, one
 * sendmsg per answer) and a uv_poll-driven recvmmsg/sendmmsg batch path. */
#ifndef RESPONDER_UDP_H
#define RESPONDER_UDP_H

#include "worker.h"

struct udp_sock;

/* Wraps the bound socket fd (owned from now on, also on failure) for the
 * worker's loop and starts reading. */
int udp_sock_open(struct worker *w, int fd, enum service svc, struct udp_sock **out);

/* Stops reading and closes the handle; memory is freed in the close
 * callback, so the worker's loop must run once more. */
void udp_sock_close(struct udp_sock *s);

#endif
