/* NTP's on-wire arithmetic for one remote clock (see clock_align.h): the
 * minimum-delay sample, the start/end combination and rebasing, all in
 * integers so that no nanosecond is lost to floating point. */
#include "clock_align.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The offset of one sample, ((t2 - t1) + (t3 - t4)) / 2, computed in 128
 * bits so that no realtime value can overflow it. */
static int64_t sample_offset(const struct clock_sample *s)
{
    __int128 sum = ((__int128)s->t2 - s->t1) + ((__int128)s->t3 - s->t4);
    __int128 off = sum / 2;
    if (off > INT64_MAX)
        return INT64_MAX;
    if (off < INT64_MIN)
        return INT64_MIN;
    return (int64_t)off;
}

/* The delay of one sample, false if it cannot be true: the answer came
 * back before the question left, the remote answered before it received,
 * or the remote took longer than the whole round trip. */
static bool sample_delay(const struct clock_sample *s, uint64_t *delay)
{
    if (s->t4 < s->t1 || s->t3 < s->t2)
        return false;
    uint64_t round = s->t4 - s->t1, held = s->t3 - s->t2;
    if (held > round)
        return false;
    *delay = round - held;
    return true;
}

int clock_estimate(const struct clock_sample *s, size_t n, struct clock_estimate *out)
{
    const struct clock_sample *best = NULL;
    uint64_t best_delay = 0;

    if (s == NULL || out == NULL)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        uint64_t d;
        if (sample_delay(&s[i], &d) && (best == NULL || d < best_delay)) {
            best = &s[i];
            best_delay = d;
        }
    }
    if (best == NULL)
        return -EINVAL;
    out->offset_ns = sample_offset(best);
    out->delay_ns = best_delay;
    out->uncertainty_ns = best_delay / 2 + best_delay % 2;
    return 0;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

int clock_combine(const struct clock_estimate *start, const struct clock_estimate *end,
                  struct clock_estimate *out)
{
    if (start == NULL || end == NULL || out == NULL)
        return -EINVAL;
    __int128 a = start->offset_ns, b = end->offset_ns;
    __int128 drift = b > a ? b - a : a - b;
    uint64_t half_drift = (uint64_t)(drift / 2 + drift % 2);
    uint64_t unc =
        start->uncertainty_ns > end->uncertainty_ns ? start->uncertainty_ns : end->uncertainty_ns;
    out->offset_ns = (int64_t)((a + b) / 2);
    out->delay_ns = start->delay_ns > end->delay_ns ? start->delay_ns : end->delay_ns;
    out->uncertainty_ns = add_sat(unc, half_drift);
    return 0;
}

int64_t clock_rebase(uint64_t remote_ts_ns, int64_t offset_ns)
{
    __int128 t = (__int128)remote_ts_ns - offset_ns;
    if (t < 0)
        return 0;
    if (t > INT64_MAX)
        return INT64_MAX;
    return (int64_t)t;
}

/* "[+-]DIGITS[.DIGITS]" milliseconds into ns, with at most 6 decimals (a
 * nanosecond) and at most CLOCK_OFFSET_MAX_MS. */
static int ms_parse(const char *s, int64_t *ns)
{
    bool neg = *s == '-';
    int64_t ms = 0, frac = 0;
    int digits = 0, decimals = 0;

    if (*s == '+' || *s == '-')
        s++;
    for (; *s >= '0' && *s <= '9'; s++, digits++) {
        ms = ms * 10 + (*s - '0');
        if (ms > CLOCK_OFFSET_MAX_MS)
            return -ERANGE;
    }
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++, decimals++) {
            if (decimals == 6)
                return -EINVAL;
            frac = frac * 10 + (*s - '0');
        }
        if (decimals == 0)
            return -EINVAL;
    }
    if (digits == 0 || *s != '\0')
        return -EINVAL;
    for (int i = decimals; i < 6; i++)
        frac *= 10;
    int64_t v = ms * (int64_t)1000000 + frac;
    *ns = neg ? -v : v;
    return 0;
}

int clock_offset_parse(const char *spec, char *vantage, size_t vlen, int64_t *offset_ns, char *err,
                       size_t errlen)
{
    const char *eq = strrchr(spec, '=');
    if (eq == NULL || eq == spec) {
        snprintf(err, errlen, "\"%s\": expected VANTAGE=[+-]MS, e.g. eu-west=-5000.25", spec);
        return -EINVAL;
    }
    if ((size_t)(eq - spec) >= vlen) {
        snprintf(err, errlen, "\"%.40s...\": the vantage name is longer than %zu bytes", spec,
                 vlen - 1);
        return -EINVAL;
    }
    int rc = ms_parse(eq + 1, offset_ns);
    if (rc < 0) {
        if (rc == -ERANGE)
            snprintf(err, errlen, "\"%s\": more than %lld ms", spec, CLOCK_OFFSET_MAX_MS);
        else
            snprintf(err, errlen,
                     "\"%s\": expected milliseconds after '=' (at most 6 decimals), e.g. "
                     "+5000 or -12.5",
                     spec);
        return -EINVAL;
    }
    memcpy(vantage, spec, (size_t)(eq - spec));
    vantage[eq - spec] = '\0';
    return 0;
}
