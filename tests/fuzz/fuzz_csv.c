/* libFuzzer target for the CSV reader (lib/csv_read.c): any bytes as a
 * file. Checks: no crash or leak; a record never has more than
 * AH_CSV_READ_FIELDS_MAX fields nor more field text than the input; line
 * numbers never go back; a final error stays final and the limit errors are
 * not; and every record read, written again by the CSV writer, reads back
 * the same. The bytes reach the reader through a memfd, as a file would. */
#include "ah/csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A memfd holding n bytes of data, positioned at its start; -1 on failure. */
static int memfd_with(const void *data, size_t n)
{
    int fd = memfd_create("fuzz-csv", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    if (lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Writes the record with the writer and reads it back: the same fields
 * (as C strings: a NUL byte inside a field ends it for both). */
static void round_trip(char **fields, size_t nf)
{
    int fd = memfd_create("fuzz-csv-rt", MFD_CLOEXEC);
    if (fd < 0)
        abort();
    int keep = dup(fd);
    struct ah_csv *w = NULL;
    if (keep < 0 || ah_csv_open_fd(&w, fd, NULL, nf) != 0)
        abort();
    for (size_t i = 0; i < nf; i++)
        if (ah_csv_str(w, fields[i]) != 0)
            abort();
    if (ah_csv_end_row(w) != 0 || ah_csv_close(w) != 0)
        abort();
    if (lseek(keep, 0, SEEK_SET) != 0)
        abort();
    struct ah_csv_reader *r = NULL;
    if (ah_csv_reader_open_fd(&r, keep) != 0)
        abort();
    char **g;
    size_t ng;
    unsigned long line;
    if (ah_csv_reader_next(r, &g, &ng, &line) != 1 || ng != nf || line != 1)
        abort();
    for (size_t i = 0; i < nf; i++)
        if (strcmp(fields[i], g[i]) != 0)
            abort();
    if (ah_csv_reader_next(r, &g, &ng, &line) != 0)
        abort();
    ah_csv_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_with(data, size);
    if (fd < 0)
        return 0;
    struct ah_csv_reader *r = NULL;
    if (ah_csv_reader_open_fd(&r, fd) != 0)
        abort();
    unsigned long last_line = 0;
    int round_trips = 0;
    for (;;) {
        char **f;
        size_t nf;
        unsigned long line = 0;
        int rc = ah_csv_reader_next(r, &f, &nf, &line);
        if (rc == 0)
            break;
        if (line < last_line || line < 1 || line > size + 1)
            abort();
        last_line = line;
        if (rc == -E2BIG || rc == -EMSGSIZE)
            continue; /* a limit: the next call reads the next record */
        if (rc < 0) {
            if (rc != -EBADMSG)
                abort();
            unsigned long again = 0;
            if (ah_csv_reader_next(r, &f, &nf, &again) != rc || again != line)
                abort(); /* final, at the same line */
            break;
        }
        if (rc != 1 || nf == 0 || nf > AH_CSV_READ_FIELDS_MAX)
            abort();
        size_t text = 0;
        for (size_t i = 0; i < nf; i++)
            text += strlen(f[i]);
        if (text > size)
            abort();
        if (round_trips++ < 4)
            round_trip(f, nf);
    }
    ah_csv_reader_close(r);
    return 0;
}
