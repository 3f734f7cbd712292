/* The identity echo protocol (docs/formats.md, "Echo") as pure functions on bytes: line
 * framing for the responder's TCP streams, reply building, and the probe's
 * reply check. */
#include "ah/echo.h"

#include <errno.h>
#include <string.h>

int ah_echo_find_line(const uint8_t *buf, size_t len)
{
    size_t scan = len < AH_ECHO_MAX_LINE ? len : AH_ECHO_MAX_LINE;
    const uint8_t *nl = scan ? memchr(buf, '\n', scan) : NULL;

    if (nl)
        return (int)(nl - buf) + 1;
    /* Without a '\n' in the first AH_ECHO_MAX_LINE bytes the line can only
     * grow past the limit, so the caller may give up right away. */
    return len >= AH_ECHO_MAX_LINE ? -EMSGSIZE : 0;
}

int ah_echo_build_reply(const char *identity, const uint8_t *line, size_t line_len, uint8_t *out,
                        size_t cap)
{
    if (!identity || (!line && line_len))
        return -EINVAL;
    int add_nl = line_len == 0 || line[line_len - 1] != '\n';
    /* The limit counts the '\n', also the one we add to a bare datagram. */
    if (line_len + (size_t)add_nl > AH_ECHO_MAX_LINE)
        return -EMSGSIZE;
    size_t id_len = strlen(identity);
    size_t total = id_len + 1 + line_len + (size_t)add_nl;
    if (total > cap)
        return -ENOSPC;
    memcpy(out, identity, id_len);
    out[id_len] = ' ';
    if (line_len)
        memcpy(out + id_len + 1, line, line_len);
    if (add_nl)
        out[total - 1] = '\n';
    return (int)total;
}

/* An identity is one word of visible bytes; UTF-8 (bytes >= 0x80) passes. */
static int word_byte_ok(uint8_t c)
{
    return c > 0x20 && c != 0x7f;
}

int ah_echo_parse_reply(const uint8_t *reply, size_t len, const uint8_t *sent, size_t sent_len,
                        char *ident, size_t ident_cap)
{
    const uint8_t *sp = len ? memchr(reply, ' ', len) : NULL;

    if (!sp || sp == reply)
        return -EBADMSG;
    size_t wlen = (size_t)(sp - reply);
    for (size_t i = 0; i < wlen; i++)
        if (!word_byte_ok(reply[i]))
            return -EBADMSG;

    /* The rest must be the request exactly; a request sent without its '\n'
     * comes back with one added (ah_echo_build_reply). */
    const uint8_t *rest = sp + 1;
    size_t rest_len = len - wlen - 1;
    int sent_nl = sent_len > 0 && sent[sent_len - 1] == '\n';
    size_t want = sent_len + (sent_nl ? 0 : 1);
    if (rest_len != want || (sent_len && memcmp(rest, sent, sent_len) != 0) ||
        rest[rest_len - 1] != '\n')
        return -EBADMSG;

    if (wlen + 1 > ident_cap)
        return -ENOSPC;
    memcpy(ident, reply, wlen);
    ident[wlen] = '\0';
    return 0;
}
