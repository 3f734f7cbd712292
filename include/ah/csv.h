/* RFC 4180 CSV: a buffered writer (quoting only where needed, CRLF-free "\n"
 * line ends as most tools expect, flush on demand) and a streaming reader that
 * reports line numbers, for results files of docs/formats.md. */
#ifndef AH_CSV_H
#define AH_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ah_csv;

/* Creates (truncates) path and writes the header row (header may be NULL for
 * none; ncols is required). The writer buffers rows in memory (64 KiB) and
 * writes them on flush, when the buffer fills and on close; the file only ever
 * receives complete rows (a row larger than the buffer grows it). A writer is
 * not thread-safe. A symlink at path is never followed (-ELOOP). Returns 0 or
 * a negative errno. */
int ah_csv_open(struct ah_csv **out, const char *path, const char *const *header, size_t ncols);

/* Same on an already open file descriptor, which the writer then owns (it is
 * closed on failure too). */
int ah_csv_open_fd(struct ah_csv **out, int fd, const char *const *header, size_t ncols);

/* Field appenders for the current row. A string containing a comma, quote,
 * CR or LF is quoted with inner quotes doubled; NULL is an empty field. */
int ah_csv_str(struct ah_csv *w, const char *s);
int ah_csv_strn(struct ah_csv *w, const char *s, size_t n);
int ah_csv_u64(struct ah_csv *w, uint64_t v);
int ah_csv_i64(struct ah_csv *w, int64_t v);
int ah_csv_empty(struct ah_csv *w);

/* Ends the row. Returns -EINVAL if it does not have exactly ncols fields (the
 * row is then discarded so the file stays rectangular). */
int ah_csv_end_row(struct ah_csv *w);

/* Writes buffered rows to the file (complete rows only). */
int ah_csv_flush(struct ah_csv *w);

/* Flushes, closes and frees; safe on NULL. An unfinished row is dropped.
 * Returns the first error seen. After an I/O error every call returns it. */
int ah_csv_close(struct ah_csv *w);

/* Data rows ended so far (the header row not counted). */
uint64_t ah_csv_rows(const struct ah_csv *w);

/* Streaming reader. Its limits bound the memory any file can make it use:
 * the widest file the project writes has 19 columns and its longest field
 * is a 255-byte identity, so a record past either limit is an error of
 * that record (its line), not a reason to grow. */
#define AH_CSV_READ_FIELDS_MAX 64
#define AH_CSV_READ_RECORD_MAX (1024 * 1024) /* bytes of field text in one record */

struct ah_csv_reader;

int ah_csv_reader_open(struct ah_csv_reader **out, const char *path);
/* Same on an open file descriptor, which the reader then owns (closed on
 * failure too). */
int ah_csv_reader_open_fd(struct ah_csv_reader **out, int fd);
/* Reads the next record. Returns 1 and sets *fields and *nfields (valid until
 * the next call) and *line (1-based line where the record starts); 0 at end
 * of file; -EBADMSG on a malformed record (unterminated quote, stray quote,
 * text after a closing quote, a CR not followed by LF outside quotes), with
 * *line set to the offending line (for an unterminated quote, the line where
 * it opened); other negative errno on I/O errors. These errors are final:
 * later calls return the same error. A record over a limit is not final:
 * -E2BIG for more than AH_CSV_READ_FIELDS_MAX fields, -EMSGSIZE for more than
 * AH_CSV_READ_RECORD_MAX bytes, with *line where the record starts; the
 * record was read to its end without being kept, and the next call returns
 * the next record (unless the rest of the file is malformed, then -EBADMSG).
 * LF and CRLF line ends are accepted; an empty line is a record of one empty
 * field. */
int ah_csv_reader_next(struct ah_csv_reader *r, char ***fields, size_t *nfields,
                       unsigned long *line);
void ah_csv_reader_close(struct ah_csv_reader *r);

#endif
