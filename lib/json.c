/* JSON string escaping (see ah/json.h). Strings come from servers and CSV
 * files, so they may hold any byte; JSON allows only Unicode text. */
#include "ah/json.h"

#include <string.h>

#include "ah/esc.h"

void ah_json_str(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t left = strlen((const char *)p);
    fputc('"', f);
    while (left > 0) {
        size_t n = *p >= 0x80 ? ah_utf8_len(p, left) : 1;
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\u%04x", *p);
        else if (n == 0)
            fputs("\\ufffd", f);
        else
            fwrite(p, 1, n, f);
        n = n ? n : 1;
        p += n;
        left -= n;
    }
    fputc('"', f);
}
