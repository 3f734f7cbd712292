/* The identity echo protocol of docs/formats.md, "Echo", as pure functions on bytes: a
 * request is one line of at most AH_ECHO_MAX_LINE bytes ending in '\n'; the
 * reply is "<identity> <request line>\n". */
#ifndef AH_ECHO_H
#define AH_ECHO_H

#include <stddef.h>
#include <stdint.h>

#define AH_ECHO_MAX_LINE 512 /* bytes, including the '\n' */

/* Finds the first complete line in buf. Returns the line length including
 * '\n' (> 0), 0 if more bytes are needed (no '\n' yet and len <
 * AH_ECHO_MAX_LINE), or -EMSGSIZE if no '\n' occurs within
 * AH_ECHO_MAX_LINE bytes. */
int ah_echo_find_line(const uint8_t *buf, size_t len);

/* Builds the reply for one request line (line includes its '\n'; a UDP
 * datagram without a final '\n' gets one added). Returns the reply length, or
 * -ENOSPC / -EMSGSIZE. */
int ah_echo_build_reply(const char *identity, const uint8_t *line, size_t line_len, uint8_t *out,
                        size_t cap);

/* Parses a reply: copies its first word (the identity) into ident and checks
 * that the rest equals the request line that was sent (sent includes '\n').
 * Returns 0, -EBADMSG if the reply is not "<word> <sent>", -ENOSPC if the
 * identity does not fit ident. */
int ah_echo_parse_reply(const uint8_t *reply, size_t len, const uint8_t *sent, size_t sent_len,
                        char *ident, size_t ident_cap);

#endif
