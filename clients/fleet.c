/* Several vantages in one anycast-probe process (--vantage NAME@NETNS,
 * repeated, or --vantages FILE): each vantage has its own run context,
 * options, engines and files (in its own directory, or --out DIR/NAME/),
 * its sockets opened inside its network namespace, and all of them share
 * one event loop, so a lab of a thousand vantages needs a few processes
 * instead of a thousand. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ah/log.h"
#include "probe.h"

int fleet_member_parse(const char *val, struct fleet_member *m, char *err, size_t errlen)
{
    const char *at = strchr(val, '@');
    size_t n = at ? (size_t)(at - val) : 0;

    memset(m, 0, sizeof(*m));
    m->fd = -1;
    if (at == NULL || n == 0 || n >= sizeof(m->name)) {
        snprintf(err, errlen, "\"%s\": expected NAME@NETNS with a NAME of 1..63 bytes", val);
        return -EINVAL;
    }
    memcpy(m->name, val, n);
    m->name[n] = '\0';
    /* The name becomes a directory under --out: it must stay one. */
    if (strchr(m->name, '/') != NULL || strcmp(m->name, ".") == 0 || strcmp(m->name, "..") == 0) {
        snprintf(err, errlen, "\"%s\": NAME must not contain '/' or be \".\" or \"..\"", val);
        return -EINVAL;
    }
    if (at[1] != '/' || strlen(at + 1) >= PATH_MAX) {
        snprintf(err, errlen, "\"%s\": NETNS must be an absolute path, e.g. /run/netns/NAME", val);
        return -EINVAL;
    }
    m->netns = strdup(at + 1);
    return m->netns ? 0 : -ENOMEM;
}

int fleet_member_add(struct probe_opts *o, const char *val, char *err, size_t errlen)
{
    struct fleet_member *m;
    if (o->nmembers == FLEET_MEMBERS_MAX) {
        snprintf(err, errlen, "at most %d vantages per process", FLEET_MEMBERS_MAX);
        return -EINVAL;
    }
    m = realloc(o->members, (o->nmembers + 1) * sizeof(*m));
    if (m == NULL)
        return -ENOMEM;
    o->members = m;
    int rc = fleet_member_parse(val, &m[o->nmembers], err, errlen);
    if (rc == 0)
        o->nmembers++;
    return rc;
}

int fleet_members_read(FILE *f, struct probe_opts *o, char *err, size_t errlen)
{
    char line[PATH_MAX + 80];
    unsigned no = 0;
    int rc = 0;

    while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
        size_t n = strlen(line);
        no++;
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        else if (!feof(f)) {
            snprintf(err, errlen, "line %u: longer than %zu bytes", no, sizeof line - 2);
            return -EINVAL;
        }
        if (n == 0 || line[0] == '#')
            continue;
        char why[PATH_MAX + 160];
        char *tab = strchr(line, '\t');
        if (tab != NULL)
            *tab++ = '\0';
        if (tab != NULL && *tab == '\0') {
            snprintf(err, errlen, "line %u: an empty directory after the tab", no);
            return -EINVAL;
        }
        rc = fleet_member_add(o, line, why, sizeof why);
        if (rc < 0)
            snprintf(err, errlen, "line %u: %.200s", no, why);
        else if (tab != NULL && (o->members[o->nmembers - 1].out = strdup(tab)) == NULL)
            rc = -ENOMEM;
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "%s", strerror(errno));
        rc = -EIO;
    }
    return rc;
}

int fleet_enter(const struct probe_ctx *ctx)
{
    if (ctx->member == NULL)
        return 0;
    return setns(ctx->member->fd, CLONE_NEWNET) < 0 ? -errno : 0;
}

void fleet_leave(const struct probe_ctx *ctx)
{
    /* Returning cannot fail for a namespace this thread started in; if it
     * did, the next socket would land in the wrong namespace, so say so. */
    if (ctx->member != NULL && setns(ctx->home_fd, CLONE_NEWNET) < 0)
        ah_log_error("returning to the process's own network namespace: %s", strerror(errno));
}

/* Every vantage holds a few sockets (flows, connections, timers): allow as
 * many descriptors as the hard limit permits. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* One vantage's state: its own copy of the options (name, files) and its
 * run context. */
struct fleet_one {
    struct probe_opts o;
    struct probe_ctx ctx;
    char out[PATH_MAX];
    char summary[PATH_MAX + 16];
    bool opened; /* record_open succeeded */
    bool begun;  /* run_begin was called: its handles exist */
};

/* --query auto asks the target once, from the first vantage's namespace:
 * every vantage of the process then sends the same query. */
static int pick_query(struct probe_opts *o, int home)
{
    if (!o->query_auto || !o->service[AH_SVC_DNS])
        return 0;
    if (setns(o->members[0].fd, CLONE_NEWNET) < 0)
        return -errno;
    int rc = query_pick(o);
    if (setns(home, CLONE_NEWNET) < 0 && rc == 0)
        rc = -errno;
    return rc;
}

static int open_members(struct probe_opts *o)
{
    for (size_t i = 0; i < o->nmembers; i++) {
        o->members[i].fd = open(o->members[i].netns, O_RDONLY | O_CLOEXEC);
        if (o->members[i].fd < 0) {
            int rc = -errno;
            ah_log_error("vantage %s: %s: %s", o->members[i].name, o->members[i].netns,
                         strerror(errno));
            return rc;
        }
    }
    return 0;
}

/* Sets up vantage i's options, files and engines, inside its namespace. */
static int begin_one(struct probe_opts *o, struct fleet_one *f, size_t i, uv_loop_t *loop, int home)
{
    const struct fleet_member *m = &o->members[i];

    f->o = *o;
    snprintf(f->o.vantage, sizeof f->o.vantage, "%s", m->name);
    if (m->out != NULL)
        snprintf(f->out, sizeof f->out, "%s", m->out);
    else
        snprintf(f->out, sizeof f->out, "%s/%s", o->out_dir, m->name);
    snprintf(f->summary, sizeof f->summary, "%s/summary.json", f->out);
    f->o.out_dir = f->out;
    f->o.summary_json = f->summary;
    f->o.ready_fd = -1;
    f->o.members = NULL;
    f->o.nmembers = 0;
    f->ctx.o = &f->o;
    f->ctx.loop = loop;
    f->ctx.member = m;
    f->ctx.home_fd = home;
    int rc = record_open(&f->ctx);
    if (rc < 0)
        return rc;
    f->opened = true;
    rc = fleet_enter(&f->ctx);
    if (rc < 0) {
        ah_log_error("vantage %s: entering %s: %s", m->name, m->netns, strerror(-rc));
        return rc;
    }
    f->begun = true;
    rc = run_begin(&f->ctx);
    fleet_leave(&f->ctx);
    return rc;
}

/* After the loop: vantage f's rows, summary and exit status. */
static int end_one(struct fleet_one *f)
{
    int code = 0;
    run_end(&f->ctx);
    if (f->ctx.exit_code || record_flush(&f->ctx) < 0)
        code = 1;
    if (f->ctx.rec != NULL) {
        int jr = summary_write_json(&f->ctx, f->summary);
        if (jr < 0) {
            ah_log_error("%s: %s", f->summary, strerror(-jr));
            code = 1;
        }
        if (summary_check_loss(&f->ctx) > 0)
            code = 1;
    }
    if (record_close(&f->ctx) < 0)
        code = 1;
    return code;
}

/* Says to the lab (--ready-fd) that the run probes: one byte per vantage,
 * as one process per vantage would. */
static void tell_ready(const struct probe_opts *o, size_t n)
{
    char buf[256];
    memset(buf, 'r', sizeof buf);
    while (n > 0) {
        size_t k = n < sizeof buf ? n : sizeof buf;
        if (write(o->ready_fd, buf, k) != (ssize_t)k) {
            ah_log_debug("--ready-fd %d: %s", o->ready_fd, strerror(errno));
            break;
        }
        n -= k;
    }
    close(o->ready_fd);
}

int fleet_run(struct probe_opts *o)
{
    struct fleet_one *all = NULL;
    uv_loop_t loop;
    size_t started = 0;
    int code = 1, rc, home;

    raise_fd_limit();
    home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0) {
        ah_log_error("/proc/self/ns/net: %s", strerror(errno));
        goto out;
    }
    if (open_members(o) < 0)
        goto out;
    if (o->out_dir != NULL && mkdir(o->out_dir, 0777) < 0 && errno != EEXIST) {
        ah_log_error("--out %s: %s", o->out_dir, strerror(errno));
        goto out;
    }
    if ((rc = pick_query(o, home)) < 0) {
        ah_log_error("--query auto: %s", strerror(-rc));
        goto out;
    }
    all = calloc(o->nmembers, sizeof(*all));
    if (all == NULL || uv_loop_init(&loop) < 0) {
        ah_log_error("out of memory");
        goto out;
    }
    code = 0;
    /* Every vantage starts before SIGINT and SIGTERM are unblocked: a
     * signal during the start then stops all of them, none is left to run
     * its whole duration. */
    for (rc = 0; started < o->nmembers && rc == 0; started++)
        rc = begin_one(o, &all[started], started, &loop, home);
    run_unblock_signals();
    if (rc < 0) {
        /* The others stop at once; their files are still written. */
        code = 1;
        for (size_t i = 0; i < started; i++)
            if (all[i].begun)
                run_stop(&all[i].ctx);
    } else if (o->ready_fd >= 0) {
        tell_ready(o, o->nmembers);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    for (size_t i = 0; i < started; i++)
        if (all[i].opened && end_one(&all[i]) != 0)
            code = 1;
    if (uv_loop_close(&loop) != 0) {
        ah_log_error("internal: event loop still has open handles at exit");
        code = 1;
    }
out:
    free(all);
    for (size_t i = 0; i < o->nmembers; i++) {
        if (o->members[i].fd >= 0)
            close(o->members[i].fd);
        free(o->members[i].netns);
        free(o->members[i].out);
    }
    free(o->members);
    if (home >= 0)
        close(home);
    return code;
}
