/* Following a probe's probes.csv while it is written, for the live progress
 * of `anycast-lab run`: bytes in, (result, node) of each complete row out.
 * Pure: no files, no clocks, so it is tested on crafted bytes. */
#ifndef PROGRESS_TAIL_H
#define PROGRESS_TAIL_H

#include <stdbool.h>
#include <stddef.h>

/* The two columns the progress shows, bounded: a longer value is cut (the
 * row still counts). The node is the server's identity: untrusted bytes. */
#define PROGRESS_RESULT_MAX 16
#define PROGRESS_NODE_MAX   64

struct progress_tail {
    unsigned field;     /* 0-based column of the byte being read */
    unsigned long rows; /* records ended, the header included */
    bool in_quotes, after_quote;
    char result[PROGRESS_RESULT_MAX];
    char node[PROGRESS_NODE_MAX];
    size_t result_len, node_len;
};

/* Called for each data row (the header skipped) with its result and node
 * ("" when nothing answered). */
typedef void (*progress_row_fn)(void *arg, const char *result, const char *node);

/* Feeds n more bytes of the file. Rows may span calls; RFC 4180 quoting
 * (commas, quotes and line ends inside quotes) is followed, so a hostile
 * identity never shifts a column. */
void progress_tail_feed(struct progress_tail *t, const char *buf, size_t n, progress_row_fn fn,
                        void *arg);

#endif
