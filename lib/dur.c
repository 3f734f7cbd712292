/* Durations as users write them ("250ms", "1.5s", "1m") to and from integer
 * nanoseconds. Fractions are computed exactly in integers, so "0.001s" is
 * exactly 1000000 ns and no value depends on floating-point rounding. */
#include "ah/dur.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct dur_unit {
    const char *name;
    uint64_t ns;
};

/* Largest first: ah_dur_format picks the first unit that divides exactly. */
static const struct dur_unit units[] = {
    {"h", 3600000000000u}, {"m", 60000000000u}, {"s", 1000000000u},
    {"ms", 1000000u},      {"us", 1000u},       {"ns", 1u},
};
#define NUNITS (sizeof(units) / sizeof(units[0]))

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int ah_dur_parse(const char *s, uint64_t *ns_out)
{
    if (s == NULL)
        return -EINVAL;
    /* Syntax first: digits, optional '.' and digits, optional unit. */
    const char *int_start = s, *p = s;
    while (is_digit(*p))
        p++;
    const char *int_end = p;
    if (int_end == int_start)
        return -EINVAL;
    const char *frac_start = NULL, *frac_end = NULL;
    if (*p == '.') {
        frac_start = ++p;
        while (is_digit(*p))
            p++;
        frac_end = p;
        if (frac_end == frac_start)
            return -EINVAL; /* "1.s" and "1." */
    }
    uint64_t mult = 0;
    if (*p == '\0') {
        mult = 1000000000u; /* a bare number means seconds */
    } else {
        for (size_t i = 0; i < NUNITS; i++) {
            if (strcmp(p, units[i].name) == 0) {
                mult = units[i].ns;
                break;
            }
        }
        if (mult == 0)
            return -EINVAL;
    }

    uint64_t whole = 0;
    for (const char *q = int_start; q < int_end; q++) {
        unsigned d = (unsigned)(*q - '0');
        if (whole > (UINT64_MAX - d) / 10)
            return -ERANGE;
        whole = whole * 10 + d;
    }
    if (whole != 0 && whole > UINT64_MAX / mult)
        return -ERANGE;
    uint64_t ns = whole * mult;

    if (frac_start != NULL) {
        /* value = digits * mult / 10^k, exact or rejected. Trailing zeros do
         * not change the value; after stripping them, more than 19 digits can
         * never give whole nanoseconds because mult has at most 10^13 as a
         * power-of-ten factor, so it is safe to refuse them. */
        while (frac_end > frac_start && frac_end[-1] == '0')
            frac_end--;
        size_t k = (size_t)(frac_end - frac_start);
        if (k > 19)
            return -EINVAL;
        uint64_t digits = 0, pow10 = 1;
        for (const char *q = frac_start; q < frac_end; q++) {
            digits = digits * 10 + (uint64_t)(*q - '0');
            pow10 *= 10;
        }
        unsigned __int128 num = (unsigned __int128)digits * mult;
        if (num % pow10 != 0)
            return -EINVAL; /* finer than one nanosecond */
        uint64_t frac_ns = (uint64_t)(num / pow10);
        if (ns > UINT64_MAX - frac_ns)
            return -ERANGE;
        ns += frac_ns;
    }
    *ns_out = ns;
    return 0;
}

int ah_dur_format(uint64_t ns, char *buf, size_t len)
{
    const struct dur_unit *u = &units[NUNITS - 1];
    if (ns == 0) {
        u = &units[2]; /* "0s" reads better than "0h" */
    } else {
        for (size_t i = 0; i < NUNITS; i++) {
            if (ns % units[i].ns == 0) {
                u = &units[i];
                break;
            }
        }
    }
    int n = snprintf(buf, len, "%llu%s", (unsigned long long)(ns / u->ns), u->name);
    if (n < 0 || (size_t)n >= len)
        return -ENOSPC;
    return n;
}
