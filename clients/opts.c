/* Command line of anycast-probe: one declarative table drives getopt_long,
 * the --help text and the checks, so an option is described in one place. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ah/dur.h"
#include "ah/log.h"
#include "probe.h"
#include "sched.h"

enum opt_id {
    O_SERVICE = 's',
    O_TRANSPORT = 't',
    O_QUERY = 'q',
    O_RATE = 'r',
    O_FLOWS = 'f',
    O_CONNECTIONS = 'c',
    O_INTERVAL = 'i',
    O_DURATION = 'd',
    O_COUNT = 'n',
    O_OUT = 'o',
    O_HELP = 'h',
    O_VERSION = 'V',
    O_DNS_PORT = 256,
    O_ECHO_PORT,
    O_TIMEOUT,
    O_TCP_MODE,
    O_TCP_USER_TIMEOUT,
    O_RECONNECT,
    O_VANTAGE,
    O_SUMMARY_JSON,
    O_ONCE,
    O_PROGRESS,
    O_SOURCE,
    O_LOG_LEVEL,
    O_READY_FD,
};

struct opt_def {
    const char *name;
    int has_arg;
    int id;
    const char *arg;
    const char *help;
};

static const struct opt_def defs[] = {
    {"service", 1, O_SERVICE, "dns|echo", "service to probe; repeat for both (default dns)"},
    {"transport", 1, O_TRANSPORT, "udp|tcp|both", "transport (default udp)"},
    {"dns-port", 1, O_DNS_PORT, "PORT", "DNS port (default 53)"},
    {"echo-port", 1, O_ECHO_PORT, "PORT", "echo port (default 7)"},
    {"query", 1, O_QUERY, "SPEC",
     "identity query: hostname.bind (default), id.server or nsid:NAME/TYPE"},
    {"rate", 1, O_RATE, "R", "UDP probes per second in total, e.g. 500, 0.5, 100k (default 10)"},
    {"flows", 1, O_FLOWS, "F", "UDP flows per service, each a socket with its own source port (1)"},
    {"timeout", 1, O_TIMEOUT, "DUR", "per probe and per TCP connect (default 1s)"},
    {"connections", 1, O_CONNECTIONS, "N", "TCP connections per service (default 1)"},
    {"interval", 1, O_INTERVAL, "DUR", "TCP probe interval per connection (default 1s)"},
    {"tcp-mode", 1, O_TCP_MODE, "persistent|per-query",
     "keep connections open across probes, or one connection per probe (persistent)"},
    {"tcp-user-timeout", 1, O_TCP_USER_TIMEOUT, "DUR", "set TCP_USER_TIMEOUT (default: kernel's)"},
    {"reconnect", 1, O_RECONNECT, "immediate|backoff|never",
     "after a connection ends (default immediate)"},
    {"duration", 1, O_DURATION, "DUR", "stop sending after DUR"},
    {"count", 1, O_COUNT, "N", "stop after N probes per transport"},
    {"out", 1, O_OUT, "DIR", "write DIR/probes.csv and DIR/connections.csv"},
    {"vantage", 1, O_VANTAGE, "NAME", "vantage column (default: host name)"},
    {"summary-json", 1, O_SUMMARY_JSON, "FILE", "write the summary as JSON"},
    {"source", 1, O_SOURCE, "ADDR", "source address to bind"},
    {"once", 0, O_ONCE, NULL,
     "one DNS and one echo probe per transport; print node and RTT; exit 0 if all answered"},
    {"progress", 1, O_PROGRESS, "auto|always|never",
     "live status line on stderr (auto: a terminal and CI unset)"},
    {"log-level", 1, O_LOG_LEVEL, "LEVEL", "error|warn|info|debug (default info)"},
    {"ready-fd", 1, O_READY_FD, "FD",
     "write one byte to FD and close it once probing has started (for anycast-lab)"},
    {"help", 0, O_HELP, NULL, "show this help"},
    {"version", 0, O_VERSION, NULL, "show the version"},
};

#define NDEFS (sizeof(defs) / sizeof(defs[0]))

/* Prints text wrapped at 79 columns, continuation lines indented by col. */
static void put_wrapped(FILE *f, const char *text, int col, int used)
{
    const char *p = text;

    while (*p != '\0') {
        int room = 79 - col, n = (int)strlen(p);
        if (n > room) {
            n = room;
            while (n > 0 && p[n] != ' ')
                n--;
            if (n == 0)
                n = room;
        }
        fprintf(f, "%*s%.*s\n", col - used, "", n, p);
        p += n;
        while (*p == ' ')
            p++;
        used = 0;
    }
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: anycast-probe [OPTION]... TARGET\n"
               "Probe an anycast address over UDP and TCP with DNS identity queries and the\n"
               "identity echo, record which node answers every probe, and summarise.\n\n");
    for (size_t i = 0; i < NDEFS; i++) {
        char head[64];
        int n;
        if (defs[i].id < 256)
            n = snprintf(head, sizeof(head), "  -%c, --%s%s%s", defs[i].id, defs[i].name,
                         defs[i].arg ? " " : "", defs[i].arg ? defs[i].arg : "");
        else
            n = snprintf(head, sizeof(head), "      --%s%s%s", defs[i].name, defs[i].arg ? " " : "",
                         defs[i].arg ? defs[i].arg : "");
        fputs(head, f);
        if (n > 30) {
            fputc('\n', f);
            n = 0;
        }
        put_wrapped(f, defs[i].help, 32, n);
    }
    fprintf(f, "\nTARGET is an IPv4 or IPv6 address. Durations: 250ms, 2s, 1.5m.\n"
               "Files: DIR/probes.csv (ts_ns,vantage,target,transport,service,conn,seq,\n"
               "result,node,rtt_us,detail) and DIR/connections.csv; conn is the UDP source\n"
               "port or the TCP connection id, seq counts from 1 within it. A row is\n"
               "written when its result is known (a timeout up to --timeout after its\n"
               "neighbours): sort by ts_ns for send order.\n"
               "Exit status: 0 ok (also after SIGINT/SIGTERM), 1 runtime failure or\n"
               "--once without an answer, 2 bad usage.\n");
}

static int bad(const char *opt, const char *val, const char *why)
{
    ah_log_error("--%s: \"%s\": %s", opt, val, why);
    fprintf(stderr, "Try 'anycast-probe --help'.\n");
    return -EINVAL;
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    unsigned long long v;

    if (s[0] < '0' || s[0] > '9')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -EINVAL;
    if (v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

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
    if (gethostname(o->vantage, sizeof(o->vantage)) != 0 || o->vantage[0] == '\0')
        snprintf(o->vantage, sizeof(o->vantage), "local");
    o->vantage[sizeof(o->vantage) - 1] = '\0';
}

/* Applies one option; returns 0, 1 (help/version done) or -EINVAL. */
static int apply(struct probe_opts *o, const struct opt_def *d, const char *v, bool *svc_given,
                 bool *tr_given)
{
    unsigned long long n;
    uint64_t ns;
    int rc;

    switch (d->id) {
    case O_SERVICE:
        if (strcmp(v, ah_service_name(AH_SVC_DNS)) == 0)
            o->service[AH_SVC_DNS] = true;
        else if (strcmp(v, ah_service_name(AH_SVC_ECHO)) == 0)
            o->service[AH_SVC_ECHO] = true;
        else
            return bad(d->name, v, "expected dns or echo");
        *svc_given = true;
        return 0;
    case O_TRANSPORT:
        if (strcmp(v, ah_transport_name(AH_TR_UDP)) == 0)
            o->transport[AH_TR_UDP] = true;
        else if (strcmp(v, ah_transport_name(AH_TR_TCP)) == 0)
            o->transport[AH_TR_TCP] = true;
        else if (strcmp(v, "both") == 0)
            o->transport[AH_TR_UDP] = o->transport[AH_TR_TCP] = true;
        else
            return bad(d->name, v, "expected udp, tcp or both");
        *tr_given = true;
        return 0;
    case O_DNS_PORT:
    case O_ECHO_PORT:
        if (ah_port_parse(v, &o->port[d->id == O_DNS_PORT ? AH_SVC_DNS : AH_SVC_ECHO]) < 0 ||
            o->port[d->id == O_DNS_PORT ? AH_SVC_DNS : AH_SVC_ECHO] == 0)
            return bad(d->name, v, "expected a port 1..65535");
        return 0;
    case O_QUERY:
        if (ah_ident_query_parse(v, &o->query) < 0)
            return bad(d->name, v, "expected hostname.bind, id.server or nsid:NAME/TYPE");
        return 0;
    case O_RATE:
        rc = sched_rate_parse(v, &o->rate_milli);
        if (rc < 0)
            return bad(d->name, v,
                       rc == -ERANGE ? "rate must be above 0 and at most 10M probes/s"
                                     : "expected probes per second, e.g. 500, 0.5 or 100k");
        return 0;
    case O_FLOWS:
        if (parse_uint(v, 4096, &n) < 0 || n == 0)
            return bad(d->name, v, "expected a number of flows 1..4096");
        o->flows = (unsigned)n;
        return 0;
    case O_CONNECTIONS:
        if (parse_uint(v, 100000, &n) < 0 || n == 0)
            return bad(d->name, v, "expected a number of connections 1..100000");
        o->connections = (unsigned)n;
        return 0;
    case O_COUNT:
        if (parse_uint(v, UINT64_MAX, &n) < 0 || n == 0)
            return bad(d->name, v, "expected a positive number of probes");
        o->count = n;
        return 0;
    case O_TIMEOUT:
    case O_INTERVAL:
    case O_DURATION:
    case O_TCP_USER_TIMEOUT:
        if (ah_dur_parse(v, &ns) < 0)
            return bad(d->name, v, "expected a duration such as 250ms, 2s or 1m");
        if (ns == 0 && d->id != O_TCP_USER_TIMEOUT)
            return bad(d->name, v, "must be more than 0");
        if (d->id == O_TIMEOUT)
            o->timeout_ns = ns;
        else if (d->id == O_INTERVAL)
            o->interval_ns = ns;
        else if (d->id == O_DURATION)
            o->duration_ns = ns;
        else if (ns / 1000000 > UINT_MAX)
            return bad(d->name, v, "too long");
        else
            o->tcp_user_timeout_ns = ns;
        return 0;
    case O_TCP_MODE:
        if (strcmp(v, "persistent") == 0)
            o->tcp_mode = TCP_PERSISTENT;
        else if (strcmp(v, "per-query") == 0)
            o->tcp_mode = TCP_PER_QUERY;
        else
            return bad(d->name, v, "expected persistent or per-query");
        return 0;
    case O_RECONNECT:
        if (strcmp(v, "immediate") == 0)
            o->reconnect = RECONNECT_IMMEDIATE;
        else if (strcmp(v, "backoff") == 0)
            o->reconnect = RECONNECT_BACKOFF;
        else if (strcmp(v, "never") == 0)
            o->reconnect = RECONNECT_NEVER;
        else
            return bad(d->name, v, "expected immediate, backoff or never");
        return 0;
    case O_OUT:
        o->out_dir = v;
        return 0;
    case O_VANTAGE:
        if (v[0] == '\0' || strlen(v) >= sizeof(o->vantage))
            return bad(d->name, v, "expected a name of 1..63 bytes");
        snprintf(o->vantage, sizeof(o->vantage), "%s", v);
        return 0;
    case O_SUMMARY_JSON:
        o->summary_json = v;
        return 0;
    case O_SOURCE:
        if (ah_addr_parse_ip(v, &o->source) < 0)
            return bad(d->name, v, "expected an IPv4 or IPv6 address");
        o->has_source = true;
        return 0;
    case O_ONCE:
        o->once = true;
        return 0;
    case O_PROGRESS:
        if (strcmp(v, "auto") == 0)
            o->progress = -1;
        else if (strcmp(v, "always") == 0)
            o->progress = 1;
        else if (strcmp(v, "never") == 0)
            o->progress = 0;
        else
            return bad(d->name, v, "expected auto, always or never");
        return 0;
    case O_READY_FD:
        if (parse_uint(v, INT_MAX, &n) < 0)
            return bad(d->name, v, "expected a file descriptor number");
        o->ready_fd = (int)n;
        return 0;
    case O_LOG_LEVEL: {
        enum ah_log_level l;
        if (ah_log_level_parse(v, &l) < 0)
            return bad(d->name, v, "expected error, warn, info or debug");
        ah_log_set_level(l);
        return 0;
    }
    case O_HELP:
        usage(stdout);
        return 1;
    case O_VERSION:
        printf("anycast-probe %s\n", AH_VERSION);
        return 1;
    }
    return -EINVAL;
}

int opts_parse(int argc, char **argv, struct probe_opts *o)
{
    struct option lopts[NDEFS + 1];
    char shorts[2 * NDEFS + 2];
    size_t ns = 0;
    bool svc_given = false, tr_given = false;
    int c, rc;

    set_defaults(o);
    if (ah_ident_query_parse("hostname.bind", &o->query) < 0) {
        ah_log_error("cannot build the default identity query");
        return -EINVAL;
    }
    shorts[ns++] = ':';
    for (size_t i = 0; i < NDEFS; i++) {
        lopts[i] = (struct option){defs[i].name, defs[i].has_arg, NULL, defs[i].id};
        if (defs[i].id < 256) {
            shorts[ns++] = (char)defs[i].id;
            if (defs[i].has_arg)
                shorts[ns++] = ':';
        }
    }
    shorts[ns] = '\0';
    lopts[NDEFS] = (struct option){NULL, 0, NULL, 0};

    opterr = 0;
    optind = 0; /* glibc: 0 also resets its internal state */
    while ((c = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
        const struct opt_def *d = NULL;
        if (c == '?' || c == ':') {
            const char *arg = argv[optind - 1];
            if (c == ':')
                ah_log_error("%s: missing value", arg);
            else if (optopt != 0 && optopt < 256)
                ah_log_error("unknown option -%c", optopt);
            else
                ah_log_error("unknown option %s", arg);
            fprintf(stderr, "Try 'anycast-probe --help'.\n");
            return -EINVAL;
        }
        for (size_t i = 0; i < NDEFS; i++) {
            if (defs[i].id == c)
                d = &defs[i];
        }
        if (d == NULL)
            return -EINVAL;
        rc = apply(o, d, optarg, &svc_given, &tr_given);
        if (rc != 0)
            return rc;
    }
    if (optind != argc - 1) {
        if (optind >= argc)
            ah_log_error("missing TARGET address");
        else
            ah_log_error("unexpected argument \"%s\" after TARGET \"%s\": expected one TARGET "
                         "address",
                         argv[optind + 1], argv[optind]);
        fprintf(stderr, "Try 'anycast-probe --help'.\n");
        return -EINVAL;
    }
    if (ah_addr_parse_ip(argv[optind], &o->target) < 0) {
        ah_log_error("TARGET \"%s\": expected an IPv4 or IPv6 address", argv[optind]);
        fprintf(stderr, "Try 'anycast-probe --help'.\n");
        return -EINVAL;
    }
    ah_addr_format(&o->target, false, o->target_text, sizeof(o->target_text));
    if (o->has_source && ah_addr_family(&o->source) != ah_addr_family(&o->target)) {
        char src[AH_ADDR_STRLEN];
        ah_addr_format(&o->source, false, src, sizeof(src));
        ah_log_error("--source %s and TARGET %s are of different address families", src,
                     o->target_text);
        fprintf(stderr, "Try 'anycast-probe --help'.\n");
        return -EINVAL;
    }
    if (o->once && (o->count || o->duration_ns)) {
        /* Silently ignoring them would leave the user wondering. */
        ah_log_error("--once sends one probe each: it cannot be combined with %s",
                     o->count ? "--count" : "--duration");
        fprintf(stderr, "Try 'anycast-probe --help'.\n");
        return -EINVAL;
    }
    if (o->once) {
        /* One probe per service and transport, sent at once. */
        o->rate_milli = 1000ull * SCHED_RATE_SCALE;
        o->flows = 1;
        o->connections = 1;
        o->duration_ns = 0;
        o->count = 0;
    }
    if (!svc_given) {
        o->service[AH_SVC_DNS] = true;
        o->service[AH_SVC_ECHO] = o->once;
    }
    if (!tr_given) {
        o->transport[AH_TR_UDP] = true;
        o->transport[AH_TR_TCP] = o->once;
    }
    return 0;
}
