/* The four-timestamp exchange with a remote `anycast-probe --clock-echo`
 * (see clock_exchange.h). It lives in the run layer, not in results with
 * the estimator: it does I/O on a live session, and it fills the
 * results layer's struct clock_sample, which sys (below results) could not
 * include. */
#include "clock_exchange.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ah/clock.h"

static int write_line(int fd, unsigned seq)
{
    char line[16];
    int len = snprintf(line, sizeof(line), "%u\n", seq);
    for (int off = 0; off < len;) {
        ssize_t w = write(fd, line + off, (size_t)(len - off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        off += (int)w;
    }
    return 0;
}

/* Reads one line into buf (without its newline) before deadline (monotonic
 * ns); *t4 is CLOCK_REALTIME right after the read that completed it. The
 * echo sends nothing unasked and is asked one line at a time, so a byte
 * after the newline is a protocol error, not the start of the next answer. */
static int read_line(int fd, uint64_t deadline, char *buf, size_t cap, uint64_t *t4)
{
    size_t len = 0;

    for (;;) {
        uint64_t now = ah_clock_mono_ns();
        if (now >= deadline)
            return -ETIMEDOUT;
        uint64_t left_ms = (deadline - now + AH_NS_PER_MS - 1) / AH_NS_PER_MS;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int rc = poll(&p, 1, left_ms > 60000 ? 60000 : (int)left_ms);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            return -errno;
        if (rc == 0)
            continue;
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        *t4 = ah_clock_realtime_ns();
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return -EPIPE;
        len += (size_t)r;
        char *nl = memchr(buf, '\n', len);
        if (nl != NULL) {
            if (nl != buf + len - 1)
                return -EPROTO;
            *nl = '\0';
            return 0;
        }
        if (len + 1 >= cap)
            return -EPROTO;
    }
}

static bool parse_u64(const char *s, char **end, uint64_t *v)
{
    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    unsigned long long x = strtoull(s, end, 10);
    if (errno != 0)
        return false;
    *v = x;
    return true;
}

/* "T2 T3": two decimal numbers and nothing else. */
static int parse_answer(const char *line, struct clock_sample *s)
{
    char *end;
    if (!parse_u64(line, &end, &s->t2) || *end != ' ')
        return -EPROTO;
    if (!parse_u64(end + 1, &end, &s->t3) || *end != '\0')
        return -EPROTO;
    return 0;
}

int clock_exchange(int to_fd, int from_fd, unsigned n, uint64_t timeout_ns,
                   struct clock_sample *out)
{
    char line[CLOCK_EXCHANGE_LINE_MAX];

    if (out == NULL && n > 0)
        return -EINVAL;
    for (unsigned i = 0; i < n; i++) {
        uint64_t deadline = ah_clock_mono_ns() + timeout_ns;
        out[i].t1 = ah_clock_realtime_ns();
        int rc = write_line(to_fd, i + 1);
        if (rc == 0)
            rc = read_line(from_fd, deadline, line, sizeof(line), &out[i].t4);
        if (rc == 0)
            rc = parse_answer(line, &out[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}
