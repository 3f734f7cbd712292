/* Command line of anycast-probe: one declarative table (ah/opt.h) drives
 * getopt_long, the --help text and the checks, so an option is described in
 * one place. */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/log.h"
#include "ah/opt.h"
#include "probe.h"
#include "sched.h"

static int opt_service(const struct ah_opt *opt, void *base, const char *val, char *err,
                       size_t errlen)
{
    struct probe_opts *o = base;
    enum ah_service s;
    (void)opt;
    if (ah_service_parse(val, &s) < 0) {
        snprintf(err, errlen, "\"%s\": expected dns or echo", val);
        return -EINVAL;
    }
    o->service[s] = true;
    return 0;
}

static int opt_transport(const struct ah_opt *opt, void *base, const char *val, char *err,
                         size_t errlen)
{
    struct probe_opts *o = base;
    enum ah_transport t = AH_TR_COUNT;
    bool both = strcmp(val, "both") == 0;
    (void)opt;
    if (!both && ah_transport_parse(val, &t) < 0) {
        snprintf(err, errlen, "\"%s\": expected udp, tcp or both", val);
        return -EINVAL;
    }
    o->transport[AH_TR_UDP] |= both || t == AH_TR_UDP;
    o->transport[AH_TR_TCP] |= both || t == AH_TR_TCP;
    return 0;
}

static int opt_query(const struct ah_opt *opt, void *base, const char *val, char *err,
                     size_t errlen)
{
    struct probe_opts *o = base;
    (void)opt;
    o->query_auto = strcmp(val, "auto") == 0;
    if (o->query_auto)
        return 0;
    if (ah_ident_query_parse(val, &o->query) < 0 || strlen(val) >= sizeof(o->query_spec)) {
        snprintf(err, errlen, "\"%s\": expected auto, hostname.bind, id.server or nsid:NAME/TYPE",
                 val);
        return -EINVAL;
    }
    snprintf(o->query_spec, sizeof(o->query_spec), "%s", val);
    return 0;
}

static int opt_rate(const struct ah_opt *opt, void *base, const char *val, char *err, size_t errlen)
{
    struct probe_opts *o = base;
    int rc = sched_rate_parse(val, &o->rate_milli);
    (void)opt;
    if (rc < 0)
        snprintf(err, errlen, "\"%s\": %s", val,
                 rc == -ERANGE ? "rate must be above 0 and at most 10M probes/s"
                               : "expected probes per second, e.g. 500, 0.5 or 100k");
    return rc;
}

static int opt_max_loss(const struct ah_opt *opt, void *base, const char *val, char *err,
                        size_t errlen)
{
    struct probe_opts *o = base;
    char *end;
    (void)opt;
    errno = 0;
    double v = strtod(val, &end);
    if (end == val || *end != '\0' || errno || !(v >= 0 && v <= 100)) {
        snprintf(err, errlen, "\"%s\": expected a percentage 0..100, e.g. 1 or 0.5", val);
        return -EINVAL;
    }
    o->max_loss = v;
    return 0;
}

static int opt_quiet(const struct ah_opt *opt, void *base, const char *val, char *err,
                     size_t errlen)
{
    struct probe_opts *o = base;
    (void)opt;
    (void)val;
    (void)err;
    (void)errlen;
    o->quiet = true;
    ah_log_set_level(AH_LOG_ERROR);
    return 0;
}

static int opt_metrics(const struct ah_opt *opt, void *base, const char *val, char *err,
                       size_t errlen)
{
    struct probe_opts *o = base;
    (void)opt;
    /* Port 0 stands for "none given": the endpoint needs one. */
    if (ah_addr_parse(val, 0, &o->metrics) < 0 || ah_addr_port(&o->metrics) == 0) {
        snprintf(err, errlen, "\"%s\": expected ADDR:PORT, e.g. 127.0.0.1:9153 or [::1]:9153", val);
        return -EINVAL;
    }
    o->has_metrics = true;
    return 0;
}

static int opt_vantage(const struct ah_opt *opt, void *base, const char *val, char *err,
                       size_t errlen)
{
    struct probe_opts *o = base;
    (void)opt;
    if (strchr(val, '@') != NULL) {
        /* NAME@NETNS: one more vantage for this process (fleet.c). */
        return fleet_member_add(o, val, err, errlen);
    }
    if (val[0] == '\0' || strlen(val) >= sizeof(o->vantage)) {
        snprintf(err, errlen, "\"%s\": expected a name of 1..63 bytes", val);
        return -EINVAL;
    }
    snprintf(o->vantage, sizeof(o->vantage), "%s", val);
    return 0;
}

static int opt_vantages(const struct ah_opt *opt, void *base, const char *val, char *err,
                        size_t errlen)
{
    struct probe_opts *o = base;
    char why[256];
    (void)opt;
    FILE *f = fopen(val, "re");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", val, strerror(errno));
        return -EINVAL;
    }
    int rc = fleet_members_read(f, o, why, sizeof why);
    fclose(f);
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", val, why);
    return rc < 0 ? -EINVAL : 0;
}

static int opt_log_level(const struct ah_opt *opt, void *base, const char *val, char *err,
                         size_t errlen)
{
    enum ah_log_level l;
    (void)opt;
    (void)base;
    if (ah_log_level_parse(val, &l) < 0) {
        snprintf(err, errlen, "\"%s\": expected error, warn, info or debug", val);
        return -EINVAL;
    }
    ah_log_set_level(l);
    return 0;
}

static const struct ah_opt_choice tcp_modes[] = {
    {"persistent", TCP_PERSISTENT},
    {"per-query", TCP_PER_QUERY},
    {NULL, 0},
};
static const struct ah_opt_choice reconnect_modes[] = {
    {"immediate", RECONNECT_IMMEDIATE},
    {"backoff", RECONNECT_BACKOFF},
    {"never", RECONNECT_NEVER},
    {NULL, 0},
};
static const struct ah_opt_choice timestamp_modes[] = {
    {"kernel", 1},
    {"user", 0},
    {NULL, 0},
};
static const struct ah_opt_choice progress_modes[] = {
    {"auto", -1},
    {"always", 1},
    {"never", 0},
    {NULL, 0},
};

#define O(member) AH_OPT_AT(struct probe_opts, member)
#define DUR_WHY   ": expected a duration such as 250ms, 2s or 1m"
#define NOT_ZERO  ": must be more than 0"

static const struct ah_opt opts[] = {
    {"service", 's', AH_OPT_CALL, .fn = opt_service, .metavar = "dns|echo",
     .help = "service to probe; repeat for both (default dns)"},
    {"transport", 't', AH_OPT_CALL, .fn = opt_transport, .metavar = "udp|tcp|both",
     .help = "transport (default udp)"},
    {"dns-port", 0, AH_OPT_UINT, O(port[AH_SVC_DNS]), .min = 1, .max = 65535,
     .why = ": expected a port 1..65535", .metavar = "PORT", .help = "DNS port (default 53)"},
    {"echo-port", 0, AH_OPT_UINT, O(port[AH_SVC_ECHO]), .min = 1, .max = 65535,
     .why = ": expected a port 1..65535", .metavar = "PORT", .help = "echo port (default 7)"},
    {"query", 'q', AH_OPT_CALL, .fn = opt_query, .metavar = "SPEC",
     .help = "identity query: auto (default: the first of hostname.bind, nsid:./SOA, id.server "
             "that the target answers without rate limiting), hostname.bind, id.server or "
             "nsid:NAME/TYPE"},
    {"rate", 'r', AH_OPT_CALL, .fn = opt_rate, .metavar = "R",
     .help = "UDP probes per second in total, e.g. 500, 0.5, 100k (default 10)"},
    {"flows", 'f', AH_OPT_UINT, O(flows), .min = 1, .max = 4096,
     .why = ": expected a number of flows 1..4096", .metavar = "F",
     .help = "UDP flows per service, each a socket with its own source port (1)"},
    {"timeout", 0, AH_OPT_DUR, O(timeout_ns), .min = 1, .why = DUR_WHY, .why_range = NOT_ZERO,
     .metavar = "DUR", .help = "per probe and per TCP connect (default 1s)"},
    {"connections", 'c', AH_OPT_UINT, O(connections), .min = 1, .max = 100000,
     .why = ": expected a number of connections 1..100000", .metavar = "N",
     .help = "TCP connections per service (default 1)"},
    {"interval", 'i', AH_OPT_DUR, O(interval_ns), .min = 1, .why = DUR_WHY, .why_range = NOT_ZERO,
     .metavar = "DUR", .help = "TCP probe interval per connection (default 1s)"},
    {"tcp-mode", 0, AH_OPT_CHOICE, O(tcp_mode), .choices = tcp_modes,
     .why = ": expected persistent or per-query", .metavar = "persistent|per-query",
     .help = "keep connections open across probes, or one connection per probe (persistent)"},
    /* The kernel takes milliseconds in an unsigned int. */
    {"tcp-user-timeout", 0, AH_OPT_DUR, O(tcp_user_timeout_ns),
     .max = UINT_MAX * AH_NS_PER_MS + AH_NS_PER_MS - 1, .why = DUR_WHY, .why_range = ": too long",
     .metavar = "DUR", .help = "set TCP_USER_TIMEOUT (default: kernel's)"},
    {"reconnect", 0, AH_OPT_CHOICE, O(reconnect), .choices = reconnect_modes,
     .why = ": expected immediate, backoff or never", .metavar = "immediate|backoff|never",
     .help = "after a connection ends (default immediate)"},
    {"duration", 'd', AH_OPT_DUR, O(duration_ns), .min = 1, .why = DUR_WHY, .why_range = NOT_ZERO,
     .metavar = "DUR", .help = "stop sending after DUR"},
    {"count", 'n', AH_OPT_UINT, O(count), .min = 1, .why = ": expected a positive number of probes",
     .metavar = "N", .help = "stop after N probes per transport"},
    {"out", 'o', AH_OPT_STRING, O(out_dir), .metavar = "DIR",
     .help = "write DIR/probes.csv and DIR/connections.csv"},
    {"vantage", 0, AH_OPT_CALL, .fn = opt_vantage, .metavar = "NAME",
     .help = "vantage column (default: host name); NAME@NETNS, repeated, probes from each "
             "namespace as vantage NAME in this one process (needs --out: DIR/NAME/)"},
    {"vantages", 0, AH_OPT_CALL, .fn = opt_vantages, .metavar = "FILE",
     .help = "read more NAME@NETNS vantages from FILE, one a line, each optionally followed by "
             "a tab and its output directory ('#' starts a comment line)"},
    {"summary-json", 0, AH_OPT_STRING, O(summary_json), .metavar = "FILE",
     .help = "write the summary as JSON (- for stdout; the text summary then goes to stderr)"},
    {"max-loss", 0, AH_OPT_CALL, .fn = opt_max_loss, .metavar = "PCT",
     .help = "exit 1 when a transport and service lost more than PCT % of its probes"},
    {"quiet", 0, AH_OPT_CALL, .fn = opt_quiet,
     .help = "errors only: no summary, no progress (-q is --query)"},
    {"metrics", 0, AH_OPT_CALL, .fn = opt_metrics, .metavar = "ADDR:PORT",
     .help = "serve the statistics for Prometheus at http://ADDR:PORT/metrics"},
    {"source", 0, AH_OPT_ADDR, O(source), .why = ": expected an IPv4 or IPv6 address",
     .metavar = "ADDR", .help = "source address to bind"},
    {"timestamps", 0, AH_OPT_CHOICE, O(timestamps_kernel), .choices = timestamp_modes,
     .why = ": expected kernel or user", .metavar = "kernel|user",
     .help = "UDP RTT from the kernel's send and receive stamps, or from user-space clocks "
             "(kernel)"},
    {"no-udp-gro", 0, AH_OPT_FLAG_OFF, O(udp_gro),
     .help = "advanced: read every UDP answer as a datagram of its own instead of letting the "
             "kernel hand over runs of them as one buffer (UDP GRO)"},
    {"once", 0, AH_OPT_FLAG, O(once),
     .help = "one DNS and one echo probe per transport; print node and RTT; exit 0 if all "
             "answered"},
    {"progress", 0, AH_OPT_CHOICE, O(progress), .choices = progress_modes,
     .why = ": expected auto, always or never", .metavar = "auto|always|never",
     .help = "live status line on stderr (auto: a terminal and CI unset)"},
    {"log-level", 0, AH_OPT_CALL, .fn = opt_log_level, .metavar = "LEVEL",
     .help = "error|warn|info|debug (default info)"},
    {"ready-fd", 0, AH_OPT_UINT, O(ready_fd), .max = INT_MAX,
     .why = ": expected a file descriptor number", .metavar = "FD",
     .help = "write one byte to FD and close it once probing has started (for anycast-lab)"},
    {"clock-echo", 0, AH_OPT_FLAG, O(clock_echo),
     .help = "probe nothing: answer each line on stdin with \"T2 T3\" (CLOCK_REALTIME ns when it "
             "was read and when answered) until end of input; anycast-lab measures this host's "
             "clock with it (no TARGET)"},
    {"help", 'h', AH_OPT_HELP, .help = "show this help"},
    {"version", 'V', AH_OPT_VERSION, .help = "show the version"},
};

static const struct ah_opt_cmd cmd = {
    .program = "anycast-probe",
    .version = AH_VERSION,
    .usage = "Usage: anycast-probe [OPTION]... TARGET\n"
             "  or:  anycast-probe --clock-echo\n"
             "Probe an anycast address over UDP and TCP with DNS identity queries and the\n"
             "identity echo, record which node answers every probe, and summarise.\n",
    .footer = "TARGET is an IPv4 or IPv6 address or a host name (its first address).\n"
              "The summary goes to stdout. Durations: 250ms, 2s, 1.5m.\n"
              "Files: DIR/probes.csv (ts_ns,vantage,target,transport,service,conn,seq,\n"
              "result,node,rtt_us,detail) and DIR/connections.csv; conn is the UDP source\n"
              "port or the TCP connection id, seq counts from 1 within it. A row is\n"
              "written when its result is known (a timeout up to --timeout after its\n"
              "neighbours): sort by ts_ns for send order.\n"
              "Exit status: 0 ok (also after SIGINT/SIGTERM), 1 runtime failure,\n"
              "--once without an answer or a loss above --max-loss, 2 bad usage.\n",
    .opts = opts,
    .nopts = sizeof(opts) / sizeof(opts[0]),
};

static void set_defaults(struct probe_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->port[AH_SVC_DNS] = 53;
    o->port[AH_SVC_ECHO] = 7;
    o->rate_milli = 10 * SCHED_RATE_SCALE;
    o->flows = 1;
    o->timeout_ns = 1000000000ull;
    o->connections = 1;
    o->interval_ns = 1000000000ull;
    o->progress = -1;
    o->ready_fd = -1;
    o->max_loss = -1;
    o->timestamps_kernel = true;
    o->udp_gro = true;
    if (gethostname(o->vantage, sizeof(o->vantage)) != 0 || o->vantage[0] == '\0')
        snprintf(o->vantage, sizeof(o->vantage), "local");
    o->vantage[sizeof(o->vantage) - 1] = '\0';
}

/* A host name TARGET: its first address (of family when given), as the
 * system resolver (getaddrinfo: /etc/hosts, DNS) orders them. Returns 0 or
 * a getaddrinfo error. */
static int resolve_target(const char *name, int family, struct ah_addr *out)
{
    struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_DGRAM}, *res = NULL;
    int rc = getaddrinfo(name, NULL, &hints, &res);
    if (rc != 0)
        return rc;
    rc = EAI_NONAME;
    for (struct addrinfo *a = res; a && rc != 0; a = a->ai_next)
        if (ah_addr_from_sockaddr(a->ai_addr, a->ai_addrlen, out) == 0)
            rc = 0;
    freeaddrinfo(res);
    return rc;
}

/* The one operand, TARGET, and the checks that involve more than one option. */
static int check_target(struct probe_opts *o, int argc, char **argv, int i)
{
    if (i != argc - 1) {
        if (i >= argc)
            return ah_opt_error(&cmd, "missing TARGET address");
        return ah_opt_error(&cmd,
                            "unexpected argument \"%s\" after TARGET \"%s\": expected one TARGET "
                            "address",
                            argv[i + 1], argv[i]);
    }
    o->has_source = ah_addr_family(&o->source) != 0;
    if (ah_addr_parse_ip(argv[i], &o->target) < 0) {
        int rc = resolve_target(argv[i], o->has_source ? ah_addr_family(&o->source) : AF_UNSPEC,
                                &o->target);
        if (rc != 0)
            return ah_opt_error(&cmd, "TARGET \"%s\": not an IPv4 or IPv6 address, and %s", argv[i],
                                gai_strerror(rc));
        ah_addr_format(&o->target, false, o->target_text, sizeof(o->target_text));
        ah_log_info("%s is %s", argv[i], o->target_text);
    }
    ah_addr_format(&o->target, false, o->target_text, sizeof(o->target_text));
    if (o->has_source && ah_addr_family(&o->source) != ah_addr_family(&o->target)) {
        char src[AH_ADDR_STRLEN];
        ah_addr_format(&o->source, false, src, sizeof(src));
        return ah_opt_error(&cmd, "--source %s and TARGET %s are of different address families",
                            src, o->target_text);
    }
    bool all_out = true;
    for (size_t k = 0; k < o->nmembers; k++)
        all_out &= o->members[k].out != NULL;
    if (o->nmembers > 0) {
        const char *bad = !o->out_dir && !all_out
                              ? "it needs --out DIR (each vantage writes DIR/NAME/)"
                          : o->once          ? "--once"
                          : o->summary_json  ? "--summary-json (each writes DIR/NAME/summary.json)"
                          : o->has_metrics   ? "--metrics"
                          : o->progress == 1 ? "--progress always"
                                             : NULL;
        if (bad != NULL)
            return ah_opt_error(&cmd, "--vantage NAME@NETNS (several vantages): %s%s",
                                o->out_dir || all_out ? "cannot be combined with " : "", bad);
        o->progress = 0;
    }
    /* Silently ignoring them would leave the user wondering. */
    if (o->once && (o->count || o->duration_ns))
        return ah_opt_error(&cmd, "--once sends one probe each: it cannot be combined with %s",
                            o->count ? "--count" : "--duration");
    return 0;
}

/* --once, and the services and transports when none was given. */
static void settle(struct probe_opts *o)
{
    if (o->once) {
        /* One probe per service and transport, sent at once. */
        o->rate_milli = 1000ull * SCHED_RATE_SCALE;
        o->flows = 1;
        o->connections = 1;
        o->duration_ns = 0;
        o->count = 0;
    }
    if (!o->service[AH_SVC_DNS] && !o->service[AH_SVC_ECHO]) {
        o->service[AH_SVC_DNS] = true;
        o->service[AH_SVC_ECHO] = o->once;
    }
    if (!o->transport[AH_TR_UDP] && !o->transport[AH_TR_TCP]) {
        o->transport[AH_TR_UDP] = true;
        o->transport[AH_TR_TCP] = o->once;
    }
}

int opts_parse(int argc, char **argv, struct probe_opts *o)
{
    int operand, rc;

    set_defaults(o);
    o->query_auto = true;
    snprintf(o->query_spec, sizeof(o->query_spec), "hostname.bind");
    if (ah_ident_query_parse("hostname.bind", &o->query) < 0) {
        ah_log_error("cannot build the default identity query");
        return -EINVAL;
    }
    rc = ah_opt_parse(&cmd, o, argc, argv, &operand);
    if (rc != 0)
        return rc < 0 ? -EINVAL : 1;
    /* The echo mode probes nothing: a TARGET would be silently unused. */
    if (o->clock_echo) {
        if (operand < argc)
            return ah_opt_error(&cmd, "--clock-echo takes no TARGET (got \"%s\")", argv[operand]);
        return 0;
    }
    if (check_target(o, argc, argv, operand) < 0)
        return -EINVAL;
    settle(o);
    return 0;
}
