/* The lab model: what a lab file (docs/lab-file.md) says, validated and resolved
 * (names turned into indexes, durations into nanoseconds). Built by
 * lab_load() from YAML; read by the topology builder, the runner and the
 * drill. Nothing here touches the system. */
#ifndef LAB_H
#define LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ah/addr.h"
#include "ah/schema.h"

#define LAB_NAME_MAX     32 /* node/vantage/lab names: [A-Za-z0-9_-], 1..31 chars */
#define LAB_ANYCAST_MAX  8
#define LAB_NODES_MAX    256 /* bounds checked by lab_load (docs/lab-file.md) */
#define LAB_VANTAGES_MAX 1024
#define LAB_DRILL_MAX    1024
#define LAB_EXPECT_MAX   1024
#define LAB_DIAG_MAX     100 /* messages kept; one more says how many were left out */
#define LAB_DEPTH_MAX    64  /* nested lists/mappings; deeper is an error before loading */
/* A drill step that starts later than this after its time fails the run
 * (lab key `tolerance`, docs/lab-file.md). */
#define LAB_TOLERANCE_DEFAULT_NS (20ULL * 1000 * 1000)
#define LAB_TOLERANCE_MAX_NS     (3600ULL * 1000 * 1000 * 1000)
/* step-timeout: how long a deployment drill command may run before it is
 * ended on its host (docs/deployment.md). */
#define LAB_STEP_TIMEOUT_DEFAULT_NS (60ULL * 1000 * 1000 * 1000)
#define LAB_STEP_TIMEOUT_MAX_NS     (3600ULL * 1000 * 1000 * 1000)

/* kind: lab builds namespaces; kind: deployment names real hosts reached
 * with the OpenSSH client (docs/deployment.md). */
enum lab_kind {
    LAB_KIND_LAB,
    LAB_KIND_DEPLOYMENT,
};

#define LAB_SSH_OPTIONS_MAX 32   /* ssh: options entries */
#define LAB_COMMAND_MAX     4096 /* bytes of an action, run: command, probe or ssh value */

/* How to reach a host with ssh(1): -F config, -l user, -i identity, -o each
 * option. Paths are absolute after loading (relative ones are taken from
 * the run file's directory). NULL or 0 = not given. */
struct lab_ssh {
    char *config;
    char *user;
    char *identity;
    char **options;
    size_t noptions;
};

/* A deployment host: the ssh destination as the user wrote it (host,
 * user@host, [v6]:port or a Host alias of the config) and the ssh settings
 * that apply to it: the file's ssh: with the host's own ssh: over it
 * (options appended after the file's). */
struct lab_host {
    char *dest;
    struct lab_ssh ssh;
};

/* atlas: {probes, area, interval, start, stop}: the RIPE Atlas measurement
 * `anycast-lab atlas spec` writes for the file's anycast addresses. */
struct lab_atlas {
    bool given;
    unsigned probes;      /* requested probes, default 500 */
    char area[16];        /* WW, West, North-Central, South-Central, North-East, South-East */
    uint64_t interval_ns; /* default 240 s */
    int64_t start, stop;  /* unix seconds; 0 = not given */
};

enum lab_routing {
    LAB_ROUTING_STATIC,
    LAB_ROUTING_ECMP,
    LAB_ROUTING_ECMP_RESILIENT,
    LAB_ROUTING_TRACKED,
    LAB_ROUTING_BGP,
};

/* static, ecmp and ecmp-resilient: the modes a vantage may set for its own
 * router (the others are lab-wide). */
bool lab_routing_mixable(enum lab_routing r);

enum lab_responder {
    LAB_RESPONDER_BUILTIN,
    LAB_RESPONDER_NSD,
    LAB_RESPONDER_KNOT,
    LAB_RESPONDER_BIND,
    LAB_RESPONDER_UNBOUND,
    LAB_RESPONDER_PDNS,
    LAB_RESPONDER_COMMAND,
};

/* anycast-healthchecker semantics, for routing: bgp (docs/routing.md). */
struct lab_healthcheck {
    bool enabled;
    uint64_t interval_ns, timeout_ns;
    unsigned rise, fall;
};

struct lab_node {
    char name[LAB_NAME_MAX];
    enum lab_responder responder;
    char *command; /* responder: {command: "..."}; {node} and {addr} substituted */
    struct lab_healthcheck healthcheck;
    /* kind: deployment: the host, and the command run on it for each drill
     * verb (actions:, NULL where the verb has none). */
    struct lab_host host;
    char *actions[AH_VERB_COUNT];
    unsigned line, col; /* of the node's entry in the lab file, 1-based */
};

struct lab_vantage {
    char name[LAB_NAME_MAX];
    size_t *prefer; /* node indexes, most preferred first; all nodes if absent */
    size_t nprefer;
    /* The vantage's own routing: key, when own_routing (read the mode of its
     * router with lab_vantage_routing, which falls back to the lab's). */
    bool own_routing;
    enum lab_routing routing;
    /* kind: deployment: the host, and the anycast-probe command on it
     * (default "anycast-probe", found on the remote PATH). */
    struct lab_host host;
    char *probe;
    unsigned line, col;
};

/* A transport's services: a set, with at least one member when the
 * transport is enabled (docs/lab-file.md, probes). */
#define LAB_PROBE_GROUP_MAX       1024
#define LAB_PROBE_GROUP_AUTO      64
#define LAB_PROBE_GROUP_AUTO_FROM 17

struct lab_probe_udp {
    bool enabled;
    bool service[AH_SVC_COUNT];
    uint32_t rate;  /* probes per second in total */
    uint32_t flows; /* sockets, each a fixed source port */
    uint64_t timeout_ns;
};

struct lab_probe_tcp {
    bool enabled;
    bool service[AH_SVC_COUNT];
    uint32_t connections;
    uint64_t interval_ns;
    uint64_t timeout_ns;
};

struct lab_event {
    uint64_t at_ns; /* from the start of the drill */
    enum ah_verb verb;
    size_t node;
    /* flap: {node, count, down, up}: count times (withdraw, wait down,
     * announce, wait up); it spans count * (down + up) from at_ns. */
    unsigned flap_count;
    uint64_t flap_down_ns, flap_up_ns;
    /* delay: {node, ms}: the node's builtin responder answers ms late from
     * at_ns on (a latency brown-out); ms 0 ends it. */
    unsigned delay_ms;
    /* run: {node, command} (deployment only): a command run on the node's
     * host at at_ns. */
    char *command;
    unsigned line, col;
};

struct lab_expect {
    char *text;         /* the expectation string, parsed by the expect module */
    unsigned line, col; /* col: of the text's first character (after a quote) */
};

/* routing: tracked (docs/routing.md). */
struct lab_track {
    enum ah_service service;
    uint64_t frequency_ns, timeout_ns, delay_down_ns, delay_up_ns;
    unsigned down, up;
};

/* routing: bgp (docs/routing.md). Zero means "BIRD's default". */
struct lab_bgp {
    uint64_t hold_ns, keepalive_ns;
    bool bfd;
    uint64_t bfd_interval_ns;
    unsigned bfd_multiplier;
    bool multipath;
};

struct lab {
    char *path; /* as given on the command line, for messages */
    char name[LAB_NAME_MAX];
    struct ah_addr anycast[LAB_ANYCAST_MAX];
    size_t nanycast;
    enum lab_routing routing;
    uint64_t duration_ns;
    uint64_t tolerance_ns; /* how late a drill step may start (LAB_TOLERANCE_DEFAULT_NS) */
    struct lab_node *nodes;
    size_t nnodes;
    struct lab_vantage *vantages;
    size_t nvantages;
    struct lab_probe_udp udp;
    struct lab_probe_tcp tcp;
    /* probes: vantages-per-process: how many vantages one anycast-probe
     * drives; 0 is auto (lab_probe_group). */
    uint32_t probe_group;
    /* probes: families: the address families whose anycast addresses are
     * probed; by default every family of the anycast list. */
    bool probe_family[AH_FAM_COUNT];
    struct lab_event *drill; /* sorted by at_ns (validated, not re-sorted) */
    size_t ndrill;
    struct lab_expect *expect;
    size_t nexpect;
    struct lab_track track;
    struct lab_bgp bgp;
    enum lab_kind kind;
    struct lab_ssh ssh;       /* kind: deployment: the file's ssh: defaults */
    bool on_failure_stop;     /* on-failure: stop (default: continue) */
    uint64_t step_timeout_ns; /* step-timeout: (LAB_STEP_TIMEOUT_DEFAULT_NS) */
    struct lab_atlas atlas;
};

/* Diagnostics collected while loading: every problem found, each a full
 * "FILE:LINE:COL: message" string, so `anycast-lab check` reports them all. */
struct lab_diag {
    char **msgs;
    size_t n;
};

/* True when s is a name as the lab file allows them: 1 to LAB_NAME_MAX - 1
 * characters of [A-Za-z0-9_-]. Namespace names are made from these. */
bool lab_name_valid(const char *s);

/* Loads and validates a lab file (docs/lab-file.md). Returns 0 and *out, or
 * -EINVAL with every problem appended to diag, sorted by position (at most
 * LAB_DIAG_MAX, then a count), and *out set to NULL; or another negative errno if
 * the file cannot be read or memory runs out (also described in diag). diag
 * may be NULL; otherwise start it zeroed and free it with lab_diag_free. */
int lab_load(const char *path, struct lab **out, struct lab_diag *diag);
/* The same for a lab file already in memory (buf need not end in NUL);
 * name stands for the file in messages and becomes lab->path. */
int lab_load_buffer(const char *name, const char *buf, size_t len, struct lab **out,
                    struct lab_diag *diag);
/* Loads the lab file at path and validates its expect: strings against it
 * (expect_validate_lab), printing every diagnostic to stderr as a
 * "FILE:LINE:COL: message" line. Returns 0 with *out set (lab_free() it),
 * -EINVAL for a mistake in the file or another negative errno; turn it into
 * the exit status with lab_load_exit(). */
int lab_load_checked(const char *path, struct lab **out);
/* The exit status for a lab_load_checked() failure: 2 when the file given is
 * the problem (missing, unreadable, a directory, too large, invalid), as for
 * any bad usage, and 1 when the machine is (out of memory). */
int lab_load_exit(int rc);
void lab_free(struct lab *lab);
void lab_diag_free(struct lab_diag *diag);

/* Appends "FILE:LINE:COL: message" (or "FILE: message" when line is 0) to
 * diag, for checks made outside the loader (e.g. parsing lab->expect
 * strings) that report in the same form. Returns 0 or -ENOMEM. */
int lab_diag_addf(struct lab_diag *diag, const char *file, unsigned line, unsigned col,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Name lookups; return the index or -ENOENT. */
int lab_node_index(const struct lab *lab, const char *name);
/* For a message about an unknown node (or vantage) name: writes to out
 * `: did you mean "b"? (nodes: a, b, c)`, or ` (nodes: a, b, c)` when no
 * known name is close, the list cut with "..." to fit. Returns its length. */
size_t lab_unknown_hint(const struct lab *lab, bool vantages, const char *name, char *out,
                        size_t cap);
int lab_vantage_index(const struct lab *lab, const char *name);

const char *lab_routing_name(enum lab_routing r);
/* The mode of vantage v's router: its routing: key, else the lab's. */
enum lab_routing lab_vantage_routing(const struct lab *lab, size_t v);
/* True when some vantage's routing differs from the lab's. */
bool lab_routing_mixed(const struct lab *lab);
/* True when vantage v's router spreads flows over several nodes by a hash
 * of the 5-tuple: ecmp, ecmp-resilient, and bgp with multipath. */
bool lab_routing_hashes(const struct lab *lab, size_t v);
/* "builtin", "nsd", "knot", "bind", "unbound", "pdns" or "command". */
const char *lab_responder_name(enum lab_responder r);
/* True for a DNS server from a package (nsd, knot, bind, unbound, pdns),
 * which answers DNS only. */
bool lab_responder_dns_only(enum lab_responder r);

/* Service sets. lab_services_first gives the lowest member (AH_SVC_DNS for
 * an empty set); lab_services_format writes "dns, echo" into buf. */
bool lab_services_equal(const bool a[AH_SVC_COUNT], const bool b[AH_SVC_COUNT]);
enum ah_service lab_services_first(const bool s[AH_SVC_COUNT]);
const char *lab_services_format(const bool s[AH_SVC_COUNT], char *buf, size_t len);
/* True when an enabled transport probes s. */
bool lab_probes_service(const struct lab *lab, enum ah_service s);
/* True when UDP and TCP both probe but different services, so each needs a
 * probe process of its own (anycast-probe takes one service set). */
bool lab_probes_split(const struct lab *lab);
/* Vantages per anycast-probe process (probes: vantages-per-process): the
 * key's value, or with auto one each up to LAB_PROBE_GROUP_AUTO_FROM - 1
 * vantages and above that groups of at most LAB_PROBE_GROUP_AUTO, as equal
 * as they come (docs/lab-file.md). */
uint32_t lab_probe_group(const struct lab *lab);
/* True when anycast address a is probed (its family is in probes:
 * families); lab_probed_count gives how many are. */
bool lab_probes_address(const struct lab *lab, size_t a);
size_t lab_probed_count(const struct lab *lab);
/* The family of anycast address a. */
enum ah_family lab_anycast_family(const struct lab *lab, size_t a);

#endif
