/* libFuzzer target for the identity echo codec: any bytes as a TCP stream
 * (framing), as a request line (reply building, then parsing it back) and
 * as a reply (parsing). Checks: no crash, framing within the limit, and
 * every built reply parses back to the same identity. */
#include "ah/echo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    uint8_t out[2 * AH_ECHO_MAX_LINE + 64];
    char ident[64];
    if (!buf)
        return 0;
    memcpy(buf, data, size);

    /* Framing a stream: consume every complete line. */
    size_t off = 0;
    for (;;) {
        int l = ah_echo_find_line(buf + off, size - off);
        if (l == 0 || l == -EMSGSIZE)
            break;
        if (l < 0 || l > AH_ECHO_MAX_LINE || (size_t)l > size - off ||
            buf[off + (size_t)l - 1] != '\n')
            abort();
        if (memchr(buf + off, '\n', (size_t)l - 1))
            abort(); /* not the first line */
        int n = ah_echo_build_reply("node-1", buf + off, (size_t)l, out, sizeof out);
        if (n != (int)strlen("node-1") + 1 + l)
            abort();
        if (ah_echo_parse_reply(out, (size_t)n, buf + off, (size_t)l, ident, sizeof ident) != 0 ||
            strcmp(ident, "node-1") != 0)
            abort();
        off += (size_t)l;
    }

    /* The whole input as one UDP datagram. */
    int n = ah_echo_build_reply("n", buf, size, out, sizeof out);
    if (n > 0 && ah_echo_parse_reply(out, (size_t)n, buf, size, ident, sizeof ident) != 0)
        abort();
    if (n < 0 && n != -EMSGSIZE)
        abort();

    /* The input as a reply to a fixed request. */
    int r = ah_echo_parse_reply(buf, size, (const uint8_t *)"ping\n", 5, ident, sizeof ident);
    if (r == 0 && strlen(ident) == 0)
        abort();
    free(buf);
    return 0;
}
