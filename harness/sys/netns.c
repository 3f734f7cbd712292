/* Named network namespaces the iproute2 way (see netns.h): /run/netns as a
 * shared mount, one bind mount of the namespace file per name, creation by
 * unshare() in the calling thread, and removal by lazy unmount + unlink. */
#include "netns.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ah/log.h"
#include "par.h"

static bool prepared;

int netns_prepare(void)
{
    bool bound = false;

    if (prepared)
        return 0;
    if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST) {
        int err = -errno;
        ah_log_error("mkdir %s: %s", NETNS_RUN_DIR, strerror(errno));
        return err;
    }
    /* Shared, so a namespace mounted here is visible in every mount
     * namespace that shares /run/netns (iproute2 does the same). If it is
     * not a mount point yet, bind it onto itself first. */
    while (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0) {
        if (errno != EINVAL || bound) {
            int err = -errno;
            ah_log_error("mount --make-shared %s: %s", NETNS_RUN_DIR, strerror(errno));
            return err;
        }
        if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0) {
            int err = -errno;
            ah_log_error("mount --bind %s: %s", NETNS_RUN_DIR, strerror(errno));
            return err;
        }
        bound = true;
    }
    prepared = true;
    return 0;
}

static int netns_path(const char *name, char *buf, size_t len)
{
    if (!name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
        return -EINVAL;
    int n = snprintf(buf, len, "%s/%s", NETNS_RUN_DIR, name);
    return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

int netns_create(const char *name, int (*inside)(void *arg), void *arg)
{
    char path[256];
    int orig = -1, fd, err;

    err = netns_path(name, path, sizeof(path));
    if (err < 0)
        return err;
    fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
    if (fd < 0) {
        err = -errno;
        ah_log_error("netns %s: create %s: %s", name, path, strerror(errno));
        return err;
    }
    close(fd);
    orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (orig < 0) {
        err = -errno;
        unlink(path);
        return err;
    }
    if (unshare(CLONE_NEWNET) < 0) {
        err = -errno;
        ah_log_error("netns %s: unshare: %s", name, strerror(errno));
        unlink(path);
        goto out;
    }
    if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0) {
        err = -errno;
        ah_log_error("netns %s: bind mount: %s", name, strerror(errno));
    } else if (inside) {
        err = inside(arg);
    }
    /* Going back must work: every later step assumes the original namespace. */
    if (setns(orig, CLONE_NEWNET) < 0) {
        int e = errno;
        ah_log_error("netns %s: cannot return to the original namespace: %s", name, strerror(e));
        err = -e;
        goto out;
    }
    if (err < 0)
        netns_delete(name);
out:
    close(orig);
    return err;
}

int netns_delete(const char *name)
{
    char path[256];
    int err = netns_path(name, path, sizeof(path));

    if (err < 0)
        return err;
    if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        err = -errno;
    if (unlink(path) < 0 && errno != ENOENT && !err)
        err = -errno;
    return err;
}

struct delete_many {
    const char *const *names;
    int *errs;
};

static int delete_one(void *arg, size_t i)
{
    struct delete_many *d = arg;
    int err = netns_delete(d->names[i]);
    if (d->errs)
        d->errs[i] = err;
    return err;
}

int netns_delete_many(const char *const *names, size_t n, int *errs)
{
    struct delete_many d = {.names = names, .errs = errs};
    /* Each unmount waits for a grace period of its own; side by side the
     * waits overlap, one after another they add up (about 1.4 ms each). */
    return par_for(n, NETNS_DELETE_THREADS, false, delete_one, &d);
}

int netns_open(const char *name)
{
    char path[256];
    int err = netns_path(name, path, sizeof(path));

    if (err < 0)
        return err;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

static int sysctl_path(const char *key, char *buf, size_t len)
{
    int n = snprintf(buf, len, "/proc/sys/%s", key);
    if (n < 0 || (size_t)n >= len)
        return -ENAMETOOLONG;
    for (char *p = buf + strlen("/proc/sys/"); *p; p++)
        if (*p == '.')
            *p = '/';
    return 0;
}

/* Writes value to the open sysctl file fd and closes it. */
static int sysctl_put(int fd, const char *value)
{
    int err;
    size_t n = strlen(value);
    ssize_t w = write(fd, value, n);
    err = (w == (ssize_t)n) ? 0 : (w < 0 ? -errno : -EIO);
    close(fd);
    return err;
}

int netns_sysctl_write(const char *key, const char *value)
{
    char path[256];
    int err = sysctl_path(key, path, sizeof(path));

    if (err < 0)
        return err;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    return fd < 0 ? -errno : sysctl_put(fd, value);
}

/* A private instance of procfs, mounted nowhere: the fd of its root, or
 * -errno (a user namespace may not be allowed to make one). */
static int private_proc(void)
{
    int fs = fsopen("proc", FSOPEN_CLOEXEC);
    if (fs < 0)
        return -errno;
    int m = -1;
    if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
        m = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    int err = m < 0 ? -errno : m;
    close(fs);
    return err;
}

int netns_sysdir_open(struct netns_sysdir *d)
{
    /* Looked up through /proc, "sys/net/ipv4" is compared with the entry of
     * every namespace that was ever looked up there; a procfs instance of
     * our own has seen this namespace alone. */
    int root = private_proc();
    int at = root >= 0 ? root : AT_FDCWD;
    const char *base = root >= 0 ? "sys/net" : "/proc/sys/net";
    char path[32];

    d->v6 = -1;
    snprintf(path, sizeof path, "%s/ipv4", base);
    d->v4 = openat(at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int err = d->v4 < 0 ? -errno : 0;
    /* A kernel without IPv6 has no such directory: its keys fail alone. */
    snprintf(path, sizeof path, "%s/ipv6", base);
    if (err == 0)
        d->v6 = openat(at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root >= 0)
        close(root);
    return err;
}

void netns_sysdir_close(struct netns_sysdir *d)
{
    if (d->v4 >= 0)
        close(d->v4);
    if (d->v6 >= 0)
        close(d->v6);
    d->v4 = d->v6 = -1;
}

int netns_sysctl_write_at(const struct netns_sysdir *d, const char *key, const char *value)
{
    char path[256];
    int dirfd;

    if (strncmp(key, "net.ipv4.", 9) == 0)
        dirfd = d->v4;
    else if (strncmp(key, "net.ipv6.", 9) == 0)
        dirfd = d->v6;
    else
        return -EINVAL;
    if (dirfd < 0)
        return -ENOENT;
    int n = snprintf(path, sizeof path, "%s", key + 9);
    if (n < 0 || (size_t)n >= sizeof path)
        return -ENAMETOOLONG;
    for (char *p = path; *p; p++)
        if (*p == '.')
            *p = '/';
    int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);
    return fd < 0 ? -errno : sysctl_put(fd, value);
}

int netns_sysctl_read(const char *key, char *buf, size_t len)
{
    char path[256];
    int err = sysctl_path(key, path, sizeof(path));

    if (err < 0 || len == 0)
        return err < 0 ? err : -EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t r = read(fd, buf, len - 1);
    err = r < 0 ? -errno : 0;
    close(fd);
    if (err < 0)
        return err;
    buf[r] = 0;
    while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == ' '))
        buf[--r] = 0;
    return 0;
}

int netns_id_of(const char *name, struct netns_id *id)
{
    char path[256];
    struct stat st;
    int err = netns_path(name, path, sizeof(path));

    if (err < 0)
        return err;
    if (stat(path, &st) < 0)
        return -errno;
    id->dev = (unsigned long)st.st_dev;
    id->ino = (unsigned long)st.st_ino;
    return 0;
}

/* A process is gone for our purpose once it is a zombie: it has left its
 * namespaces already, only its parent has to reap it. */
static bool proc_alive(int pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return !(p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'));
}

bool netns_pid_in(int pid, const struct netns_id *ids, size_t n, size_t *idx)
{
    char path[64];
    struct stat st;

    if (pid <= 0)
        return false;
    snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
    if (stat(path, &st) < 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (ids[i].ino == (unsigned long)st.st_ino && ids[i].dev == (unsigned long)st.st_dev) {
            if (idx)
                *idx = i;
            return true;
        }
    }
    return false;
}

static void proc_comm(int pid, char *comm, size_t len)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/comm", pid);
    snprintf(comm, len, "?");
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    if (fgets(comm, (int)len, f))
        comm[strcspn(comm, "\n")] = 0;
    fclose(f);
}

struct pid_list {
    int *pids;
    int count, cap;
};

/* Remembers a signalled pid for the wait; one that does not fit is not
 * waited for (it was signalled all the same). */
static void pid_list_add(struct pid_list *l, int pid)
{
    if (l->count == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        int *np = realloc(l->pids, (size_t)cap * sizeof(*np));
        if (!np)
            return;
        l->pids = np;
        l->cap = cap;
    }
    l->pids[l->count++] = pid;
}

/* Bounded wait so that the namespaces are really free when we return. */
static void wait_gone(const struct pid_list *l, unsigned wait_ms)
{
    for (unsigned waited = 0; waited < wait_ms; waited += 5) {
        bool any = false;
        for (int i = 0; i < l->count && !any; i++)
            any = proc_alive(l->pids[i]);
        if (!any)
            break;
        nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
    }
}

int netns_kill_procs(const struct netns_id *ids, size_t n, unsigned wait_ms,
                     void (*report)(void *arg, int pid, const char *comm, size_t idx), void *arg)
{
    struct pid_list killed = {0};
    struct dirent *de;
    DIR *d = opendir("/proc");

    if (!d)
        return -errno;
    while ((de = readdir(d))) {
        char comm[64];
        size_t idx;
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        int pid = atoi(de->d_name);
        if (pid <= 1 || pid == getpid() || !netns_pid_in(pid, ids, n, &idx))
            continue;
        proc_comm(pid, comm, sizeof(comm));
        if (kill(pid, SIGKILL) < 0)
            continue;
        if (report)
            report(arg, pid, comm, idx);
        pid_list_add(&killed, pid);
    }
    closedir(d);
    wait_gone(&killed, wait_ms);
    free(killed.pids);
    return killed.count;
}

int netns_enter(const char *name)
{
    int fd = netns_open(name);
    if (fd < 0)
        return fd;
    int err = setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
    close(fd);
    return err;
}

int netns_socket(const char *name, int domain, int type, int proto)
{
    int self = -1, target = -1, fd, err;

    type |= SOCK_CLOEXEC;

    if (!name) {
        fd = socket(domain, type, proto);
        return fd < 0 ? -errno : fd;
    }
    self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0)
        return -errno;
    target = netns_open(name);
    if (target < 0) {
        err = target;
        goto out;
    }
    if (setns(target, CLONE_NEWNET) < 0) {
        err = -errno;
        goto out;
    }
    fd = socket(domain, type, proto);
    err = fd < 0 ? -errno : fd;
    if (setns(self, CLONE_NEWNET) < 0) {
        /* Staying in the lab's namespace would misplace every later socket
         * and route: the caller must fail. */
        err = -errno;
        ah_log_error("netns %s: cannot return to the original namespace: %s", name, strerror(-err));
        if (fd >= 0)
            close(fd);
    }
out:
    if (target >= 0)
        close(target);
    close(self);
    return err;
}
