/* "Did you mean": the closest known word by optimal-string-alignment edit
 * distance, and the list of known words, for error messages (see
 * include/ah/suggest.h). */
#include "ah/suggest.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Edit distance between a and b (both at most AH_SUGGEST_MAX_LEN bytes),
 * without case, counting a swap of two neighbours as one edit: the typos
 * people make on a keyboard. Three rows of the usual table suffice. */
static size_t distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t rows[3][AH_SUGGEST_MAX_LEN + 1];
    size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            size_t best = prev[j - 1] + (ca != cb);
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
        }
        size_t *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

const char *ah_suggest(const char *word, const char *const *cands, size_t n)
{
    size_t lw = strlen(word);
    if (lw == 0 || lw > AH_SUGGEST_MAX_LEN)
        return NULL;
    size_t limit = lw <= 2 ? 0 : lw <= 4 ? 1 : lw <= 8 ? 2 : 3;
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (size_t i = 0; i < n; i++) {
        size_t lc = strlen(cands[i]);
        if (lc > AH_SUGGEST_MAX_LEN || (lc > lw ? lc - lw : lw - lc) >= best_d)
            continue;
        size_t d = distance(word, lw, cands[i], lc);
        if (d < best_d) {
            best_d = d;
            best = cands[i];
        }
    }
    return best;
}

size_t ah_suggest_list(char *out, size_t cap, const char *const *cands, size_t n)
{
    size_t len = 0;
    if (cap == 0)
        return 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *sep = i ? ", " : "";
        /* Room for this word and, unless it is the last, a later ", ...". */
        size_t need = strlen(sep) + strlen(cands[i]) + (i + 1 < n ? 5 : 0);
        if (len + need >= cap) {
            if (len + strlen(sep) + 3 < cap)
                len += (size_t)snprintf(out + len, cap - len, "%s...", sep);
            break;
        }
        len += (size_t)snprintf(out + len, cap - len, "%s%s", sep, cands[i]);
    }
    return len;
}
