/* Leveled logging to stderr for all anycast-harness programs. Every line is
 * prefixed with the program name so errors name their origin, and each line is
 * written with a single write(2) so threads never interleave within a line. */
#ifndef AH_LOG_H
#define AH_LOG_H

#include <stdbool.h>

enum ah_log_level {
    AH_LOG_ERROR = 0,
    AH_LOG_WARN = 1,
    AH_LOG_INFO = 2,
    AH_LOG_DEBUG = 3,
};

/* Sets the program name used as prefix and the initial level (default INFO). */
void ah_log_init(const char *progname, enum ah_log_level level);
void ah_log_set_level(enum ah_log_level level);
enum ah_log_level ah_log_get_level(void);
/* True when only errors are logged (-q): the tables printed for a person
 * (drill steps, verdicts) are then left out too. */
bool ah_log_quiet(void);
/* True when a live status line belongs on stderr: it is a terminal, CI is
 * unset (or empty) and the program is not quiet. anycast-probe's
 * --progress auto and anycast-lab run's progress follow this one rule. */
bool ah_log_live(void);
const char *ah_log_progname(void);

/* Parses "error", "warn"/"warning", "info", "debug"; returns 0 or -EINVAL. */
int ah_log_level_parse(const char *s, enum ah_log_level *out);

/* Writes "<prog>: [<level>: ]<message>\n" to stderr if level is enabled.
 * Errors carry no level word, so they read like classic Unix tool errors. */
void ah_log(enum ah_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ah_log_error(...) ah_log(AH_LOG_ERROR, __VA_ARGS__)
#define ah_log_warn(...)  ah_log(AH_LOG_WARN, __VA_ARGS__)
#define ah_log_info(...)  ah_log(AH_LOG_INFO, __VA_ARGS__)
#define ah_log_debug(...) ah_log(AH_LOG_DEBUG, __VA_ARGS__)

/* The plural ending for a count in a message: "%zu vantage%s", n, AH_S(n)
 * reads "1 vantage", "2 vantages". */
#define AH_S(n) ((n) == 1 ? "" : "s")

#endif
