/* libFuzzer target for the RIPE Atlas import (harness/results/atlas_scan.c
 * and atlas.c): any bytes as a results file, cut into elements by the
 * streaming scanner and each element decoded into probes.csv rows. Checks:
 * no crash or leak; an element never exceeds the size given to the scanner
 * nor the input; element numbers and offsets only grow; every decoded row
 * has NUL-terminated strings within their bounds and known transport and
 * result words. The bytes reach the scanner through a memfd, as a file. */
#include "harness/results/atlas.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small, so that the "element too large" path is reached too. */
#define FUZZ_ELEM_MAX 4096

struct scan_state {
    size_t size;
    unsigned long last_n;
    uint64_t last_off;
};

static int on_row(void *arg, const struct atlas_row *row)
{
    (void)arg;
    if (memchr(row->target, '\0', sizeof row->target) == NULL ||
        memchr(row->node, '\0', sizeof row->node) == NULL ||
        memchr(row->detail, '\0', sizeof row->detail) == NULL)
        abort();
    if ((unsigned)row->transport >= AH_TR_COUNT || (unsigned)row->result >= AH_RES_COUNT)
        abort();
    if (row->rtt_us < -1)
        abort();
    return 0;
}

static int on_elem(void *arg, unsigned long n, uint64_t offset, const char *text, size_t len,
                   const char *why)
{
    struct scan_state *s = arg;
    if (offset > s->size)
        abort();
    /* n 0: about the file (an array never closed), last, after every element. */
    if (n == 0) {
        if (text != NULL || why == NULL || offset < s->last_off)
            abort();
        return 0;
    }
    if (n <= s->last_n || (s->last_n && offset < s->last_off))
        abort();
    s->last_n = n;
    s->last_off = offset;
    if (text == NULL) {
        if (why == NULL)
            abort();
        return 0;
    }
    if (len > FUZZ_ELEM_MAX || len > s->size)
        abort();
    char err[256];
    int rc = atlas_decode(text, len, on_row, NULL, err, sizeof err);
    if (rc < 0 && memchr(err, '\0', sizeof err) == NULL)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-atlas", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, data + done, size - done);
        if (w <= 0) {
            close(fd);
            return 0;
        }
        done += (size_t)w;
    }
    if (lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return 0;
    }
    struct scan_state s = {.size = size};
    atlas_scan_fd(fd, FUZZ_ELEM_MAX, on_elem, &s);
    close(fd);
    return 0;
}
