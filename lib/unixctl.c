/* The line-based unix-socket control client (see ah/unixctl.h): every read
 * and write waits in poll() for what is left of one CLOCK_MONOTONIC
 * deadline, so a server that stalls or floods cannot hold the caller. */
#include "ah/unixctl.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ah/clock.h"

struct reader {
    int fd;
    uint64_t deadline;
    char buf[AH_UNIXCTL_LINE_MAX + 2]; /* a line, its '\n' and a NUL */
    size_t have;
    size_t used; /* bytes of buf taken by the line handed out last */
    bool eof;
};

/* Waits for events on fd until the deadline: 0 when ready, -ETIMEDOUT, or
 * -errno. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
    for (;;) {
        uint64_t now = ah_clock_mono_ns();
        if (now >= deadline)
            return -ETIMEDOUT;
        struct pollfd p = {.fd = fd, .events = events};
        int rc = poll(&p, 1, (int)((deadline - now + AH_NS_PER_MS - 1) / AH_NS_PER_MS));
        if (rc > 0)
            return 0;
        if (rc < 0 && errno != EINTR)
            return -errno;
    }
}

static int connect_path(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(path);

    if (n >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, n + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

static int send_line(int fd, const char *request, uint64_t deadline)
{
    char line[AH_UNIXCTL_LINE_MAX + 1];
    int n = snprintf(line, sizeof line, "%s\n", request);

    if (n < 0 || (size_t)n >= sizeof line)
        return -E2BIG;
    for (size_t off = 0; off < (size_t)n;) {
        /* MSG_NOSIGNAL: a server that closed gives EPIPE, not SIGPIPE. */
        ssize_t w = send(fd, line + off, (size_t)n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            return -errno;
        int rc = wait_fd(fd, POLLOUT, deadline);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Hands out the next line (NUL-terminated in r->buf, without its '\n') and
 * its length; a last line without '\n' counts once the server has closed.
 * Returns the length, -ECONNRESET at the end of the stream, -EMSGSIZE for a
 * line over AH_UNIXCTL_LINE_MAX, -ETIMEDOUT or -errno. */
static long next_line(struct reader *r)
{
    /* Drop the line handed out last. */
    memmove(r->buf, r->buf + r->used, r->have - r->used);
    r->have -= r->used;
    r->used = 0;
    for (;;) {
        char *nl = memchr(r->buf, '\n', r->have);
        if (nl || (r->eof && r->have)) {
            size_t len = nl ? (size_t)(nl - r->buf) : r->have;
            if (len > AH_UNIXCTL_LINE_MAX)
                return -EMSGSIZE;
            r->used = nl ? len + 1 : len;
            r->buf[len] = '\0';
            return (long)len;
        }
        if (r->eof)
            return -ECONNRESET;
        if (r->have > AH_UNIXCTL_LINE_MAX)
            return -EMSGSIZE;
        ssize_t n = recv(r->fd, r->buf + r->have, AH_UNIXCTL_LINE_MAX + 1 - r->have, MSG_DONTWAIT);
        if (n > 0) {
            r->have += (size_t)n;
        } else if (n == 0) {
            r->eof = true;
        } else if (errno == EAGAIN || errno == EINTR) {
            int rc = wait_fd(r->fd, POLLIN, r->deadline);
            if (rc < 0)
                return rc;
        } else {
            return -errno;
        }
    }
}

/* Reads reply lines into c->on_line until it says one was the last. */
static int read_reply(struct reader *r, struct ah_unixctl *c)
{
    size_t total = 0;

    for (;;) {
        long len = next_line(r);
        if (len < 0)
            return (int)len;
        total += (size_t)len + 1;
        if (total > c->reply_max)
            return -EMSGSIZE;
        int rc = c->on_line(c->arg, r->buf, (size_t)len);
        if (rc != 0) {
            if (rc > 0)
                c->done_ns = ah_clock_realtime_ns();
            return rc > 0 ? 0 : rc;
        }
    }
}

int ah_unixctl_call(struct ah_unixctl *c)
{
    struct reader r = {.deadline = ah_clock_mono_ns() + c->timeout_ns};
    int rc;

    c->sent_ns = c->done_ns = 0;
    r.fd = connect_path(c->path);
    if (r.fd < 0)
        return r.fd;
    if (c->greeting && (rc = (int)next_line(&r)) < 0)
        goto out;
    if ((rc = send_line(r.fd, c->request, r.deadline)) < 0)
        goto out;
    c->sent_ns = ah_clock_realtime_ns();
    rc = read_reply(&r, c);
out:
    close(r.fd);
    return rc;
}
