/* Escaping untrusted bytes (server identities, CSV fields, file names) for a
 * terminal or a log line: what is shown can never move the cursor, clear the
 * screen or start a new line that looks like our own output. */
#ifndef AH_ESC_H
#define AH_ESC_H

#include <stddef.h>

/* Writes in[0..len) to out as text safe for a terminal: printable ASCII and
 * valid UTF-8 sequences are kept, a backslash becomes "\\", and every other
 * byte (C0 controls, DEL, C1 controls encoded in UTF-8, invalid UTF-8) becomes
 * "\xNN" per byte. out is always NUL-terminated when cap > 0; an escape that
 * does not fit whole is left out, and the text then ends in "...". Returns the
 * length written (excluding the NUL). */
size_t ah_esc_term(char *out, size_t cap, const char *in, size_t len);

/* Length of the valid UTF-8 sequence (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF) at s, 1 for an ASCII byte, 0 when the
 * bytes there (at most left of them) do not start one. */
size_t ah_utf8_len(const void *s, size_t left);

/* Worst-case output size (including the NUL) of ah_esc_term for len bytes. */
#define AH_ESC_TERM_MAX(len) ((len)*4 + 1)

#endif
