/* Byte sizes with binary units ("32M" is 32 MiB), for options such as the
 * responder's --tcp-buffer-budget; see ah/size.h. */
#include "ah/size.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct size_unit {
    const char *name;
    unsigned shift;
};

static const struct size_unit units[] = {
    {"", 0},     {"B", 0},  {"k", 10}, {"K", 10},   {"KiB", 10}, {"m", 20}, {"M", 20},
    {"MiB", 20}, {"g", 30}, {"G", 30}, {"GiB", 30}, {"t", 40},   {"T", 40}, {"TiB", 40},
};

int ah_size_parse(const char *s, uint64_t *out)
{
    const char *p = s;
    uint64_t v = 0;
    bool overflow = false;

    if (s == NULL || *s < '0' || *s > '9')
        return -EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            v = v * 10 + d;
    }
    /* Syntax errors win over overflow, as in ah_dur_parse. */
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(p, units[i].name) != 0)
            continue;
        if (overflow || (units[i].shift > 0 && v > (UINT64_MAX >> units[i].shift)))
            return -ERANGE;
        *out = v << units[i].shift;
        return 0;
    }
    return -EINVAL;
}
