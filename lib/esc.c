/* Terminal and log escaping of untrusted bytes (see ah/esc.h). Valid UTF-8 is
 * kept so names in other scripts stay readable; everything a terminal could
 * interpret as a control function is shown as \xNN instead. */
#include "ah/esc.h"

#include <stdint.h>
#include <string.h>

size_t ah_utf8_len(const void *in, size_t left)
{
    const uint8_t *s = in;
    uint8_t c = s[0];
    size_t n;
    uint32_t cp;
    if (left == 0)
        return 0;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
        cp > 0x10ffff)
        return 0;
    return n;
}

/* A UTF-8 sequence a terminal shows as text: valid, and not a C1 control
 * (U+0080..U+009F, which some terminals obey like ESC). */
static size_t utf8_len(const uint8_t *s, size_t left)
{
    size_t n = ah_utf8_len(s, left);
    return n == 2 && s[0] == 0xc2 && s[1] < 0xa0 ? 0 : n;
}

/* The escaped form of the character at s[0]: fills piece (or points *src at
 * the input for a kept UTF-8 sequence) and returns its length; *used is the
 * number of input bytes it stands for. */
static size_t esc_piece(const uint8_t *s, size_t left, char piece[4], const char **src,
                        size_t *used)
{
    static const char hex[] = "0123456789abcdef";
    size_t u = s[0] >= 0x80 ? utf8_len(s, left) : 0;
    *src = piece;
    *used = 1;
    if (u > 0) {
        *src = (const char *)s;
        *used = u;
        return u;
    }
    if (s[0] == '\\') {
        memcpy(piece, "\\\\", 2);
        return 2;
    }
    if (s[0] >= 0x20 && s[0] < 0x7f) {
        piece[0] = (char)s[0];
        return 1;
    }
    piece[0] = '\\';
    piece[1] = 'x';
    piece[2] = hex[s[0] >> 4];
    piece[3] = hex[s[0] & 0xf];
    return 4;
}

size_t ah_esc_term(char *out, size_t cap, const char *in, size_t len)
{
    const uint8_t *s = (const uint8_t *)in;
    char piece[4];
    const char *src;
    size_t o = 0, used, total = 0;
    if (cap == 0)
        return 0;
    for (size_t i = 0; i < len; i += used)
        total += esc_piece(s + i, len - i, piece, &src, &used);
    /* A text that does not fit keeps room for "..." so it is cut on a whole
     * escape or character and marked as cut. */
    size_t limit = total + 1 <= cap ? cap : (cap >= 4 ? cap - 3 : 0);
    for (size_t i = 0; i < len; i += used) {
        size_t plen = esc_piece(s + i, len - i, piece, &src, &used);
        if (o + plen + 1 > limit) {
            if (limit > 0) {
                memcpy(out + o, "...", 3);
                o += 3;
            }
            break;
        }
        memcpy(out + o, src, plen);
        o += plen;
    }
    out[o] = '\0';
    return o;
}
