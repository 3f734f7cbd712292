/* The responder's control socket (--control PATH): a unix stream socket
 * taking one command per line and answering one line, "ok ..." or
 * "error ...". Commands: pause, resume, delay MS, drop PERCENT, stats, help.
 * It runs on the main thread's loop; the workers only read the switches. */
#ifndef RESPONDER_CONTROL_H
#define RESPONDER_CONTROL_H

#include <stddef.h>
#include <uv.h>

#include "config.h"

/* Defaults of the limits the config may override (a zero field there means
 * the default). Only root and the responder's own user may use the socket,
 * see control_peer_allowed. */
#define CONTROL_MODE_DEFAULT    0600u
#define CONTROL_CLIENTS_DEFAULT 16u
#define CONTROL_IDLE_MS_DEFAULT 10000u
/* When every slot is taken, a new client gets the slot of the client idle
 * longest once that one has been idle this long (or half the idle timeout
 * if that is shorter); until then it waits. */
#define CONTROL_EVICT_MS 1000u
/* Unsent reply bytes per client above which the client's input is no longer
 * read; reading resumes when half of it has drained. */
#define CONTROL_WQ_MAX (64u * 1024u)

struct control;

/* Binds PATH (replacing a stale socket file, never another kind of file nor
 * a socket a running process listens on: -EADDRINUSE) with the mode of
 * r->cfg->control_mode (default 0600, whatever the umask) and starts
 * listening. A missing directory is -ENOENT. On failure writes a message
 * naming PATH into err. */
int control_open(uv_loop_t *loop, struct responder *r, const char *path, struct control **out,
                 char *err, size_t errlen);

/* Closes the server and every client, removes PATH; memory is freed by the
 * close callbacks, so the loop must run afterwards. */
void control_close(struct control *c);

/* Open clients and their unsent reply bytes, summed (for tests and logs). */
void control_usage(const struct control *c, unsigned *clients, size_t *queued);

/* Whether a peer with these credentials may use a socket of mode `mode`
 * owned by (uid, gid): root and uid always; peers whose group is gid only
 * when the mode gives the group write access; anyone else never, whatever
 * the mode says (a world-writable mode lets them connect and be refused). */
bool control_peer_allowed(unsigned peer_uid, unsigned peer_gid, unsigned uid, unsigned gid,
                          unsigned mode);

/* Executes one command line of len bytes (without '\n', NUL bytes allowed)
 * and writes the reply line (without '\n') into out. A line with a NUL or
 * another control character (but tab and CR) is an error, never run. Returns
 * 0 when the command succeeded, -EINVAL otherwise (the reply then starts
 * with "error"). */
int control_execute_line(struct responder *r, const char *line, size_t len, char *out,
                         size_t outlen);

/* The same for a NUL-terminated line. */
int control_execute(struct responder *r, const char *line, char *out, size_t len);

/* The stats line: summed counters of all workers plus the fault state. */
void control_stats_line(struct responder *r, char *buf, size_t len);

#endif
