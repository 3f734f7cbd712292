/* JSON string escaping and the bounded reader (see ah/json.h). Strings come
 * from servers and CSV files, so they may hold any byte; JSON allows only
 * Unicode text. Files read back may come from elsewhere: they are bounded in
 * size, never read through a symlink, and parsed by jansson, which also
 * bounds their nesting. */
#include "ah/json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int ah_json_load_buffer(const char *name, const char *buf, size_t len, json_t **out, char *err,
                        size_t errlen)
{
    json_error_t je;
    *out = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (*out)
        return 0;
    if (json_error_code(&je) == json_error_out_of_memory)
        return -ENOMEM;
    if (je.line > 0)
        snprintf(err, errlen, "%s:%d:%d: %s", name, je.line, je.column, je.text);
    else
        snprintf(err, errlen, "%s: %s", name, je.text);
    return -EBADMSG;
}

/* Reads the whole regular file behind fd, at most max bytes, into a new
 * buffer. Returns 0 with *buf (free() it) and *len, or a negative errno. */
static int read_bounded(int fd, size_t max, char **buf, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    if ((uint64_t)st.st_size > max)
        return -EFBIG;
    /* One byte more than allowed: a file that grew since fstat shows it. */
    char *b = malloc(max + 1);
    if (!b)
        return -ENOMEM;
    size_t got = 0;
    while (got <= max) {
        ssize_t n = read(fd, b + got, max + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int rc = -errno;
            free(b);
            return rc;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got > max) {
        free(b);
        return -EFBIG;
    }
    *buf = b;
    *len = got;
    return 0;
}

int ah_json_load_file(const char *path, size_t max_bytes, json_t **out, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t len = 0;
    int rc;
    *out = NULL;
    /* O_NONBLOCK: a FIFO planted at the name must not hang the reader. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        rc = -errno;
    } else {
        rc = read_bounded(fd, max_bytes, &buf, &len);
        close(fd);
    }
    if (rc == 0) {
        rc = ah_json_load_buffer(path, buf, len, out, err, errlen);
        free(buf);
    } else if (rc == -EFBIG) {
        snprintf(err, errlen, "%s: larger than %zu bytes", path, max_bytes);
    } else if (rc == -EINVAL) {
        snprintf(err, errlen, "%s: not a regular file", path);
    } else {
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
    }
    return rc;
}

uint64_t ah_json_u64(const json_t *obj, const char *key, uint64_t def)
{
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return def;
    return (uint64_t)json_integer_value(v);
}

const char *ah_json_string(const json_t *obj, const char *key)
{
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

bool ah_json_true(const json_t *obj, const char *key)
{
    return json_is_object(obj) && json_is_true(json_object_get(obj, key));
}
