/* Durations as users write them ("250ms", "2s", "1.5s", "1m", "100us",
 * "500ns", "1h"), parsed to and formatted from nanoseconds. */
#ifndef AH_DUR_H
#define AH_DUR_H

#include <stddef.h>
#include <stdint.h>

/* Parses a non-negative decimal number with an optional fraction followed by
 * a unit (ns, us, ms, s, m, h). A bare number means seconds. Rejects empty
 * strings, signs, unknown units, trailing garbage and overflow: -EINVAL or
 * -ERANGE. */
int ah_dur_parse(const char *s, uint64_t *ns_out);

/* Formats ns with the largest unit that keeps it exact ("250ms", "2s",
 * "1500us"). Returns the length written, or -ENOSPC. */
int ah_dur_format(uint64_t ns, char *buf, size_t len);

#endif
