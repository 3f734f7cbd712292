/* Named network namespaces compatible with iproute2 (`ip netns`): a bind
 * mount of the namespace file on /run/netns/NAME. Created from the calling
 * thread (a namespace belongs to the thread that unshares it, so several
 * threads may each make their own), with a callback that runs inside the new
 * namespace so sockets and sysctls are set up there once and no later
 * operation has to switch namespaces. */
#ifndef NETNS_H
#define NETNS_H

#include <stdbool.h>
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

/* netns_delete for n names side by side (on up to NETNS_DELETE_THREADS
 * threads); errs (may be NULL) gets each name's result. Returns 0 or the
 * first name's error. */
#define NETNS_DELETE_THREADS 32
int netns_delete_many(const char *const *names, size_t n, int *errs);

/* Opens /run/netns/name (O_RDONLY|O_CLOEXEC). Returns the fd or -errno. */
int netns_open(const char *name);

/* Opens a socket (socket(2)'s domain, type and protocol; add SOCK_CLOEXEC
 * and SOCK_NONBLOCK to type as wanted) inside namespace name, or in the
 * calling thread's own namespace when name is NULL. The calling thread
 * switches into the namespace for the socket() call and back; the socket
 * keeps the namespace it was made in. Safe where it is used because the lab
 * process is single-threaded while it does this: no other thread can make a
 * socket or a route in the wrong namespace meanwhile, and setns(2) changes
 * the calling thread only. Returns the fd or -errno; if the switch back
 * fails (it cannot with a namespace file we hold open) the socket is closed
 * and the error returned, logged. */
int netns_socket(const char *name, int domain, int type, int proto);

/* Moves the calling thread into namespace name. Only for a forked child
 * before exec, or a process with one thread: setns(2) affects the calling
 * thread alone. Returns 0 or -errno. */
int netns_enter(const char *name);

/* Writes value to /proc/sys/<key> (dots as in sysctl(8), e.g.
 * "net.ipv4.conf.all.rp_filter") in the calling thread's namespace. */
int netns_sysctl_write(const char *key, const char *value);
int netns_sysctl_read(const char *key, char *buf, size_t len);

/* The same through the namespace's /proc/sys/net/ipv4 and ipv6 directories,
 * opened once (netns_sysdir_open, in the calling thread's namespace; 0 or
 * -errno) for many keys, each of which must start with "net.ipv4." or
 * "net.ipv6.". The kernel keeps one such directory entry per namespace under
 * the same name, and a lookup of the path from /proc/sys compares them all:
 * with two thousand namespaces up it takes milliseconds, so a namespace
 * with thousands of others around looks the path up twice, not once per
 * key (docs/topology.md, "Scale"). */
struct netns_sysdir {
    int v4, v6;
};
int netns_sysdir_open(struct netns_sysdir *d);
void netns_sysdir_close(struct netns_sysdir *d);
int netns_sysctl_write_at(const struct netns_sysdir *d, const char *key, const char *value);

/* A namespace's identity: st_dev/st_ino of its namespace file, as
 * /proc/PID/ns/net shows it for a process inside. */
struct netns_id {
    unsigned long dev, ino;
};
/* The identity of namespace name (stat of NETNS_RUN_DIR/name), or -errno. */
int netns_id_of(const char *name, struct netns_id *id);
/* True when process pid is alive and its network namespace is one of ids;
 * *idx (may be NULL) gets the index. */
bool netns_pid_in(int pid, const struct netns_id *ids, size_t n, size_t *idx);

/* The one /proc scan that empties namespaces: kills (SIGKILL) every process
 * whose network namespace is one of ids, in one pass over /proc, then waits
 * up to wait_ms for them to be gone. report gets the index into ids of the
 * namespace the process was in. Returns the number signalled or -errno. */
int netns_kill_procs(const struct netns_id *ids, size_t n, unsigned wait_ms,
                     void (*report)(void *arg, int pid, const char *comm, size_t idx), void *arg);

#endif
