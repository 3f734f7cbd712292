/* Small helpers shared by the test clients in tests/tools/; static inline because each C
 * file there is its own program. */
#ifndef TOOL_UTIL_H
#define TOOL_UTIL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

/* Reads exactly len bytes from fd (a read interrupted by a signal is retried); returns 0,
 * -EPIPE when the peer closed first, or the negative errno of the failed read (-EAGAIN
 * after an SO_RCVTIMEO timeout). */
static inline int tool_read_full(int fd, uint8_t *buf, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = read(fd, buf + off, len - off);
        if (n == 0)
            return -EPIPE;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        off += (size_t)n;
    }
    return 0;
}

#endif
