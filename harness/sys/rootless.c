/* Rootless mode. An unprivileged user may create a user namespace and, inside
 * it, network and mount namespaces; mapping the caller's uid to root there
 * lets the same topology code run unchanged. Files the run writes (results)
 * belong to the calling user outside. The process is single-threaded at this
 * point, which unshare(CLONE_NEWUSER) requires. */
#include "rootless.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ah/log.h"
#include "netns.h"

static bool active;

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, text, strlen(text));
    int rc = n == (ssize_t)strlen(text) ? 0 : -(n < 0 ? errno : EIO);
    close(fd);
    return rc;
}

int rootless_enter(void)
{
    char map[64];
    uid_t uid = getuid();
    gid_t gid = getgid();
    int rc;

    /* A network namespace of our own too: the topology code returns to its
     * starting namespace after each step, which must be one this user
     * namespace owns. */
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET) < 0) {
        rc = -errno;
        ah_log_error("rootless mode: cannot create a user namespace: %s (needs unprivileged "
                     "user namespaces: sysctl user.max_user_namespaces > 0, and on kernels "
                     "that have it kernel.unprivileged_userns_clone=1; or run as root)",
                     strerror(-rc));
        return rc;
    }
    /* Without "deny" an unprivileged process may not write gid_map. */
    if ((rc = write_file("/proc/self/setgroups", "deny")) < 0 && rc != -ENOENT)
        goto fail;
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
    if ((rc = write_file("/proc/self/uid_map", map)) < 0)
        goto fail;
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
    if ((rc = write_file("/proc/self/gid_map", map)) < 0)
        goto fail;
    /* Nothing mounted from here on may leak back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        rc = -errno;
        goto fail;
    }
    /* /run belongs to the real root: a private tmpfs over it gives a
     * writable NETNS_RUN_DIR and /run/anycast-lab that vanish with the run. */
    if (mount("anycast-lab", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) {
        rc = -errno;
        goto fail;
    }
    if (mkdir(NETNS_RUN_DIR, 0755) < 0 || mkdir("/run/anycast-lab", 0755) < 0) {
        rc = -errno;
        goto fail;
    }
    active = true;
    setenv("AH_LAB_ROOTLESS", "1", 1);
    ah_log_info("rootless mode: user namespace with uid %u as root, private /run", (unsigned)uid);
    return 0;
fail:
    ah_log_error("rootless mode: setting up the user namespace: %s", strerror(-rc));
    return rc;
}

bool rootless_active(void)
{
    return active;
}
