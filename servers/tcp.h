/* The responder's TCP transport: DNS per RFC 7766 (2-byte length framing,
 * several and pipelined queries per connection answered in order, idle
 * timeout, a cap on concurrent clients) and line-based echo, with limits
 * against slow clients: an io timeout per message, a write timeout for
 * answers the client does not read, one budget for partial input and
 * unsent answers, and eviction of idle connections over the cap. */
#ifndef RESPONDER_TCP_H
#define RESPONDER_TCP_H

#include "worker.h"

struct tcp_listener;

/* Wraps the listening socket fd (owned from now on, also on failure) and
 * starts accepting. */
int tcp_listener_open(struct worker *w, int fd, enum ah_service svc, struct tcp_listener **out);
void tcp_listener_close(struct tcp_listener *l);

/* Closes connections whose message began longer than --tcp-io-timeout ago,
 * resets those whose queued answers did not move for --tcp-write-timeout,
 * and closes those idle for longer than --tcp-idle-timeout. */
void tcp_sweep(struct worker *w);

/* Shutdown: stops reading on every connection and closes each once its
 * queued answers are written. */
void tcp_drain_all(struct worker *w);

/* Closes every connection now. */
void tcp_close_all(struct worker *w);

#endif
