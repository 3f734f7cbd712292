/* routing: bgp — BIRD 2 on every node (announcing the anycast prefixes from
 * a static protocol) and on every router (one eBGP session per node,
 * local-pref by the vantage's prefer order, the best route exported into the
 * kernel), the BIRD control-socket client, the drill verbs that act on BIRD,
 * the session-state poller and the nodes' health checks. */
#ifndef BGP_H
#define BGP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "harness/lab/lab.h"
#include "routing.h"
#include "harness/topo/topo.h"

/* Private ASNs (RFC 6996, 4-byte range): node i and vantage v's router. */
#define BGP_AS_NODE   4200000001u
#define BGP_AS_ROUTER 4200100001u

/* Writes the BIRD 2 configuration of node i / of vantage v's router to f.
 * logpath is where BIRD logs; announce[0] (IPv4) or announce[1] (IPv6)
 * false starts that family's static protocol disabled (withdrawn). Pure
 * apart from f. Returns 0 or -EIO. */
int bgp_write_node_conf(FILE *f, const struct lab *lab, size_t i, const char *logpath,
                        const bool announce[2]);
int bgp_write_router_conf(FILE *f, const struct lab *lab, size_t v, const char *logpath);

/* Sends one command to a BIRD control socket and collects the reply text
 * (the lines without their codes, '\n'-separated) until the final line.
 * Returns 0, -EPROTO when BIRD answered with an error code (its message in
 * out), or another -errno. *ack_ns (may be NULL) gets CLOCK_REALTIME of the
 * final line. */
int bgp_birdc(const char *sock, const char *cmd, char *out, size_t cap, uint64_t timeout_ns,
              uint64_t *ack_ns);

/* Parses `show protocols` output: calls cb for each protocol line with the
 * protocol name, state ("up", "start", "down") and info ("Established",
 * "Active", "Connect", ...; may be empty). Returns the number of lines. */
int bgp_parse_protocols(const char *text,
                        void (*cb)(void *arg, const char *name, const char *state,
                                   const char *info),
                        void *arg);

/* Parses `show route count` output ("N of M routes for K networks in table
 * master4", one line per table): counts[0] gets master4's M, counts[1]
 * master6's (0 when the line is missing). Returns the number of such lines
 * read. */
int bgp_parse_route_count(const char *text, size_t counts[2]);

struct bgp;
int bgp_start(const struct routing_opts *o, int epfd, struct bgp **out);
uint64_t bgp_handle(struct bgp *b, uint64_t now_ns);
bool bgp_takes(enum ah_verb verb);
int bgp_action(struct bgp *b, enum ah_verb verb, size_t node, uint64_t *ack_ns, char *detail,
               size_t dlen);
void bgp_stop(struct bgp *b, bool keep);

#endif
