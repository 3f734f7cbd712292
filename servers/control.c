/* Control socket and command interpreter; see control.h. The socket is its
 * owner's: mode 0600 unless --control-mode widens it, and peers are checked
 * with SO_PEERCRED. Every client is bounded: a line of CTL_LINE_MAX bytes, at
 * most CONTROL_WQ_MAX bytes of unsent replies (its input is not read beyond
 * that), an idle timeout, and a fixed number of clients at once. */
#include "control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ah/log.h"
#include "ah/schema.h"
#include "stats.h"
#include "worker.h"

#define CTL_LINE_MAX  256
#define CTL_REPLY_MAX 2048
#define CTL_DELAY_MAX 3600000u /* one hour, in ms */

struct ctl_client {
    uv_pipe_t h;
    struct control *ctl;
    struct ctl_client *next;
    struct ctl_client *prev;
    char buf[CTL_LINE_MAX];
    size_t len;
    unsigned pending;   /* writes not yet completed */
    uint64_t active_ms; /* uv_now() of the accept or of the last complete line */
    bool eof;           /* no more input: EOF, a read error or a line too long */
    bool throttled;     /* input not read until the unsent replies drain */
};

struct control {
    uv_pipe_t server;
    uv_timer_t sweep; /* closes idle clients; runs while there are clients */
    struct responder *r;
    char *path;
    struct ctl_client *clients; /* newest first */
    unsigned nclients;
    unsigned max_clients;
    uint64_t idle_ms;
    uint64_t evict_ms; /* idle time after which a client may lose its slot */
    unsigned mode;
    unsigned gid;          /* the socket file's group */
    unsigned open_handles; /* server and sweep timer, until their close callbacks */
    uint64_t refused_log_ms;
    unsigned refused_unlogged;
    bool refused_logged;
    bool waiting; /* libuv holds a connection we have not accepted yet */
    bool closing;
};

struct ctl_wreq {
    uv_write_t req;
    struct ctl_client *cl;
    uv_buf_t buf;
    char data[];
};

void control_stats_line(struct responder *r, char *buf, size_t len)
{
    struct stats sum;
    int n;
    memset(&sum, 0, sizeof sum);
    for (unsigned i = 0; i < r->nworkers; i++)
        stats_accumulate(&sum, &r->workers[i]->stats);
    n = stats_format(&sum, buf, len);
    if (n < 0)
        n = 0;
    snprintf(buf + n, len - (size_t)n, " tcp_clients=%u paused=%d delay_ms=%u drop_pct=%u",
             atomic_load(&r->tcp_clients), atomic_load(&r->fault.paused) ? 1 : 0,
             atomic_load(&r->fault.delay_ms), atomic_load(&r->fault.drop_pct));
}

/* Parses a whole decimal number in [0, max]. */
static int parse_uint(const char *s, unsigned max, unsigned *out)
{
    char *end;
    unsigned long v;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (*end != '\0' || errno != 0 || v > max)
        return -EINVAL;
    *out = (unsigned)v;
    return 0;
}

/* Runs one NUL-terminated command line that has no control characters. */
static int run_command(struct responder *r, const char *line, char *out, size_t len)
{
    char cmd[CTL_LINE_MAX];
    char *verb, *arg, *extra, *save = NULL;
    unsigned v;

    snprintf(cmd, sizeof cmd, "%s", line);
    verb = strtok_r(cmd, " \t\r", &save);
    arg = verb ? strtok_r(NULL, " \t\r", &save) : NULL;
    extra = arg ? strtok_r(NULL, " \t\r", &save) : NULL;
    if (verb == NULL) {
        snprintf(out, len, "error empty command (try help)");
        return -EINVAL;
    }
    if (extra != NULL) {
        snprintf(out, len, "error %s: too many arguments", verb);
        return -EINVAL;
    }
    enum ah_control c;
    if (ah_schema_control_parse(verb, &c) < 0) {
        snprintf(out, len, "error unknown command \"%.64s\" (try help)", verb);
        return -EINVAL;
    }
    bool takes_arg = c == AH_CTL_DELAY || c == AH_CTL_DROP;
    if (takes_arg && arg == NULL) {
        snprintf(out, len, "error %s needs an argument (%s)", verb,
                 c == AH_CTL_DELAY ? "MS" : "PERCENT");
        return -EINVAL;
    }
    if (!takes_arg && arg != NULL) {
        snprintf(out, len, "error %s takes no argument", verb);
        return -EINVAL;
    }
    switch (c) {
    case AH_CTL_PAUSE:
    case AH_CTL_RESUME:
        atomic_store(&r->fault.paused, c == AH_CTL_PAUSE);
        snprintf(out, len, "ok %s", c == AH_CTL_PAUSE ? "paused" : "resumed");
        break;
    case AH_CTL_DELAY:
        if (parse_uint(arg, CTL_DELAY_MAX, &v) < 0) {
            snprintf(out, len, "error delay: \"%s\" is not a whole number of ms in 0..%u", arg,
                     CTL_DELAY_MAX);
            return -EINVAL;
        }
        atomic_store(&r->fault.delay_ms, v);
        snprintf(out, len, "ok delay %u", v);
        break;
    case AH_CTL_DROP:
        if (parse_uint(arg, 100, &v) < 0) {
            snprintf(out, len, "error drop: \"%s\" is not a whole percentage in 0..100", arg);
            return -EINVAL;
        }
        atomic_store(&r->fault.drop_pct, v);
        snprintf(out, len, "ok drop %u", v);
        break;
    case AH_CTL_STATS: {
        char line_buf[CTL_REPLY_MAX];
        control_stats_line(r, line_buf, sizeof line_buf);
        snprintf(out, len, "ok %s", line_buf);
        break;
    }
    case AH_CTL_HELP:
    default:
        snprintf(out, len, "ok commands: pause, resume, delay MS, drop PERCENT, stats, help");
        break;
    }
    return 0;
}

int control_execute_line(struct responder *r, const char *line, size_t len, char *out,
                         size_t outlen)
{
    char cmd[CTL_LINE_MAX];

    if (len >= sizeof cmd) {
        snprintf(out, outlen, "error line too long");
        return -EINVAL;
    }
    /* A NUL would end the C string early ("resume\0junk" would run resume)
     * and other control characters have no place in a command: the whole
     * line is refused rather than a part of it run. Tab and CR separate
     * words like a space. */
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)line[i];
        if (b == '\0') {
            snprintf(out, outlen, "error line has a NUL byte (at byte %zu)", i);
            return -EINVAL;
        }
        if ((b < 0x20 && b != '\t' && b != '\r') || b == 0x7f) {
            snprintf(out, outlen, "error line has control character 0x%02x (at byte %zu)", b, i);
            return -EINVAL;
        }
    }
    memcpy(cmd, line, len);
    cmd[len] = '\0';
    return run_command(r, cmd, out, outlen);
}

int control_execute(struct responder *r, const char *line, char *out, size_t len)
{
    return control_execute_line(r, line, strlen(line), out, len);
}

bool control_peer_allowed(unsigned peer_uid, unsigned peer_gid, unsigned uid, unsigned gid,
                          unsigned mode)
{
    if (peer_uid == 0 || peer_uid == uid)
        return true;
    return peer_gid == gid && (mode & 0020) != 0;
}

static void try_admit(struct control *ctl);

static void client_on_closed(uv_handle_t *h)
{
    free(h->data);
}

static void client_close(struct ctl_client *cl)
{
    struct control *ctl = cl->ctl;
    if (uv_is_closing((uv_handle_t *)&cl->h))
        return;
    if (cl->prev)
        cl->prev->next = cl->next;
    else
        ctl->clients = cl->next;
    if (cl->next)
        cl->next->prev = cl->prev;
    ctl->nclients--;
    uv_close((uv_handle_t *)&cl->h, client_on_closed);
    try_admit(ctl);
    if (ctl->nclients == 0 && !ctl->closing)
        uv_timer_stop(&ctl->sweep);
}

/* A last line to a client about to be closed, only if the socket takes it at
 * once: it must not wait in a queue. */
static void client_say(uv_stream_t *st, const char *text)
{
    char line[CTL_LINE_MAX];
    int n = snprintf(line, sizeof line, "%s\n", text);
    if (n > 0 && (size_t)n < sizeof line)
        (void)uv_try_write(st, &(uv_buf_t){.base = line, .len = (size_t)n}, 1);
}

static void client_process(struct ctl_client *cl);

static void client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct ctl_client *cl = h->data;
    (void)suggested;
    *buf = uv_buf_init(cl->buf + cl->len, (unsigned)(sizeof cl->buf - cl->len));
}

static void client_on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

static void client_on_write(uv_write_t *req, int status)
{
    struct ctl_wreq *wr = (struct ctl_wreq *)req;
    struct ctl_client *cl = wr->cl;
    free(wr);
    cl->pending--;
    if (uv_is_closing((uv_handle_t *)&cl->h))
        return;
    if (status < 0) {
        client_close(cl);
        return;
    }
    if (cl->throttled &&
        uv_stream_get_write_queue_size((uv_stream_t *)&cl->h) <= CONTROL_WQ_MAX / 2) {
        cl->throttled = false;
        client_process(cl);
        if (uv_is_closing((uv_handle_t *)&cl->h))
            return;
        if (!cl->throttled && !cl->eof) {
            if (uv_read_start((uv_stream_t *)&cl->h, client_alloc, client_on_read) < 0) {
                client_close(cl);
                return;
            }
        }
    }
    if (cl->eof && cl->pending == 0)
        client_close(cl);
}

/* Queues one reply line. Past CONTROL_WQ_MAX unsent bytes the client's input
 * is no longer read: a client that writes commands and never reads the
 * replies would otherwise make them pile up without bound. */
static void client_reply(struct ctl_client *cl, const char *text)
{
    size_t n = strlen(text);
    struct ctl_wreq *wr = malloc(sizeof *wr + n + 1);
    if (wr == NULL) {
        client_close(cl);
        return;
    }
    wr->cl = cl;
    memcpy(wr->data, text, n);
    wr->data[n] = '\n';
    wr->buf = uv_buf_init(wr->data, (unsigned)n + 1);
    if (uv_write(&wr->req, (uv_stream_t *)&cl->h, &wr->buf, 1, client_on_write) < 0) {
        free(wr);
        client_close(cl);
        return;
    }
    cl->pending++;
    if (!cl->throttled && uv_stream_get_write_queue_size((uv_stream_t *)&cl->h) > CONTROL_WQ_MAX) {
        cl->throttled = true;
        uv_read_stop((uv_stream_t *)&cl->h);
    }
}

/* Runs the complete lines in the client's buffer, until none is left or the
 * client is throttled (the rest then waits in the buffer). */
static void client_process(struct ctl_client *cl)
{
    char reply[CTL_REPLY_MAX];
    char *nl;

    while (!cl->throttled && (nl = memchr(cl->buf, '\n', cl->len)) != NULL) {
        size_t used = (size_t)(nl - cl->buf) + 1;
        size_t ll = used - 1;
        if (ll > 0 && cl->buf[ll - 1] == '\r')
            ll--;
        /* Only a complete line counts as activity: a client trickling a
         * line byte by byte is idle. */
        cl->active_ms = uv_now(cl->h.loop);
        if (ll > 0) {
            int rc = control_execute_line(cl->ctl->r, cl->buf, ll, reply, sizeof reply);
            /* ah_log escapes the line; a NUL ends it, the reply says where. */
            const char *stats = ah_schema_control_name(AH_CTL_STATS);
            if (rc < 0 || ll < strlen(stats) || strncmp(cl->buf, stats, strlen(stats)) != 0)
                ah_log_info("control: %.*s -> %s", (int)ll, cl->buf, reply);
            client_reply(cl, reply);
            if (uv_is_closing((uv_handle_t *)&cl->h))
                return;
        }
        memmove(cl->buf, cl->buf + used, cl->len - used);
        cl->len -= used;
    }
    if (!cl->throttled && !cl->eof && cl->len == sizeof cl->buf) {
        client_reply(cl, "error line too long");
        if (uv_is_closing((uv_handle_t *)&cl->h))
            return;
        cl->eof = true;
        uv_read_stop((uv_stream_t *)&cl->h);
        if (cl->pending == 0)
            client_close(cl);
    }
}

static void client_on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct ctl_client *cl = st->data;
    (void)buf;

    if (nread < 0) {
        cl->eof = true;
        uv_read_stop(st);
        if (nread != UV_EOF || cl->pending == 0)
            client_close(cl);
        return;
    }
    cl->len += (size_t)nread;
    client_process(cl);
}

/* Closes clients idle for idle_ms: no complete line in that time, be it
 * because they send nothing, hold half a line, or stopped reading their
 * replies (throttled: their input is not read, so no line can arrive). Then
 * lets a waiting client in if one of the others has become evictable. */
static void on_sweep(uv_timer_t *t)
{
    struct control *ctl = t->data;
    uint64_t now = uv_now(t->loop);
    struct ctl_client *cl, *next;

    for (cl = ctl->clients; cl != NULL; cl = next) {
        next = cl->next;
        if (now - cl->active_ms < ctl->idle_ms)
            continue;
        if (cl->throttled)
            ah_log_warn("control: dropping a client that left %zu bytes of replies unread for "
                        "%llu ms",
                        uv_stream_get_write_queue_size((uv_stream_t *)&cl->h),
                        (unsigned long long)ctl->idle_ms);
        else if (cl->len > 0)
            ah_log_info("control: closing a client that held %zu bytes of an unfinished line "
                        "for %llu ms",
                        cl->len, (unsigned long long)ctl->idle_ms);
        else
            ah_log_debug("control: closing a client idle for %llu ms",
                         (unsigned long long)ctl->idle_ms);
        client_say((uv_stream_t *)&cl->h, "error idle timeout, closing");
        client_close(cl);
    }
    try_admit(ctl);
}

/* Logs a refused peer, at most once a second (a refused user must not be
 * able to flood the log); the next line counts the ones left out. */
static void log_refused(struct control *ctl, unsigned uid, long pid)
{
    uint64_t now = uv_now(ctl->server.loop);
    if (ctl->refused_logged && now - ctl->refused_log_ms < 1000) {
        ctl->refused_unlogged++;
        return;
    }
    ah_log_warn("control: refused a client of uid %u (pid %ld): only root and uid %u may use %s "
                "(%u more refused before)",
                uid, pid, (unsigned)geteuid(), ctl->path, ctl->refused_unlogged);
    ctl->refused_logged = true;
    ctl->refused_log_ms = now;
    ctl->refused_unlogged = 0;
}

/* Accepts the connection libuv holds for us and serves it, unless the peer
 * may not use the socket. There is a free slot. */
static void accept_one(struct control *ctl)
{
    uv_loop_t *loop = ctl->server.loop;
    struct ctl_client *cl;
    struct ucred cred;
    socklen_t clen = sizeof cred;
    uv_os_fd_t fd;

    memset(&cred, 0xff, sizeof cred); /* shown as uid -1 if it cannot be had */
    cl = calloc(1, sizeof *cl);
    if (cl == NULL) {
        ctl->waiting = true; /* tried again by the next sweep or close */
        return;
    }
    cl->ctl = ctl;
    uv_pipe_init(loop, &cl->h, 0);
    cl->h.data = cl;
    if (uv_accept((uv_stream_t *)&ctl->server, (uv_stream_t *)&cl->h) < 0) {
        uv_close((uv_handle_t *)&cl->h, client_on_closed);
        return;
    }
    /* The file mode decides who can connect; this decides who is served.
     * A mode widened by --control-mode 0666 lets anyone connect, never
     * pause the responder. */
    if (uv_fileno((uv_handle_t *)&cl->h, &fd) < 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || clen != sizeof cred ||
        !control_peer_allowed(cred.uid, cred.gid, (unsigned)geteuid(), ctl->gid, ctl->mode)) {
        log_refused(ctl, cred.uid, (long)cred.pid);
        client_say((uv_stream_t *)&cl->h, "error permission denied: only root and the "
                                          "responder's user may use its control socket");
        uv_close((uv_handle_t *)&cl->h, client_on_closed);
        return;
    }
    cl->active_ms = uv_now(loop);
    cl->next = ctl->clients;
    if (ctl->clients)
        ctl->clients->prev = cl;
    ctl->clients = cl;
    ctl->nclients++;
    if (!uv_is_active((uv_handle_t *)&ctl->sweep)) {
        /* Often enough for a waiting client to get the slot of one idle
         * for evict_ms soon after, rarely enough to cost nothing. */
        uint64_t every = ctl->evict_ms / 4;
        every = every < 20 ? 20 : every > 250 ? 250 : every;
        uv_timer_start(&ctl->sweep, on_sweep, every, every);
    }
    if (uv_read_start((uv_stream_t *)&cl->h, client_alloc, client_on_read) < 0)
        client_close(cl);
}

/* Lets the waiting connection in when there is a slot, or when the client
 * idle longest has been idle for evict_ms: it is closed for the new one.
 * New clients are thus served rather than refused, so a drill's command
 * gets through when forgotten connections hold every slot; and a burst of
 * clients that are being served waits its turn instead of one closing the
 * next before it was read. Until then libuv keeps the connection accepted
 * but unserved (it stops accepting more), and the kernel queues further
 * ones in the listen backlog. */
static void try_admit(struct control *ctl)
{
    if (!ctl->waiting || ctl->closing)
        return;
    if (ctl->nclients >= ctl->max_clients) {
        struct ctl_client *old = NULL;
        uint64_t now = uv_now(ctl->server.loop);
        char msg[128];

        for (struct ctl_client *cl = ctl->clients; cl != NULL; cl = cl->next)
            if (old == NULL || cl->active_ms <= old->active_ms)
                old = cl;
        if (old == NULL || now - old->active_ms < ctl->evict_ms)
            return;
        /* Claimed before the close, which calls us again. */
        ctl->waiting = false;
        ah_log_info("control: %u clients open (the limit): closing the one idle longest "
                    "(%llu ms) for a new one",
                    ctl->nclients, (unsigned long long)(now - old->active_ms));
        snprintf(msg, sizeof msg, "error closed for a new client (at most %u clients)",
                 ctl->max_clients);
        client_say((uv_stream_t *)&old->h, msg);
        client_close(old);
    }
    ctl->waiting = false;
    accept_one(ctl);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct control *ctl = server->data;
    if (status < 0)
        return;
    ctl->waiting = true;
    try_admit(ctl);
}

static void ctl_on_closed(uv_handle_t *h)
{
    struct control *ctl = h->data;
    if (--ctl->open_handles > 0)
        return;
    free(ctl->path);
    free(ctl);
}

/* Checks PATH's directory first: libuv reports a missing directory as
 * "permission denied" (it maps ENOENT to EACCES), which sends the user
 * looking for the wrong problem. Returns 0 or a negative errno. */
static int check_dir(const char *path, char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    char dir[128];
    struct stat st;

    if (slash == NULL)
        return 0;
    snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    if (stat(dir, &st) < 0) {
        int e = errno;
        snprintf(err, errlen, "--control %s: directory %s: %s", path, dir, strerror(e));
        return -e;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "--control %s: %s is not a directory", path, dir);
        return -ENOTDIR;
    }
    return 0;
}

/* True if a process listens on the unix socket at PATH. Non-blocking: a
 * full backlog (EAGAIN) means someone listens, and must not hang us. */
static bool socket_in_use(const char *path)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    bool used;

    if (fd < 0)
        return false;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    used = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 || errno == EAGAIN;
    close(fd);
    return used;
}

/* A socket file left by a killed run would make bind fail, so it goes; one a
 * running responder still serves stays (taking it over would silently cut
 * that responder off from its drills), and so does anything else at PATH:
 * it is the user's. */
static int remove_stale(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        if (socket_in_use(path)) {
            snprintf(err, errlen, "--control %s: in use by a running process (another responder?)",
                     path);
            return -EADDRINUSE;
        }
        unlink(path);
    }
    return 0;
}

/* Creates the listening socket's file at path with exactly ctl->mode, and
 * records its group. Returns the socket or -errno with *what naming the
 * call that failed; *bound says whether the file was created. */
static int bind_private(struct control *ctl, const char *path, bool *bound, const char **what)
{
    struct sockaddr_un sa;
    struct stat st;
    int rc = 0;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *what = "socket";
        return -errno;
    }
    /* Linux creates the socket file with the socket's own mode less the
     * umask, so after this fchmod it is born no wider than the mode asked
     * for, without touching the umask (process-wide, and other threads may
     * create files). The chmod below then only ever restores bits the
     * umask took away; no client can connect before listen() anyway. */
    if (fchmod(fd, ctl->mode) < 0) {
        rc = -errno;
        *what = "fchmod";
        goto out;
    }
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        rc = -errno;
        goto out;
    }
    *bound = true;
    if (lstat(path, &st) < 0) {
        rc = -errno;
        *what = "lstat";
        goto out;
    }
    if ((st.st_mode & 07777) != ctl->mode && chmod(path, ctl->mode) < 0) {
        rc = -errno;
        *what = "chmod";
        goto out;
    }
    ctl->gid = (unsigned)st.st_gid;
out:
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

int control_open(uv_loop_t *loop, struct responder *r, const char *path, struct control **out,
                 char *err, size_t errlen)
{
    const struct responder_config *cfg = r->cfg;
    struct control *ctl;
    const char *what = NULL;
    bool bound = false;
    int fd = -1;
    int rc;

    rc = check_dir(path, err, errlen);
    if (rc < 0)
        return rc;
    rc = remove_stale(path, err, errlen);
    if (rc < 0)
        return rc;
    ctl = calloc(1, sizeof *ctl);
    if (ctl == NULL || (ctl->path = strdup(path)) == NULL) {
        free(ctl);
        snprintf(err, errlen, "--control %s: %s", path, strerror(ENOMEM));
        return -ENOMEM;
    }
    ctl->r = r;
    ctl->mode = cfg && cfg->control_mode ? cfg->control_mode : CONTROL_MODE_DEFAULT;
    ctl->max_clients = cfg && cfg->control_clients ? cfg->control_clients : CONTROL_CLIENTS_DEFAULT;
    ctl->idle_ms = cfg && cfg->control_idle_ms ? cfg->control_idle_ms : CONTROL_IDLE_MS_DEFAULT;
    ctl->evict_ms = ctl->idle_ms / 2 < CONTROL_EVICT_MS ? ctl->idle_ms / 2 : CONTROL_EVICT_MS;
    uv_pipe_init(loop, &ctl->server, 0);
    uv_timer_init(loop, &ctl->sweep);
    ctl->server.data = ctl->sweep.data = ctl;
    ctl->open_handles = 2;

    fd = rc = bind_private(ctl, path, &bound, &what);
    if (rc < 0)
        goto out;
    rc = uv_pipe_open(&ctl->server, fd);
    if (rc < 0) {
        what = "uv_pipe_open";
        goto out;
    }
    fd = -1; /* the handle owns it now */
    rc = uv_listen((uv_stream_t *)&ctl->server, 16, on_connection);
    if (rc < 0)
        what = "listen";
out:
    if (rc < 0) {
        snprintf(err, errlen, "--control %s: %s%s%s", path, what ? what : "", what ? ": " : "",
                 strerror(-rc));
        if (fd >= 0)
            close(fd);
        if (bound)
            unlink(path);
        uv_close((uv_handle_t *)&ctl->server, ctl_on_closed);
        uv_close((uv_handle_t *)&ctl->sweep, ctl_on_closed);
        return rc;
    }
    *out = ctl;
    return 0;
}

void control_usage(const struct control *ctl, unsigned *clients, size_t *queued)
{
    size_t q = 0;
    for (const struct ctl_client *cl = ctl->clients; cl != NULL; cl = cl->next)
        q += uv_stream_get_write_queue_size((const uv_stream_t *)&cl->h);
    *clients = ctl->nclients;
    *queued = q;
}

void control_close(struct control *ctl)
{
    if (ctl->closing)
        return;
    ctl->closing = true;
    while (ctl->clients != NULL)
        client_close(ctl->clients);
    unlink(ctl->path);
    uv_close((uv_handle_t *)&ctl->server, ctl_on_closed);
    uv_close((uv_handle_t *)&ctl->sweep, ctl_on_closed);
}
