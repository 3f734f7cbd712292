/* anycast-responder: a paired UDP+TCP DNS and echo responder bound to one or
 * more anycast addresses, answering with its node identity (docs/anycast-responder.md).
 * This file parses options, builds the shared state, starts the workers and
 * runs the main thread's loop: signals and the control socket. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "ah/addr.h"
#include "ah/dur.h"
#include "ah/log.h"
#include "ah/size.h"
#include "config.h"
#include "control.h"
#include "dns_answer.h"
#include "worker.h"

#define PROG "anycast-responder"

enum {
    OPT_DNS_PORT = 256,
    OPT_ECHO_PORT,
    OPT_NO_DNS,
    OPT_NO_ECHO,
    OPT_TCP_IDLE,
    OPT_MAX_TCP,
    OPT_TCP_IO,
    OPT_TCP_WRITE,
    OPT_TCP_BUDGET,
    OPT_LOG_LEVEL,
    OPT_CONTROL_MODE,
    OPT_CONTROL_CLIENTS,
    OPT_CONTROL_IDLE,
    OPT_UDP_IO,
    OPT_UDP_BATCH,
};

/* The option table: getopt_long's array and --help are both built from it,
 * so an option cannot exist without its documentation. */
struct opt_def {
    const char *name;
    int has_arg;
    int val;
    const char *metavar;
    const char *help;
    bool advanced;
};

static const struct opt_def opt_defs[] = {
    {"listen", required_argument, 'l', "ADDR",
     "answer on ADDR, IPv4 or IPv6 (repeatable; each socket is bound to exactly this address, "
     "never the wildcard)",
     false},
    {"dns-port", required_argument, OPT_DNS_PORT, "PORT", "DNS port, UDP and TCP (default 53)",
     false},
    {"echo-port", required_argument, OPT_ECHO_PORT, "PORT", "echo port, UDP and TCP (default 7)",
     false},
    {"identity", required_argument, 'i', "NAME",
     "node identity for hostname.bind, id.server, NSID and echo (default: the host name)", false},
    {"no-dns", no_argument, OPT_NO_DNS, NULL, "do not serve DNS", false},
    {"no-echo", no_argument, OPT_NO_ECHO, NULL, "do not serve echo", false},
    {"zone", required_argument, 'z', "FILE", "answer the names of this master file authoritatively",
     false},
    {"workers", required_argument, 'w', "N",
     "worker threads, each with its own loop and SO_REUSEPORT sockets (default 1)", false},
    {"tcp-idle-timeout", required_argument, OPT_TCP_IDLE, "DUR",
     "close TCP connections idle this long, e.g. 10s, 500ms (default 10s)", false},
    {"tcp-io-timeout", required_argument, OPT_TCP_IO, "DUR",
     "close a TCP connection whose message is not complete DUR after its first byte (default "
     "500ms)",
     false},
    {"tcp-write-timeout", required_argument, OPT_TCP_WRITE, "DUR",
     "reset a TCP connection whose queued answers do not move (no byte taken by the kernel or "
     "acknowledged by the client) for DUR (default 20s)",
     false},
    {"max-tcp-clients", required_argument, OPT_MAX_TCP, "N",
     "concurrent TCP connections over all workers; beyond it a new connection closes the "
     "least recently read one of its worker (default 10000)",
     false},
    {"tcp-buffer-budget", required_argument, OPT_TCP_BUDGET, "SIZE",
     "memory for incomplete TCP messages and unsent answers over all workers, e.g. 32M, 512K; "
     "over it the oldest are closed (default 32M)",
     false},
    {"control", required_argument, 'c', "PATH",
     "control socket (unix stream; one command per line: pause, resume, delay MS, drop PERCENT, "
     "stats, help); only root and the responder's user are served",
     false},
    {"control-mode", required_argument, OPT_CONTROL_MODE, "MODE",
     "octal file mode of the control socket, 0600..0777 (default 0600, whatever the umask)", false},
    {"control-clients", required_argument, OPT_CONTROL_CLIENTS, "N",
     "control clients at once, 1..1024; a new one waits, or takes the slot of one idle for 1s "
     "(default 16)",
     false},
    {"control-idle-timeout", required_argument, OPT_CONTROL_IDLE, "DUR",
     "close control clients without a complete line (or not reading their replies) this long "
     "(default 10s)",
     false},
    {"log-level", required_argument, OPT_LOG_LEVEL, "LEVEL",
     "error, warn, info or debug (default info)", false},
    {"help", no_argument, 'h', NULL, "show this help and exit", false},
    {"version", no_argument, 'V', NULL, "show the version and exit", false},
    {"udp-io", required_argument, OPT_UDP_IO, "MODE",
     "UDP path: mmsg = uv_poll with recvmmsg/sendmmsg batches, answers sent from a send-only twin "
     "socket (default); mmsg-onesock = the same from the receiving socket; uv = libuv uv_udp, one "
     "sendmsg per answer",
     true},
    {"udp-batch", required_argument, OPT_UDP_BATCH, "N",
     "datagrams per recvmmsg/sendmmsg call on the mmsg path, 1..1024 (default 64)", true},
};
#define NOPTS (sizeof opt_defs / sizeof opt_defs[0])

/* Prints text from column indent, breaking lines at spaces before width. */
static void print_wrapped(FILE *f, const char *text, int indent, int width)
{
    int col = indent;
    const char *p = text;
    while (*p != '\0') {
        const char *sp = strchr(p, ' ');
        int wl = sp ? (int)(sp - p) : (int)strlen(p);
        if (col > indent && col + 1 + wl > width) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', f);
            col++;
        }
        fprintf(f, "%.*s", wl, p);
        col += wl;
        p += wl;
        while (*p == ' ')
            p++;
    }
    fputc('\n', f);
}

static void print_opts(FILE *f, bool advanced)
{
    for (size_t i = 0; i < NOPTS; i++) {
        const struct opt_def *o = &opt_defs[i];
        char left[64];
        if (o->advanced != advanced)
            continue;
        if (o->val < 256)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->val, o->name, o->metavar ? " " : "",
                     o->metavar ? o->metavar : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name, o->metavar ? " " : "",
                     o->metavar ? o->metavar : "");
        /* A name too long for the column gets its text on the next line. */
        if (strlen(left) > 28)
            fprintf(f, "  %s\n%31s", left, "");
        else
            fprintf(f, "  %-28s ", left);
        print_wrapped(f, o->help, 31, 80);
    }
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: " PROG " --listen ADDR [--listen ADDR]... [OPTION]...\n"
               "Paired UDP+TCP DNS and echo responder for anycast labs: answers CH TXT "
               "hostname.bind,\nid.server and NSID with its identity, names of an optional zone, "
               "REFUSED otherwise;\necho replies \"<identity> <line>\".\n\nOptions:\n");
    print_opts(f, false);
    fprintf(f, "\nAdvanced:\n");
    print_opts(f, true);
    fprintf(f, "\nSignals: SIGUSR1 logs the stats line; SIGTERM/SIGINT stop (exit 0).\n"
               "Exit status: 0 ok, 1 runtime failure, 2 bad usage.\n");
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ah_log_error("%s", msg);
    fprintf(stderr, "Try '" PROG " --help' for more information.\n");
    return 2;
}

static int parse_num(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (*end != '\0' || errno != 0 || v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

static int valid_identity(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= RESPONDER_IDENTITY_MAX)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
            return -EINVAL;
    return 0;
}

/* Parses argv into cfg. Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct responder_config *cfg)
{
    struct option longopts[NOPTS + 1];
    /* The leading ':' makes a missing argument ':' rather than '?', so
     * "--listen" alone says "missing argument", not "unknown option". */
    char shortopts[64] = ":";
    size_t sl = 1;
    const char *identity = NULL;
    unsigned long v;
    int c;

    memset(longopts, 0, sizeof longopts);
    for (size_t i = 0; i < NOPTS; i++) {
        longopts[i] = (struct option){opt_defs[i].name, opt_defs[i].has_arg, NULL, opt_defs[i].val};
        if (opt_defs[i].val < 256) {
            shortopts[sl++] = (char)opt_defs[i].val;
            if (opt_defs[i].has_arg)
                shortopts[sl++] = ':';
        }
    }
    opterr = 0;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (cfg->nlisten == RESPONDER_MAX_LISTEN)
                return usage_error("--listen: at most 64 addresses");
            if (ah_addr_parse_ip(optarg, &cfg->listen[cfg->nlisten]) < 0)
                return usage_error("--listen: \"%s\" is not an IPv4 or IPv6 address", optarg);
            for (size_t i = 0; i < cfg->nlisten; i++)
                if (ah_addr_equal_ip(&cfg->listen[i], &cfg->listen[cfg->nlisten]))
                    return usage_error("--listen: %s is given twice", optarg);
            cfg->nlisten++;
            break;
        case OPT_DNS_PORT:
        case OPT_ECHO_PORT: {
            uint16_t port;
            if (ah_port_parse(optarg, &port) < 0 || port == 0)
                return usage_error("%s: \"%s\" is not a port in 1..65535",
                                   c == OPT_DNS_PORT ? "--dns-port" : "--echo-port", optarg);
            *(c == OPT_DNS_PORT ? &cfg->dns_port : &cfg->echo_port) = port;
            break;
        }
        case 'i':
            if (valid_identity(optarg) < 0)
                return usage_error("--identity: \"%s\" must be 1..255 printable characters "
                                   "without spaces",
                                   optarg);
            identity = optarg;
            break;
        case OPT_NO_DNS:
            cfg->dns = false;
            break;
        case OPT_NO_ECHO:
            cfg->echo = false;
            break;
        case 'z':
            cfg->zone_path = optarg;
            break;
        case 'w':
            if (parse_num(optarg, 1, RESPONDER_MAX_WORKERS, &v) < 0)
                return usage_error("--workers: \"%s\" is not a number in 1..64", optarg);
            cfg->workers = (unsigned)v;
            break;
        case OPT_TCP_IDLE: {
            uint64_t ns;
            if (ah_dur_parse(optarg, &ns) < 0 || ns < 1000000 || ns > 86400ull * 1000000000)
                return usage_error("--tcp-idle-timeout: \"%s\" is not a duration between 1ms "
                                   "and 24h",
                                   optarg);
            cfg->tcp_idle_ms = ns / 1000000;
            break;
        }
        case OPT_TCP_IO: {
            uint64_t ns;
            if (ah_dur_parse(optarg, &ns) < 0 || ns < 1000000 || ns > 3600ull * 1000000000)
                return usage_error("--tcp-io-timeout: \"%s\" is not a duration between 1ms and 1h",
                                   optarg);
            cfg->tcp_io_ms = ns / 1000000;
            break;
        }
        case OPT_TCP_WRITE: {
            uint64_t ns;
            if (ah_dur_parse(optarg, &ns) < 0 || ns < 1000000 || ns > 3600ull * 1000000000)
                return usage_error("--tcp-write-timeout: \"%s\" is not a duration between 1ms "
                                   "and 1h",
                                   optarg);
            cfg->tcp_write_ms = ns / 1000000;
            break;
        }
        case OPT_TCP_BUDGET:
            if (ah_size_parse(optarg, &cfg->tcp_buffer_budget) < 0 ||
                cfg->tcp_buffer_budget > RESPONDER_TCP_BUDGET_MAX)
                return usage_error("--tcp-buffer-budget: \"%s\" is not a size up to 1T (e.g. "
                                   "32M)",
                                   optarg);
            break;
        case OPT_MAX_TCP:
            if (parse_num(optarg, 1, 1000000, &v) < 0)
                return usage_error("--max-tcp-clients: \"%s\" is not a number in 1..1000000",
                                   optarg);
            cfg->max_tcp_clients = (unsigned)v;
            break;
        case 'c':
            if (strlen(optarg) >= 100) /* sun_path holds 108 bytes */
                return usage_error("--control: \"%s\" is too long for a unix socket path", optarg);
            cfg->control_path = optarg;
            break;
        case OPT_CONTROL_MODE: {
            char *end;
            unsigned long m;
            errno = 0;
            m = strtoul(optarg, &end, 8);
            if (*optarg < '0' || *optarg > '7' || *end != '\0' || errno != 0 || m > 0777 ||
                (m & 0600) != 0600)
                return usage_error("--control-mode: \"%s\" is not an octal mode in 0600..0777 "
                                   "that gives the owner read and write",
                                   optarg);
            cfg->control_mode = (unsigned)m;
            break;
        }
        case OPT_CONTROL_CLIENTS:
            if (parse_num(optarg, 1, 1024, &v) < 0)
                return usage_error("--control-clients: \"%s\" is not a number in 1..1024", optarg);
            cfg->control_clients = (unsigned)v;
            break;
        case OPT_CONTROL_IDLE: {
            uint64_t ns;
            if (ah_dur_parse(optarg, &ns) < 0 || ns < 100000000 || ns > 3600ull * 1000000000)
                return usage_error("--control-idle-timeout: \"%s\" is not a duration between "
                                   "100ms and 1h",
                                   optarg);
            cfg->control_idle_ms = ns / 1000000;
            break;
        }
        case OPT_LOG_LEVEL: {
            enum ah_log_level lvl;
            if (ah_log_level_parse(optarg, &lvl) < 0)
                return usage_error("--log-level: \"%s\" is not one of error, warn, info, "
                                   "debug",
                                   optarg);
            ah_log_set_level(lvl);
            break;
        }
        case OPT_UDP_IO:
            if (strcmp(optarg, "mmsg") == 0)
                cfg->udp_io = UDP_IO_MMSG;
            else if (strcmp(optarg, "mmsg-onesock") == 0)
                cfg->udp_io = UDP_IO_MMSG_ONESOCK;
            else if (strcmp(optarg, "uv") == 0)
                cfg->udp_io = UDP_IO_UV;
            else
                return usage_error("--udp-io: \"%s\" is not mmsg, mmsg-onesock or uv", optarg);
            break;
        case OPT_UDP_BATCH:
            if (parse_num(optarg, 1, 1024, &v) < 0)
                return usage_error("--udp-batch: \"%s\" is not a number in 1..1024", optarg);
            cfg->udp_batch = (unsigned)v;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf(PROG " " AH_VERSION "\n");
            return 0;
        case ':':
            return usage_error("%s: missing argument", argv[optind - 1]);
        default:
            if (optopt != 0 && optopt < 256)
                return usage_error("unknown option -%c", optopt);
            return usage_error("unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument \"%s\"", argv[optind]);
    if (cfg->nlisten == 0)
        return usage_error("no address: give at least one --listen ADDR");
    if (!cfg->dns && !cfg->echo)
        return usage_error("--no-dns and --no-echo leave nothing to serve");
    if (cfg->dns && cfg->echo && cfg->dns_port == cfg->echo_port)
        return usage_error("--dns-port and --echo-port must differ");
    /* Each worker needs room for a few maximal messages of its own. */
    if (cfg->tcp_buffer_budget / cfg->workers < RESPONDER_TCP_BUDGET_MIN)
        return usage_error("--tcp-buffer-budget: at least 256K per worker (%u workers)",
                           cfg->workers);
    if (identity != NULL) {
        snprintf(cfg->identity, sizeof cfg->identity, "%s", identity);
    } else if (gethostname(cfg->identity, sizeof cfg->identity) < 0 ||
               valid_identity(cfg->identity) < 0) {
        return usage_error("the host name is not a usable identity: give --identity NAME");
    }
    return -1;
}

/* Every TCP client and socket needs a descriptor: raise the soft limit to
 * the hard one so --max-tcp-clients is not cut short by the default 1024. */
static void raise_nofile(unsigned want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)want + 64)
        ah_log_warn("open file limit %llu is below --max-tcp-clients %u: connections beyond "
                    "it fail to be accepted",
                    (unsigned long long)rl.rlim_cur, want);
}

struct main_ctx {
    struct responder *r;
    uv_signal_t sig_term;
    uv_signal_t sig_int;
    uv_signal_t sig_usr1;
    struct control *ctl;
    bool stopping;
};

static void stop_all(struct main_ctx *m)
{
    if (m->stopping)
        return;
    m->stopping = true;
    for (unsigned i = 0; i < m->r->nworkers; i++)
        worker_stop(m->r->workers[i]);
    uv_close((uv_handle_t *)&m->sig_term, NULL);
    uv_close((uv_handle_t *)&m->sig_int, NULL);
    uv_close((uv_handle_t *)&m->sig_usr1, NULL);
    /* Closing the watcher restores the default action, which for SIGUSR1
     * is to terminate: a stats request during the drain must not kill us.
     * A second SIGTERM/SIGINT does end the process at once, as usual. */
    signal(SIGUSR1, SIG_IGN);
    if (m->ctl != NULL)
        control_close(m->ctl);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct main_ctx *m = h->data;
    if (signum == SIGUSR1) {
        char line[2048];
        control_stats_line(m->r, line, sizeof line);
        ah_log_info("stats: %s", line);
        return;
    }
    ah_log_info("%s: stopping", strsignal(signum));
    stop_all(m);
}

static void describe_listen(const struct responder_config *cfg, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < cfg->nlisten && off < len; i++) {
        char a[AH_ADDR_STRLEN];
        ah_addr_format(&cfg->listen[i], false, a, sizeof a);
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", a);
    }
}

/* SIGTERM, SIGINT and SIGUSR1: blocked from the start of main() until run()
 * has its watchers, so a signal at start-up neither kills the responder
 * (exit 143 instead of 0) nor is lost. */
static sigset_t stop_sigs;

/* Runs the responder until SIGTERM/SIGINT. Returns the exit status. */
static int run(struct responder_config *cfg)
{
    struct responder r;
    struct main_ctx m;
    struct dns_zone *zone = NULL;
    struct dns_answerer *dns = NULL;
    uv_loop_t loop;
    bool loop_ok = false;
    char err[512];
    char where[1024];
    int status = 1;
    int rc;

    memset(&r, 0, sizeof r);
    memset(&m, 0, sizeof m);
    r.cfg = cfg;
    m.r = &r;
    if (cfg->dns) {
        if (cfg->zone_path != NULL) {
            rc = dns_zone_load(cfg->zone_path, &zone, err, sizeof err);
            if (rc < 0) {
                ah_log_error("%s", err[0] ? err : strerror(-rc));
                goto out;
            }
        }
        rc = dns_answerer_new(&dns, cfg->identity, zone);
        if (rc < 0) {
            ah_log_error("DNS answerer for identity \"%s\": %s", cfg->identity, strerror(-rc));
            goto out;
        }
        r.dns = dns;
    }
    r.workers = calloc(cfg->workers, sizeof *r.workers);
    if (r.workers == NULL)
        goto out;
    for (unsigned i = 0; i < cfg->workers; i++) {
        rc = worker_create(&r, i, &r.workers[i], err, sizeof err);
        if (rc < 0) {
            ah_log_error("%s", err);
            goto out;
        }
        r.nworkers++;
    }
    for (unsigned i = 0; i < r.nworkers; i++) {
        rc = worker_add_senders(r.workers[i], err, sizeof err);
        if (rc < 0) {
            ah_log_warn("%s: answering from the receiving sockets instead", err);
            break;
        }
    }
    rc = uv_loop_init(&loop);
    if (rc < 0) {
        ah_log_error("uv_loop_init: %s", uv_strerror(rc));
        goto out;
    }
    loop_ok = true;
    uv_signal_init(&loop, &m.sig_term);
    uv_signal_init(&loop, &m.sig_int);
    uv_signal_init(&loop, &m.sig_usr1);
    m.sig_term.data = m.sig_int.data = m.sig_usr1.data = &m;
    uv_signal_start(&m.sig_term, on_signal, SIGTERM);
    uv_signal_start(&m.sig_int, on_signal, SIGINT);
    uv_signal_start(&m.sig_usr1, on_signal, SIGUSR1);
    /* main() blocked these until the watchers exist (the parent may have
     * too): one that came meanwhile is handled now, as it would be later. */
    sigprocmask(SIG_UNBLOCK, &stop_sigs, NULL);
    if (cfg->control_path != NULL) {
        rc = control_open(&loop, &r, cfg->control_path, &m.ctl, err, sizeof err);
        if (rc < 0) {
            ah_log_error("%s", err);
            m.ctl = NULL;
            stop_all(&m);
            uv_run(&loop, UV_RUN_DEFAULT);
            goto out;
        }
    }
    for (unsigned i = 0; i < r.nworkers; i++) {
        rc = worker_start(r.workers[i]);
        if (rc < 0) {
            ah_log_error("worker %u: thread: %s", i, uv_strerror(rc));
            stop_all(&m);
            uv_run(&loop, UV_RUN_DEFAULT);
            goto out;
        }
    }
    describe_listen(cfg, where, sizeof where);
    err[0] = '\0';
    if (cfg->dns)
        snprintf(err, sizeof err, "dns port %u", cfg->dns_port);
    if (cfg->echo)
        snprintf(err + strlen(err), sizeof err - strlen(err), "%secho port %u",
                 cfg->dns ? ", " : "", cfg->echo_port);
    ah_log_info("identity \"%s\" on %s (%s), %u worker%s, udp-io %s", cfg->identity, where, err,
                cfg->workers, cfg->workers == 1 ? "" : "s",
                cfg->udp_io == UDP_IO_MMSG           ? "mmsg"
                : cfg->udp_io == UDP_IO_MMSG_ONESOCK ? "mmsg-onesock"
                                                     : "uv");
    uv_run(&loop, UV_RUN_DEFAULT);
    status = 0;

out:
    for (unsigned i = 0; i < r.nworkers; i++)
        if (worker_destroy(r.workers[i]) < 0)
            status = 1;
    free(r.workers);
    if (loop_ok) {
        rc = uv_loop_close(&loop);
        if (rc < 0) {
            ah_log_error("main loop: uv_loop_close: %s (handles left open)", uv_strerror(rc));
            status = 1;
        }
    }
    dns_answerer_free(dns);
    dns_zone_free(zone);
    return status;
}

int main(int argc, char **argv)
{
    struct responder_config cfg;
    int rc;

    sigemptyset(&stop_sigs);
    sigaddset(&stop_sigs, SIGTERM);
    sigaddset(&stop_sigs, SIGINT);
    sigaddset(&stop_sigs, SIGUSR1);
    sigprocmask(SIG_BLOCK, &stop_sigs, NULL);
    ah_log_init(PROG, AH_LOG_INFO);
    memset(&cfg, 0, sizeof cfg);
    cfg.dns_port = 53;
    cfg.echo_port = 7;
    cfg.dns = true;
    cfg.echo = true;
    cfg.workers = 1;
    cfg.tcp_idle_ms = 10000;
    cfg.tcp_io_ms = 500;
    cfg.tcp_write_ms = 20000;
    cfg.tcp_buffer_budget = 32ull << 20;
    cfg.max_tcp_clients = 10000;
    cfg.udp_io = UDP_IO_MMSG;
    cfg.udp_batch = 64;
    rc = parse_args(argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    raise_nofile(cfg.max_tcp_clients);
    signal(SIGPIPE, SIG_IGN);
    return run(&cfg);
}
