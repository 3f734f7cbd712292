/* Control socket and command interpreter; see control.h. */
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
    unsigned pending; /* writes not yet completed */
    bool eof;
};

struct control {
    uv_pipe_t server;
    struct responder *r;
    char *path;
    struct ctl_client *clients;
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

int control_execute(struct responder *r, const char *line, char *out, size_t len)
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
    if (strcmp(verb, "pause") == 0 && arg == NULL) {
        atomic_store(&r->fault.paused, true);
        snprintf(out, len, "ok paused");
    } else if (strcmp(verb, "resume") == 0 && arg == NULL) {
        atomic_store(&r->fault.paused, false);
        snprintf(out, len, "ok resumed");
    } else if (strcmp(verb, "delay") == 0 && arg != NULL) {
        if (parse_uint(arg, CTL_DELAY_MAX, &v) < 0) {
            snprintf(out, len, "error delay: \"%s\" is not a whole number of ms in 0..%u", arg,
                     CTL_DELAY_MAX);
            return -EINVAL;
        }
        atomic_store(&r->fault.delay_ms, v);
        snprintf(out, len, "ok delay %u", v);
    } else if (strcmp(verb, "drop") == 0 && arg != NULL) {
        if (parse_uint(arg, 100, &v) < 0) {
            snprintf(out, len, "error drop: \"%s\" is not a whole percentage in 0..100", arg);
            return -EINVAL;
        }
        atomic_store(&r->fault.drop_pct, v);
        snprintf(out, len, "ok drop %u", v);
    } else if (strcmp(verb, "stats") == 0 && arg == NULL) {
        char line_buf[CTL_REPLY_MAX];
        control_stats_line(r, line_buf, sizeof line_buf);
        snprintf(out, len, "ok %s", line_buf);
    } else if (strcmp(verb, "help") == 0 && arg == NULL) {
        snprintf(out, len, "ok commands: pause, resume, delay MS, drop PERCENT, stats, help");
    } else if (strcmp(verb, "pause") == 0 || strcmp(verb, "resume") == 0 ||
               strcmp(verb, "stats") == 0 || strcmp(verb, "help") == 0) {
        snprintf(out, len, "error %s takes no argument", verb);
        return -EINVAL;
    } else if (strcmp(verb, "delay") == 0 || strcmp(verb, "drop") == 0) {
        snprintf(out, len, "error %s needs an argument (%s)", verb,
                 verb[1] == 'e' ? "MS" : "PERCENT");
        return -EINVAL;
    } else {
        snprintf(out, len, "error unknown command \"%.64s\" (try help)", verb);
        return -EINVAL;
    }
    return 0;
}

static void client_on_closed(uv_handle_t *h)
{
    struct ctl_client *cl = h->data;
    free(cl);
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
    uv_close((uv_handle_t *)&cl->h, client_on_closed);
}

static void client_on_write(uv_write_t *req, int status)
{
    struct ctl_wreq *wr = (struct ctl_wreq *)req;
    struct ctl_client *cl = wr->cl;
    free(wr);
    cl->pending--;
    if (uv_is_closing((uv_handle_t *)&cl->h))
        return;
    if (status < 0 || (cl->eof && cl->pending == 0))
        client_close(cl);
}

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
}

static void client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct ctl_client *cl = h->data;
    (void)suggested;
    *buf = uv_buf_init(cl->buf + cl->len, (unsigned)(sizeof cl->buf - cl->len));
}

static void client_on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct ctl_client *cl = st->data;
    char reply[CTL_REPLY_MAX];
    char *nl;
    (void)buf;

    if (nread < 0) {
        cl->eof = true;
        uv_read_stop(st);
        if (nread != UV_EOF || cl->pending == 0)
            client_close(cl);
        return;
    }
    cl->len += (size_t)nread;
    while ((nl = memchr(cl->buf, '\n', cl->len)) != NULL) {
        size_t ll = (size_t)(nl - cl->buf);
        *nl = '\0';
        if (ll > 0 && cl->buf[ll - 1] == '\r')
            cl->buf[ll - 1] = '\0';
        if (cl->buf[0] != '\0') {
            int rc = control_execute(cl->ctl->r, cl->buf, reply, sizeof reply);
            if (strncmp(cl->buf, "stats", 5) != 0 || rc < 0)
                ah_log_info("control: %s -> %s", cl->buf, reply);
            client_reply(cl, reply);
            if (uv_is_closing((uv_handle_t *)&cl->h))
                return;
        }
        memmove(cl->buf, nl + 1, cl->len - ll - 1);
        cl->len -= ll + 1;
    }
    if (cl->len == sizeof cl->buf) {
        client_reply(cl, "error line too long");
        cl->eof = true;
        uv_read_stop(st);
        if (cl->pending == 0)
            client_close(cl);
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    struct control *ctl = server->data;
    struct ctl_client *cl;
    if (status < 0)
        return;
    cl = calloc(1, sizeof *cl);
    if (cl == NULL)
        return;
    cl->ctl = ctl;
    uv_pipe_init(server->loop, &cl->h, 0);
    cl->h.data = cl;
    if (uv_accept(server, (uv_stream_t *)&cl->h) < 0) {
        uv_close((uv_handle_t *)&cl->h, client_on_closed);
        return;
    }
    cl->next = ctl->clients;
    if (ctl->clients)
        ctl->clients->prev = cl;
    ctl->clients = cl;
    if (uv_read_start((uv_stream_t *)&cl->h, client_alloc, client_on_read) < 0)
        client_close(cl);
}

static void server_on_closed(uv_handle_t *h)
{
    struct control *ctl = h->data;
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

int control_open(uv_loop_t *loop, struct responder *r, const char *path, struct control **out,
                 char *err, size_t errlen)
{
    struct control *ctl;
    struct stat st;
    bool bound;
    int rc;

    rc = check_dir(path, err, errlen);
    if (rc < 0)
        return rc;
    /* A socket file left by a killed run would make bind fail, so it goes;
     * one a running responder still serves stays (taking it over would
     * silently cut that responder off from its drills), and so does
     * anything else at PATH: it is the user's. */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        if (socket_in_use(path)) {
            snprintf(err, errlen, "--control %s: in use by a running process (another responder?)",
                     path);
            return -EADDRINUSE;
        }
        unlink(path);
    }
    ctl = calloc(1, sizeof *ctl);
    if (ctl == NULL || (ctl->path = strdup(path)) == NULL) {
        free(ctl);
        snprintf(err, errlen, "--control %s: %s", path, strerror(ENOMEM));
        return -ENOMEM;
    }
    ctl->r = r;
    uv_pipe_init(loop, &ctl->server, 0);
    ctl->server.data = ctl;
    rc = uv_pipe_bind(&ctl->server, path);
    bound = rc == 0;
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&ctl->server, 16, on_connection);
    if (rc < 0) {
        snprintf(err, errlen, "--control %s: %s", path, strerror(-rc));
        if (bound)
            unlink(path);
        uv_close((uv_handle_t *)&ctl->server, server_on_closed);
        return rc;
    }
    *out = ctl;
    return 0;
}

void control_close(struct control *ctl)
{
    if (ctl->closing)
        return;
    ctl->closing = true;
    while (ctl->clients != NULL)
        client_close(ctl->clients);
    unlink(ctl->path);
    uv_close((uv_handle_t *)&ctl->server, server_on_closed);
}
