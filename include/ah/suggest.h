/* "Did you mean": the known word closest to a mistyped one, for error
 * messages about unknown commands, options, lab keys and names. */
#ifndef AH_SUGGEST_H
#define AH_SUGGEST_H

#include <stddef.h>

/* The candidate closest to word by edit distance (insertions, deletions,
 * substitutions and swaps of two neighbours each count 1), compared without
 * case, or NULL when none is close enough to be a likely typo: none (a
 * difference of case only) for words of 1 or 2 bytes, 1 edit up to 4 bytes,
 * 2 up to 8, 3 beyond. Ties go to the first
 * candidate. Words longer than AH_SUGGEST_MAX_LEN bytes are never matched. */
#define AH_SUGGEST_MAX_LEN 64
const char *ah_suggest(const char *word, const char *const *cands, size_t n);

/* Writes the n candidates to out as "a, b, c" (out always NUL-terminated
 * when cap > 0; a list that does not fit ends in ", ..."), for messages that
 * list the known names. Returns the length written. */
size_t ah_suggest_list(char *out, size_t cap, const char *const *cands, size_t n);

#endif
