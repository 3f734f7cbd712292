/* The responder's UDP transport, with two interchangeable receive/send
 * paths on the same kind of socket: libuv's uv_udp (recvmmsg receive, one
 * sendmsg per answer) and a uv_poll-driven recvmmsg/sendmmsg batch path. */
#ifndef RESPONDER_UDP_H
#define RESPONDER_UDP_H

#include "worker.h"

struct udp_sock;

/* Wraps the bound socket fd (owned from now on, also on failure) for the
 * worker's loop and starts reading. */
int udp_sock_open(struct worker *w, int fd, enum ah_service svc, struct udp_sock **out);

/* mmsg path only: adds a send-only socket for answers (see
 * listen_open_udp_sender). steer_first: attach the steering program to the
 * group first (the first worker does it for every group). On failure the
 * socket keeps answering from its receiving socket, so the caller may just
 * log. */
int udp_sock_add_sender(struct udp_sock *s, bool steer_first, unsigned nworkers, char *err,
                        size_t errlen);

/* Stops reading and closes the handle; memory is freed in the close
 * callback, so the worker's loop must run once more. */
void udp_sock_close(struct udp_sock *s);

#endif
