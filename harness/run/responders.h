/* Starting a lab node's responder: the command line for the builtin
 * anycast-responder, generated NSD, Knot, BIND, Unbound and PowerDNS
 * configurations (identity = node name, NSID on, rate limiting off, port 53), a user command with
 * {node}/{addr} substituted; plus the readiness check and the builtin's control socket. */
#ifndef RESPONDERS_H
#define RESPONDERS_H

#include <stddef.h>
#include <stdint.h>

#include "ah/addr.h"
#include "harness/lab/lab.h"

#define RESP_ARGV_MAX 48

/* A prepared command line; argv points into buf. */
struct resp_launch {
    char *argv[RESP_ARGV_MAX];
    size_t argc;
    char buf[8192];
    size_t used;
    char control[108]; /* control socket path (builtin), else "" */
};

/* Copies tmpl into out replacing {node} with node and {addr} with addr (the
 * first anycast address); any other brace text is kept as written. Returns
 * the length or -ENOSPC. */
int resp_substitute(const char *tmpl, const char *node, const char *addr, char *out, size_t len);

/* Writes the NSD / Knot configuration for a node listening on addrs (port
 * 53) with its state files under dir. Returns 0 or -errno. */
int resp_write_nsd_conf(const char *path, const char *node, const char *const *addrs, size_t naddrs,
                        const char *dir);
int resp_write_knot_conf(const char *path, const char *node, const char *const *addrs,
                         size_t naddrs, const char *dir);
/* The same for BIND (a CHAOS view of its own, without the built-in view's
 * rate limit), Unbound (every client allowed) and PowerDNS Authoritative
 * (the bind backend with no zones; it also writes DIR/named.conf), in
 * responders_conf.c. -EINVAL when the node name or an address holds a byte
 * that could end a quoted word. */
int resp_write_bind_conf(const char *path, const char *node, const char *const *addrs,
                         size_t naddrs, const char *dir);
int resp_write_unbound_conf(const char *path, const char *node, const char *const *addrs,
                            size_t naddrs, const char *dir);
int resp_write_pdns_conf(const char *path, const char *node, const char *const *addrs,
                         size_t naddrs, const char *dir);
/* Writes text to path without following a symlink. Returns 0 or -errno. */
int resp_write_text(const char *path, const char *text);

/* Prepares the command for lab node `node` listening on addrs (its anycast
 * addresses, then its unicast ones), with per-node files under rundir (a
 * directory the caller created). Returns 0, -ENOENT when the program is not
 * found (message logged), or another negative errno. */
int resp_prepare(const struct lab *lab, size_t node, const char *const *addrs, size_t naddrs,
                 const char *rundir, struct resp_launch *out);

/* Sends one query of service over UDP to addr from inside namespace netns and
 * waits up to timeout_ns for a well-formed answer. Returns 0 when answered,
 * -ETIMEDOUT, or another negative errno. The caller must be single-threaded
 * (the socket is made after a setns and the namespace switched back). */
int resp_check(const char *netns, const struct ah_addr *addr, enum ah_service service,
               uint64_t timeout_ns);

/* Sends one command line ("pause", "resume", ...) to a control socket and
 * reads one reply line into reply (may be NULL) within timeout_ns. Returns 0,
 * or a negative errno. *ack_ns gets CLOCK_REALTIME when the reply arrived (or
 * the command was written, if the responder does not reply). */
int resp_control(const char *path, const char *cmd, char *reply, size_t reply_len,
                 uint64_t timeout_ns, uint64_t *ack_ns);

#endif
