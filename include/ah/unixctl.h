/* A line-based control client for a unix stream socket: connect, optionally
 * read the server's greeting, send one request line, read the reply line by
 * line until the caller's rule says a line was the last (or the server
 * closes), all within one deadline and a bound on the reply's size. Used for
 * BIRD's control socket (the birdc protocol) and anycast-responder's. */
#ifndef AH_UNIXCTL_H
#define AH_UNIXCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest line, request or reply, without its '\n'. */
#define AH_UNIXCTL_LINE_MAX 4096

struct ah_unixctl {
    const char *path;    /* the socket */
    const char *request; /* one line; '\n' is appended */
    bool greeting;       /* the server speaks first: one line, read and dropped */
    /* Called with each reply line (without '\n', NUL-terminated); returns 1
     * when it was the last, 0 for more, or a negative errno to stop. A last
     * line without '\n' before the server closes is passed too. */
    int (*on_line)(void *arg, const char *line, size_t len);
    void *arg;
    size_t reply_max;    /* reply bytes (lines with their '\n') before -EMSGSIZE */
    uint64_t timeout_ns; /* for the whole exchange, from the connect */
    /* Set by ah_unixctl_call: CLOCK_REALTIME when the request was written
     * and when on_line took the last line (0 when it did not). */
    uint64_t sent_ns, done_ns;
};

/* Runs one exchange. Returns 0 when on_line said a line was the last;
 * -ETIMEDOUT at the deadline, -EMSGSIZE when the reply (or one line) is
 * larger than its bound, -ECONNRESET when the server closed before the last
 * line, -E2BIG for a request over AH_UNIXCTL_LINE_MAX, -ENAMETOOLONG for a
 * path longer than sun_path, on_line's error, or another -errno (connect).
 * Lines read before an error have been passed to on_line. */
int ah_unixctl_call(struct ah_unixctl *c);

#endif
