/* JSON shared by every JSON file the programs write (summary.json of the
 * probe and of the report, run.json) and read back (run.json): one escaping
 * rule, so a hostile name reads back the same wherever it appears, and one
 * bounded reader (jansson underneath) for a file that may come from
 * elsewhere (docs/security.md). */
#ifndef AH_JSON_H
#define AH_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Writes s (NULL as "") to f as a JSON string with its quotes: '"' and '\'
 * escaped, bytes below 0x20 and DEL as \u00XX, valid UTF-8 kept, and every
 * byte that is not part of valid UTF-8 as \ufffd, so the file always
 * parses (the CSVs keep the exact bytes). */
void ah_json_str(FILE *f, const char *s);

/* Parses len bytes of buf (no NUL needed) as one JSON object or array, a
 * key given twice in an object being an error. name stands for the text in
 * messages. Returns 0 with *out set (json_decref() it), or -EBADMSG with
 * "NAME:LINE:COL: message" in err, or -ENOMEM. */
int ah_json_load_buffer(const char *name, const char *buf, size_t len, json_t **out, char *err,
                        size_t errlen);

/* Reads the file at path as ah_json_load_buffer does. The file is opened
 * without following a symlink (-ELOOP) and must be a regular file (-EINVAL)
 * of at most max_bytes (-EFBIG). Returns 0 with *out set, or a negative
 * errno with "PATH: reason" (or "PATH:LINE:COL: message") in err. */
int ah_json_load_file(const char *path, size_t max_bytes, json_t **out, char *err, size_t errlen);

/* The member key of object obj when it is an integer from 0 up, else def
 * (missing, null, negative, another type, or obj not an object). */
uint64_t ah_json_u64(const json_t *obj, const char *key, uint64_t def);

/* The member key of object obj when it is a string (NUL-free), else NULL. */
const char *ah_json_string(const json_t *obj, const char *key);

/* True when the member key of object obj is JSON true. */
bool ah_json_true(const json_t *obj, const char *key);

#endif
