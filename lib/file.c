/* Whole-file writes that never follow a symlink: a temp file created with
 * O_EXCL|O_NOFOLLOW beside the target, renamed into place (include/ah/file.h). */
#include "ah/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TMP_TRIES 64

static int join(char *out, size_t len, const char *dir, const char *name)
{
    if (!name[0] || strchr(name, '/'))
        return -EINVAL;
    int n = snprintf(out, len, "%s/%s", dir && dir[0] ? dir : ".", name);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int ah_file_tmp_open(const char *dir, const char *name, char *tmp, size_t tmplen)
{
    static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    char base[512];
    if (!name[0] || strchr(name, '/'))
        return -EINVAL;
    int n = snprintf(base, sizeof base, ".%s", name);
    if (n < 0 || (size_t)n >= sizeof base - 8)
        return -ENAMETOOLONG;
    for (int i = 0; i < TMP_TRIES; i++) {
        uint8_t r[6];
        if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
            /* No entropy yet: a clock and the pid are unique enough, since
             * O_EXCL catches any clash. */
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t v = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 20) ^ (uint64_t)i;
            memcpy(r, &v, sizeof r);
        }
        /* base was checked to leave room for the suffix. */
        char file[sizeof base + 8];
        char sfx[8] = ".";
        for (size_t k = 0; k < sizeof r; k++)
            sfx[k + 1] = digits[r[k] % (sizeof digits - 1)];
        sfx[7] = '\0';
        snprintf(file, sizeof file, "%s%s", base, sfx);
        int rc = join(tmp, tmplen, dir, file);
        if (rc < 0)
            return rc;
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0)
            return fd;
        if (errno != EEXIST)
            return -errno;
    }
    return -EEXIST;
}

int ah_file_commit(const char *tmp, const char *dir, const char *name)
{
    char path[4096];
    int rc = join(path, sizeof path, dir, name);
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    return rc;
}

int ah_file_copy_fd(int in, int out)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return 0;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return -errno;
            off += w;
        }
    }
}

/* Copies the open file in into a new temp file of dir, then commits it. */
static int copy_into(int in, const char *dir, const char *name)
{
    char tmp[4096];
    int out = ah_file_tmp_open(dir, name, tmp, sizeof tmp);
    if (out < 0)
        return out;
    int rc = ah_file_copy_fd(in, out);
    if (close(out) < 0 && rc == 0)
        rc = -errno;
    if (rc < 0) {
        unlink(tmp);
        return rc;
    }
    return ah_file_commit(tmp, dir, name);
}

int ah_file_move(const char *from, const char *dir, const char *name)
{
    char path[4096];
    struct stat st;
    int rc = join(path, sizeof path, dir, name);
    if (rc < 0)
        return rc;
    int in = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return -errno;
    if (fstat(in, &st) < 0) {
        rc = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = -EINVAL;
        goto out;
    }
    if (rename(from, path) == 0)
        goto out;
    if (errno != EXDEV) {
        rc = -errno;
        goto out;
    }
    rc = copy_into(in, dir, name);
    if (rc == 0)
        unlink(from);
out:
    close(in);
    return rc;
}

int ah_file_create(const char *path, int flags)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | flags, 0644);
    return fd < 0 ? -errno : fd;
}

FILE *ah_file_fopen_w(const char *path)
{
    int fd = ah_file_create(path, O_TRUNC);
    if (fd < 0) {
        errno = -fd;
        return NULL;
    }
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        int err = errno;
        close(fd);
        errno = err;
    }
    return f;
}
