/* JSON string output shared by every JSON file the programs write
 * (summary.json of the probe and of the report, run.json): one escaping rule,
 * so a hostile name reads back the same wherever it appears. */
#ifndef AH_JSON_H
#define AH_JSON_H

#include <stdio.h>

/* Writes s (NULL as "") to f as a JSON string with its quotes: '"' and '\'
 * escaped, bytes below 0x20 and DEL as \u00XX, valid UTF-8 kept, and every
 * byte that is not part of valid UTF-8 as \ufffd, so the file always
 * parses (the CSVs keep the exact bytes). */
void ah_json_str(FILE *f, const char *s);

#endif
