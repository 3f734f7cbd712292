/* anycast-probe --clock-echo: the remote half of an NTP-style four-timestamp
 * exchange. The controller writes a line to our stdin; we answer each line
 * with the CLOCK_REALTIME of its arrival and of our reply, so the controller
 * can measure the clock this probe writes its rows with (docs/report.md,
 * "Clock alignment"). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/log.h"
#include "probe.h"

/* Writes all of buf, retrying short writes and EINTR. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int answer(int out_fd, uint64_t t2)
{
    char line[48];
    /* t3 is taken as late as possible: just before the reply leaves. */
    int len = snprintf(line, sizeof(line), "%" PRIu64 " %" PRIu64 "\n", t2, ah_clock_realtime_ns());
    return write_all(out_fd, line, (size_t)len);
}

int clock_echo_run(int in_fd, int out_fd)
{
    char buf[4096];
    bool partial = false; /* bytes of an unanswered line were read */

    for (;;) {
        ssize_t n = read(in_fd, buf, sizeof(buf));
        /* t2: the moment the line reached us. Lines that arrive in one read
         * all arrived by then. */
        uint64_t t2 = ah_clock_realtime_ns();
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ah_log_error("--clock-echo: reading stdin: %s", strerror(errno));
            return -errno;
        }
        if (n == 0)
            break;
        /* Only line ends matter, so no line is ever stored: any length is
         * fine and memory stays bounded. */
        for (const char *p = buf, *end = buf + n; p < end;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (nl == NULL) {
                partial = true;
                break;
            }
            partial = false;
            int rc = answer(out_fd, t2);
            if (rc < 0) {
                ah_log_error("--clock-echo: writing stdout: %s", strerror(-rc));
                return rc;
            }
            p = nl + 1;
        }
    }
    /* A last line without its newline is still a request. */
    if (partial) {
        int rc = answer(out_fd, ah_clock_realtime_ns());
        if (rc < 0) {
            ah_log_error("--clock-echo: writing stdout: %s", strerror(-rc));
            return rc;
        }
    }
    return 0;
}
