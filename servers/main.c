/* anycast-responder: a paired UDP+TCP DNS and echo responder bound to one or
 * more anycast addresses, answering with its node identity (docs/anycast-responder.md).
 * This file parses options, builds the shared state, starts the workers and
 * runs the main thread's loop: signals and the control socket. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "ah/addr.h"
#include "ah/clock.h"
#include "ah/log.h"
#include "ah/opt.h"
#include "config.h"
#include "control.h"
#include "dns_answer.h"
#include "worker.h"

#define PROG "anycast-responder"

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

static int opt_listen(const struct ah_opt *opt, void *base, const char *val, char *err,
                      size_t errlen)
{
    struct responder_config *cfg = base;
    (void)opt;
    if (cfg->nlisten == RESPONDER_MAX_LISTEN) {
        snprintf(err, errlen, "at most %d addresses", RESPONDER_MAX_LISTEN);
        return -E2BIG;
    }
    if (ah_addr_parse_ip(val, &cfg->listen[cfg->nlisten]) < 0) {
        snprintf(err, errlen, "\"%s\" is not an IPv4 or IPv6 address", val);
        return -EINVAL;
    }
    for (size_t i = 0; i < cfg->nlisten; i++) {
        if (ah_addr_equal_ip(&cfg->listen[i], &cfg->listen[cfg->nlisten])) {
            snprintf(err, errlen, "%s is given twice", val);
            return -EINVAL;
        }
    }
    cfg->nlisten++;
    return 0;
}

static int opt_identity(const struct ah_opt *opt, void *base, const char *val, char *err,
                        size_t errlen)
{
    struct responder_config *cfg = base;
    (void)opt;
    if (valid_identity(val) < 0) {
        snprintf(err, errlen, "\"%s\" must be 1..255 printable characters without spaces", val);
        return -EINVAL;
    }
    snprintf(cfg->identity, sizeof cfg->identity, "%s", val);
    return 0;
}

static int opt_control_mode(const struct ah_opt *opt, void *base, const char *val, char *err,
                            size_t errlen)
{
    struct responder_config *cfg = base;
    char *end;
    unsigned long m;
    (void)opt;
    errno = 0;
    m = strtoul(val, &end, 8);
    if (*val < '0' || *val > '7' || *end != '\0' || errno != 0 || m > 0777 || (m & 0600) != 0600) {
        snprintf(err, errlen,
                 "\"%s\" is not an octal mode in 0600..0777 that gives the owner read and write",
                 val);
        return -EINVAL;
    }
    cfg->control_mode = (unsigned)m;
    return 0;
}

static int opt_log_level(const struct ah_opt *opt, void *base, const char *val, char *err,
                         size_t errlen)
{
    enum ah_log_level lvl;
    (void)opt;
    (void)base;
    if (ah_log_level_parse(val, &lvl) < 0) {
        snprintf(err, errlen, "\"%s\" is not one of error, warn, info, debug", val);
        return -EINVAL;
    }
    ah_log_set_level(lvl);
    return 0;
}

static const struct ah_opt_choice udp_io_names[] = {
    {"mmsg", UDP_IO_MMSG},
    {"mmsg-onesock", UDP_IO_MMSG_ONESOCK},
    {"uv", UDP_IO_UV},
    {NULL, 0},
};

#define CFG(member) AH_OPT_AT(struct responder_config, member)
#define MS          .unit = AH_NS_PER_MS
#define PORT_WHY    " is not a port in 1..65535"

/* The option table: getopt_long's arguments, the checks and --help are all
 * made from it, so an option cannot exist without its documentation. */
static const struct ah_opt opts[] = {
    {"listen", 'l', AH_OPT_CALL, .fn = opt_listen, .metavar = "ADDR",
     .help = "answer on ADDR, IPv4 or IPv6 (repeatable; each socket is bound to exactly this "
             "address, never the wildcard)"},
    {"dns-port", 0, AH_OPT_UINT, CFG(dns_port), .min = 1, .max = 65535, .why = PORT_WHY,
     .metavar = "PORT", .help = "DNS port, UDP and TCP (default 53)"},
    {"echo-port", 0, AH_OPT_UINT, CFG(echo_port), .min = 1, .max = 65535, .why = PORT_WHY,
     .metavar = "PORT", .help = "echo port, UDP and TCP (default 7)"},
    {"identity", 'i', AH_OPT_CALL, .fn = opt_identity, .metavar = "NAME",
     .help = "node identity for hostname.bind, id.server, NSID and echo (default: the host "
             "name)"},
    {"no-dns", 0, AH_OPT_FLAG_OFF, CFG(dns), .help = "do not serve DNS"},
    {"no-echo", 0, AH_OPT_FLAG_OFF, CFG(echo), .help = "do not serve echo"},
    {"zone", 'z', AH_OPT_STRING, CFG(zone_path), .metavar = "FILE",
     .help = "answer the names of this master file authoritatively"},
    {"workers", 'w', AH_OPT_UINT, CFG(workers), .min = 1, .max = RESPONDER_MAX_WORKERS,
     .metavar = "N",
     .help = "worker threads, each with its own loop and SO_REUSEPORT sockets (default 1)"},
    {"tcp-idle-timeout", 0, AH_OPT_DUR, CFG(tcp_idle_ms), MS, .min = AH_NS_PER_MS,
     .max = 24 * 3600 * AH_NS_PER_S, .metavar = "DUR",
     .help = "close TCP connections idle this long, e.g. 10s, 500ms (default 10s)"},
    {"tcp-io-timeout", 0, AH_OPT_DUR, CFG(tcp_io_ms), MS, .min = AH_NS_PER_MS,
     .max = 3600 * AH_NS_PER_S, .metavar = "DUR",
     .help = "close a TCP connection whose message is not complete DUR after its first byte "
             "(default 500ms)"},
    {"tcp-write-timeout", 0, AH_OPT_DUR, CFG(tcp_write_ms), MS, .min = AH_NS_PER_MS,
     .max = 3600 * AH_NS_PER_S, .metavar = "DUR",
     .help = "reset a TCP connection whose queued answers do not move (no byte taken by the "
             "kernel or acknowledged by the client) for DUR (default 20s)"},
    {"max-tcp-clients", 0, AH_OPT_UINT, CFG(max_tcp_clients), .min = 1, .max = 1000000,
     .metavar = "N",
     .help = "concurrent TCP connections over all workers; beyond it a new connection closes "
             "the least recently read one of its worker (default 10000)"},
    {"tcp-buffer-budget", 0, AH_OPT_SIZE, CFG(tcp_buffer_budget), .max = RESPONDER_TCP_BUDGET_MAX,
     .why = " is not a size up to 1T (e.g. 32M)", .metavar = "SIZE",
     .help = "memory for incomplete TCP messages and unsent answers over all workers, e.g. "
             "32M, 512K; over it the oldest are closed (default 32M)"},
    /* sun_path holds 108 bytes. */
    {"control", 'c', AH_OPT_STRING, CFG(control_path), .max = 99,
     .why = " is too long for a unix socket path", .metavar = "PATH",
     .help = "control socket (unix stream; one command per line: pause, resume, delay MS, drop "
             "PERCENT, stats, help); only root and the responder's user are served"},
    {"control-mode", 0, AH_OPT_CALL, .fn = opt_control_mode, .metavar = "MODE",
     .help = "octal file mode of the control socket, 0600..0777 (default 0600, whatever the "
             "umask)"},
    {"control-clients", 0, AH_OPT_UINT, CFG(control_clients), .min = 1, .max = 1024, .metavar = "N",
     .help = "control clients at once, 1..1024; a new one waits, or takes the slot of one idle "
             "for 1s (default 16)"},
    {"control-idle-timeout", 0, AH_OPT_DUR, CFG(control_idle_ms), MS, .min = 100 * AH_NS_PER_MS,
     .max = 3600 * AH_NS_PER_S, .metavar = "DUR",
     .help = "close control clients without a complete line (or not reading their replies) "
             "this long (default 10s)"},
    {"log-level", 0, AH_OPT_CALL, .fn = opt_log_level, .metavar = "LEVEL",
     .help = "error, warn, info or debug (default info)"},
    {"help", 'h', AH_OPT_HELP, .help = "show this help and exit"},
    {"version", 'V', AH_OPT_VERSION, .help = "show the version and exit"},
    {"udp-io", 0, AH_OPT_CHOICE, CFG(udp_io), .choices = udp_io_names, .metavar = "MODE",
     .section = "Advanced",
     .help = "UDP path: mmsg = uv_poll with recvmmsg/sendmmsg batches, answers sent from a "
             "send-only twin socket (default); mmsg-onesock = the same from the receiving "
             "socket; uv = libuv uv_udp, one sendmsg per answer"},
    {"udp-batch", 0, AH_OPT_UINT, CFG(udp_batch), .min = 1, .max = 1024, .metavar = "N",
     .help = "datagrams per recvmmsg/sendmmsg call on the mmsg path, 1..1024 (default 64)"},
    {"no-udp-gso", 0, AH_OPT_FLAG_OFF, CFG(udp_gso),
     .help = "on the mmsg paths, send every answer as a message of its own instead of "
             "consecutive answers to one peer as one UDP GSO message"},
    {"no-udp-gro", 0, AH_OPT_FLAG_OFF, CFG(udp_gro),
     .help = "on the mmsg paths, read every query as a datagram of its own instead of letting "
             "the kernel hand over runs of queries from one peer as one buffer (UDP GRO)"},
};

static const struct ah_opt_cmd cmd = {
    .program = PROG,
    .version = AH_VERSION,
    .usage = "Usage: " PROG " --listen ADDR [--listen ADDR]... [OPTION]...\n"
             "Paired UDP+TCP DNS and echo responder for anycast labs: answers CH TXT "
             "hostname.bind,\nid.server and NSID with its identity, names of an optional zone, "
             "REFUSED otherwise;\necho replies \"<identity> <line>\".\n",
    .footer = "Signals: SIGUSR1 logs the stats line; SIGTERM/SIGINT stop (exit 0).\n"
              "Exit status: 0 ok, 1 runtime failure, 2 bad usage.\n",
    .opts = opts,
    .nopts = sizeof opts / sizeof opts[0],
};

static void set_defaults(struct responder_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->dns_port = 53;
    cfg->echo_port = 7;
    cfg->dns = true;
    cfg->echo = true;
    cfg->workers = 1;
    cfg->tcp_idle_ms = 10000;
    cfg->tcp_io_ms = 500;
    cfg->tcp_write_ms = 20000;
    cfg->tcp_buffer_budget = 32ull << 20;
    cfg->max_tcp_clients = 10000;
    cfg->udp_io = UDP_IO_MMSG;
    cfg->udp_batch = 64;
    cfg->udp_gso = true;
    cfg->udp_gro = true;
}

/* The checks that involve more than one option, after parsing. */
static int check_args(struct responder_config *cfg)
{
    if (cfg->nlisten == 0)
        return ah_opt_error(&cmd, "no address: give at least one --listen ADDR");
    if (!cfg->dns && !cfg->echo)
        return ah_opt_error(&cmd, "--no-dns and --no-echo leave nothing to serve");
    if (cfg->dns && cfg->echo && cfg->dns_port == cfg->echo_port)
        return ah_opt_error(&cmd, "--dns-port and --echo-port must differ");
    /* Each worker needs room for a few maximal messages of its own. */
    if (cfg->tcp_buffer_budget / cfg->workers < RESPONDER_TCP_BUDGET_MIN)
        return ah_opt_error(&cmd, "--tcp-buffer-budget: at least 256K per worker (%u workers)",
                            cfg->workers);
    if (cfg->identity[0] == '\0' &&
        (gethostname(cfg->identity, sizeof cfg->identity) < 0 || valid_identity(cfg->identity) < 0))
        return ah_opt_error(&cmd, "the host name is not a usable identity: give --identity NAME");
    return 0;
}

/* Parses argv into cfg. Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct responder_config *cfg)
{
    int operand;
    int rc = ah_opt_parse(&cmd, cfg, argc, argv, &operand);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (operand < argc) {
        ah_opt_error(&cmd, "unexpected argument \"%s\"", argv[operand]);
        return 2;
    }
    return check_args(cfg) < 0 ? 2 : -1;
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

/* The DNS answerer (with the zone, if any), unless DNS is off. */
static int build_dns(struct responder *r, struct dns_zone **zone, struct dns_answerer **dns)
{
    const struct responder_config *cfg = r->cfg;
    char err[512] = "";
    int rc;
    if (!cfg->dns)
        return 0;
    if (cfg->zone_path != NULL) {
        rc = dns_zone_load(cfg->zone_path, zone, err, sizeof err);
        if (rc < 0) {
            ah_log_error("%s", err[0] ? err : strerror(-rc));
            return rc;
        }
    }
    rc = dns_answerer_new(dns, cfg->identity, *zone);
    if (rc < 0) {
        ah_log_error("DNS answerer for identity \"%s\": %s", cfg->identity, strerror(-rc));
        return rc;
    }
    r->dns = *dns;
    return 0;
}

/* The workers with their sockets; r->nworkers counts those made. */
static int create_workers(struct responder *r)
{
    char err[512];
    int rc;
    r->workers = calloc(r->cfg->workers, sizeof *r->workers);
    if (r->workers == NULL)
        return -ENOMEM;
    for (unsigned i = 0; i < r->cfg->workers; i++) {
        rc = worker_create(r, i, &r->workers[i], err, sizeof err);
        if (rc < 0) {
            ah_log_error("%s", err);
            return rc;
        }
        r->nworkers++;
    }
    for (unsigned i = 0; i < r->nworkers; i++) {
        rc = worker_add_senders(r->workers[i], err, sizeof err);
        if (rc < 0) {
            ah_log_warn("%s: answering from the receiving sockets instead", err);
            break;
        }
    }
    return 0;
}

static void watch_signals(uv_loop_t *loop, struct main_ctx *m)
{
    uv_signal_init(loop, &m->sig_term);
    uv_signal_init(loop, &m->sig_int);
    uv_signal_init(loop, &m->sig_usr1);
    m->sig_term.data = m->sig_int.data = m->sig_usr1.data = m;
    uv_signal_start(&m->sig_term, on_signal, SIGTERM);
    uv_signal_start(&m->sig_int, on_signal, SIGINT);
    uv_signal_start(&m->sig_usr1, on_signal, SIGUSR1);
    /* main() blocked these until the watchers exist (the parent may have
     * too): one that came meanwhile is handled now, as it would be later. */
    sigprocmask(SIG_UNBLOCK, &stop_sigs, NULL);
}

/* The control socket, then the worker threads. On failure everything is
 * stopped and the loop run until its handles are closed. */
static int start_serving(uv_loop_t *loop, struct main_ctx *m)
{
    struct responder *r = m->r;
    char err[512];
    int rc = 0;
    if (r->cfg->control_path != NULL) {
        rc = control_open(loop, r, r->cfg->control_path, &m->ctl, err, sizeof err);
        if (rc < 0) {
            ah_log_error("%s", err);
            m->ctl = NULL;
        }
    }
    for (unsigned i = 0; i < r->nworkers && rc >= 0; i++) {
        rc = worker_start(r->workers[i]);
        if (rc < 0)
            ah_log_error("worker %u: thread: %s", i, uv_strerror(rc));
    }
    if (rc < 0) {
        stop_all(m);
        uv_run(loop, UV_RUN_DEFAULT);
    }
    return rc;
}

static void log_started(const struct responder_config *cfg)
{
    char where[1024], ports[64] = "";
    describe_listen(cfg, where, sizeof where);
    if (cfg->dns)
        snprintf(ports, sizeof ports, "dns port %u", cfg->dns_port);
    if (cfg->echo)
        snprintf(ports + strlen(ports), sizeof ports - strlen(ports), "%secho port %u",
                 cfg->dns ? ", " : "", cfg->echo_port);
    ah_log_info("identity \"%s\" on %s (%s), %u worker%s, udp-io %s", cfg->identity, where, ports,
                cfg->workers, cfg->workers == 1 ? "" : "s",
                cfg->udp_io == UDP_IO_MMSG           ? "mmsg"
                : cfg->udp_io == UDP_IO_MMSG_ONESOCK ? "mmsg-onesock"
                                                     : "uv");
}

/* Runs the responder until SIGTERM/SIGINT. Returns the exit status. */
static int run(struct responder_config *cfg)
{
    struct responder r;
    struct main_ctx m;
    struct dns_zone *zone = NULL;
    struct dns_answerer *dns = NULL;
    uv_loop_t loop;
    bool loop_ok = false;
    int status = 1;
    int rc;

    memset(&r, 0, sizeof r);
    memset(&m, 0, sizeof m);
    r.cfg = cfg;
    m.r = &r;
    if (build_dns(&r, &zone, &dns) < 0 || create_workers(&r) < 0)
        goto out;
    rc = uv_loop_init(&loop);
    if (rc < 0) {
        ah_log_error("uv_loop_init: %s", uv_strerror(rc));
        goto out;
    }
    loop_ok = true;
    watch_signals(&loop, &m);
    if (start_serving(&loop, &m) < 0)
        goto out;
    log_started(cfg);
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
    set_defaults(&cfg);
    rc = parse_args(argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    raise_nofile(cfg.max_tcp_clients);
    signal(SIGPIPE, SIG_IGN);
    return run(&cfg);
}
