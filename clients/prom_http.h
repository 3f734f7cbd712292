/* The HTTP endpoint of `anycast-probe --metrics ADDR:PORT`: GET /metrics
 * answers the latest exposition the probe published (libmicrohttpd, on its
 * own thread; the probe's loop renders and publishes, the server only copies
 * text under a lock, so no statistic is read from two threads). */
#ifndef PROM_HTTP_H
#define PROM_HTTP_H

#include <stddef.h>

#include "ah/addr.h"

struct prom_http;

/* Starts serving on addr (port included). Before the first publish, GET
 * /metrics answers 503. Returns 0, or a negative errno with the reason in err. */
int prom_http_start(struct prom_http **out, const struct ah_addr *addr, char *err, size_t errlen);
/* Replaces the text served; takes ownership of text (malloc'ed, len bytes). */
void prom_http_publish(struct prom_http *h, char *text, size_t len);
/* Stops the server (waits for its thread) and frees; safe on NULL. */
void prom_http_stop(struct prom_http *h);

#endif
