/* RFC 4180 row splitting for the live progress of `anycast-lab run`: the
 * probes.csv columns result and node of each complete row, fed byte by
 * byte as the file grows (see progress_tail.h). */
#include "progress_tail.h"

#include <string.h>

/* probes.csv's columns (docs/formats.md): ts_ns, vantage, target,
 * transport, service, conn, seq, result, node, rtt_us, detail. */
enum { COL_RESULT = 7, COL_NODE = 8 };

static void keep(struct progress_tail *t, char c)
{
    if (t->field == COL_RESULT && t->result_len + 1 < sizeof t->result)
        t->result[t->result_len++] = c;
    else if (t->field == COL_NODE && t->node_len + 1 < sizeof t->node)
        t->node[t->node_len++] = c;
}

static void end_row(struct progress_tail *t, progress_row_fn fn, void *arg)
{
    t->result[t->result_len] = '\0';
    t->node[t->node_len] = '\0';
    if (t->rows++ > 0 && t->field >= COL_NODE)
        fn(arg, t->result, t->node);
    t->field = 0;
    t->result_len = t->node_len = 0;
    t->in_quotes = t->after_quote = false;
}

void progress_tail_feed(struct progress_tail *t, const char *buf, size_t n, progress_row_fn fn,
                        void *arg)
{
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        if (t->in_quotes) {
            if (c == '"') {
                t->in_quotes = false;
                t->after_quote = true;
            } else {
                keep(t, c);
            }
            continue;
        }
        bool after = t->after_quote;
        t->after_quote = false;
        if (c == '"') {
            /* A doubled quote inside a quoted field is one quote. */
            if (after)
                keep(t, '"');
            t->in_quotes = true;
        } else if (c == ',') {
            t->field++;
        } else if (c == '\n') {
            end_row(t, fn, arg);
        } else if (c != '\r') {
            keep(t, c);
        }
    }
}
