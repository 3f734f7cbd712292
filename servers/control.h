/* The responder's control socket (--control PATH): a unix stream socket
 * taking one command per line and answering one line, "ok ..." or
 * "error ...". Commands: pause, resume, delay MS, drop PERCENT, stats, help.
 * It runs on the main thread's loop; the workers only read the switches. */
#ifndef RESPONDER_CONTROL_H
#define RESPONDER_CONTROL_H

#include <stddef.h>
#include <uv.h>

#include "config.h"

struct control;

/* Binds PATH (replacing a stale socket file, never another kind of file nor
 * a socket a running process listens on: -EADDRINUSE) and starts listening.
 * A missing directory is -ENOENT. On failure writes a message naming PATH
 * into err. */
int control_open(uv_loop_t *loop, struct responder *r, const char *path, struct control **out,
                 char *err, size_t errlen);

/* Closes the server and every client, removes PATH; memory is freed by the
 * close callbacks, so the loop must run afterwards. */
void control_close(struct control *c);

/* Executes one command line (without '\n') and writes the reply line
 * (without '\n') into out. Returns 0 when the command succeeded, -EINVAL
 * otherwise (the reply then starts with "error"). */
int control_execute(struct responder *r, const char *line, char *out, size_t len);

/* The stats line: summed counters of all workers plus the fault state. */
void control_stats_line(struct responder *r, char *buf, size_t len);

#endif
