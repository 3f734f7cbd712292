/* Named network namespaces compatible with iproute2 (`ip netns`): a bind
 * mount of the namespace file on /run/netns/NAME. Created from the calling
 * thread (the lab process stays single-threaded while it builds), with a
 * callback that runs inside the new namespace so sockets and sysctls are set
 * up there once and no later operation has to switch namespaces. */
#ifndef NETNS_H
#define NETNS_H

#include <stddef.h>

#define NETNS_RUN_DIR "/run/netns"

/* Makes /run/netns exist and be a shared mount point, as iproute2 does, so
 * that the namespaces' bind mounts propagate to other mount namespaces. */
int netns_prepare(void);

/* Creates namespace name and calls inside(arg) while the calling thread is in
 * it; then returns to the original namespace. If inside fails (negative
 * return) the namespace is removed again and that error is returned. */
int netns_create(const char *name, int (*inside)(void *arg), void *arg);

/* Removes the name (lazy unmount + unlink); the kernel frees the namespace
 * when its last process, socket and file reference are gone. */
int netns_delete(const char *name);

/* Opens /run/netns/name (O_RDONLY|O_CLOEXEC). Returns the fd or -errno. */
int netns_open(const char *name);

/* Moves the calling thread into namespace name. Only for a forked child
 * before exec, or a process with one thread: setns(2) affects the calling
 * thread alone. Returns 0 or -errno. */
int netns_enter(const char *name);

/* Writes value to /proc/sys/<key> (dots as in sysctl(8), e.g.
 * "net.ipv4.conf.all.rp_filter") in the calling thread's namespace. */
int netns_sysctl_write(const char *key, const char *value);
int netns_sysctl_read(const char *key, char *buf, size_t len);

/* Kills (SIGKILL) every process whose network namespace is one of the inodes
 * (st_dev/st_ino pairs of the namespace files), in one pass over /proc, then
 * waits up to wait_ms for them to be gone. report gets the index into ids of
 * the namespace the process was in. Returns the number signalled or -errno. */
struct netns_id {
    unsigned long dev, ino;
};
int netns_id_of(const char *name, struct netns_id *id);
int netns_kill_procs(const struct netns_id *ids, size_t n, unsigned wait_ms,
                     void (*report)(void *arg, int pid, const char *comm, size_t idx), void *arg);

#endif
