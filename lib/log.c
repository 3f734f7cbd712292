/* Leveled logging to stderr. Each line is formatted into a local buffer and
 * handed to the kernel with one write(2), so lines from different threads
 * never interleave; the level is an atomic so any thread may change it. The
 * message is escaped (ah/esc.h) because it often quotes untrusted text. */
#include "ah/log.h"

#include "ah/esc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Longest line written; longer messages are cut and end in "...". */
#define LOG_LINE_MAX 2048

static atomic_int log_level = AH_LOG_INFO;
/* The program name is copied once at start-up, before threads exist. */
static char log_progname[64] = "anycast-harness";

static enum ah_log_level clamp_level(enum ah_log_level level)
{
    if ((int)level < AH_LOG_ERROR)
        return AH_LOG_ERROR;
    if ((int)level > AH_LOG_DEBUG)
        return AH_LOG_DEBUG;
    return level;
}

void ah_log_init(const char *progname, enum ah_log_level level)
{
    if (progname != NULL && progname[0] != '\0') {
        /* Use the base name so "./build/anycast-probe" logs as "anycast-probe". */
        const char *slash = strrchr(progname, '/');
        if (slash != NULL && slash[1] != '\0')
            progname = slash + 1;
        snprintf(log_progname, sizeof(log_progname), "%s", progname);
    }
    ah_log_set_level(level);
}

void ah_log_set_level(enum ah_log_level level)
{
    atomic_store_explicit(&log_level, (int)clamp_level(level), memory_order_relaxed);
}

bool ah_log_live(void)
{
    const char *ci = getenv("CI");
    return isatty(STDERR_FILENO) && (!ci || !*ci) && !ah_log_quiet();
}

bool ah_log_quiet(void)
{
    return ah_log_get_level() == AH_LOG_ERROR;
}

enum ah_log_level ah_log_get_level(void)
{
    return (enum ah_log_level)atomic_load_explicit(&log_level, memory_order_relaxed);
}

const char *ah_log_progname(void)
{
    return log_progname;
}

int ah_log_level_parse(const char *s, enum ah_log_level *out)
{
    static const struct {
        const char *name;
        enum ah_log_level level;
    } names[] = {
        {"error", AH_LOG_ERROR}, {"warn", AH_LOG_WARN},   {"warning", AH_LOG_WARN},
        {"info", AH_LOG_INFO},   {"debug", AH_LOG_DEBUG},
    };
    if (s == NULL)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].level;
            return 0;
        }
    }
    return -EINVAL;
}

static void write_all(const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* Nowhere left to report a failing stderr. */
        buf += n;
        len -= (size_t)n;
    }
}

void ah_log(enum ah_log_level level, const char *fmt, ...)
{
    if ((int)level > atomic_load_explicit(&log_level, memory_order_relaxed))
        return;
    /* Callers often log and then inspect errno; logging must not change it. */
    int saved_errno = errno;
    static const char *const words[] = {"", "warning: ", "", "debug: "};
    char line[LOG_LINE_MAX];
    int n = snprintf(line, sizeof(line), "%s: %s", log_progname, words[clamp_level(level)]);
    size_t len = n < 0 ? 0 : (size_t)n;
    if (len >= sizeof(line))
        len = sizeof(line) - 1;

    /* The message may carry untrusted text (a server's identity, a CSV
     * field, a file name): it is escaped so no byte of it can act on the
     * terminal or forge a line of its own. */
    char raw[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    n = vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    size_t rlen = n < 0 ? 0 : (size_t)n;
    int cut = rlen >= sizeof(raw);
    if (cut)
        rlen = sizeof(raw) - 1;
    if (rlen > 0 && raw[rlen - 1] == '\n')
        rlen--;
    len += ah_esc_term(line + len, sizeof(line) - len - 1, raw, rlen);
    if (cut && len + 4 <= sizeof(line) - 1 && (len < 3 || memcmp(line + len - 3, "...", 3) != 0)) {
        memcpy(line + len, "...", 3);
        len += 3;
    }
    line[len++] = '\n';
    write_all(line, len);
    errno = saved_errno;
}
