/* The on-disk record of labs that are up or running: saving, loading,
 * checking, finding and removing it (taking a lab down from it is
 * teardown.c). A record is a small "key value" text file so a user can read
 * it, and it is replaced atomically. */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/log.h"
#include "harness/lab/lab.h"
#include "harness/topo/topo.h"

const char *state_base(void)
{
    const char *e = getenv("AH_LAB_STATE_DIR");
    return e && *e ? e : "/run/anycast-lab";
}

void state_new_runid(char *buf, size_t len)
{
    static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char rnd[8] = {0};
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, rnd, sizeof rnd) != (ssize_t)sizeof rnd) {
        uint64_t x = ah_clock_mono_ns() ^ ((uint64_t)getpid() << 32);
        memcpy(rnd, &x, sizeof rnd);
    }
    if (fd >= 0)
        close(fd);
    size_t n = len - 1 < 6 ? len - 1 : 6;
    /* The first character is a letter so the id never looks like a pid. */
    for (size_t i = 0; i < n; i++)
        buf[i] = al[rnd[i] % (i == 0 ? 26 : 36)];
    buf[n] = '\0';
}

int state_add_ns(struct state *s, const char *role, const char *name, const char *netns)
{
    struct state_ns *a = realloc(s->ns, (s->nns + 1) * sizeof *a);
    if (!a)
        return -ENOMEM;
    s->ns = a;
    struct state_ns *e = &a[s->nns++];
    snprintf(e->role, sizeof e->role, "%s", role);
    snprintf(e->name, sizeof e->name, "%s", name);
    snprintf(e->netns, sizeof e->netns, "%s", netns);
    return 0;
}

int state_add_pid(struct state *s, const char *what, const char *name, pid_t pid)
{
    struct state_pid *a = realloc(s->pids, (s->npids + 1) * sizeof *a);
    if (!a)
        return -ENOMEM;
    s->pids = a;
    struct state_pid *e = &a[s->npids++];
    snprintf(e->what, sizeof e->what, "%s", what);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->pid = pid;
    return 0;
}

void state_free(struct state *s)
{
    free(s->ns);
    free(s->pids);
    free(s->marks);
    s->ns = NULL;
    s->pids = NULL;
    s->marks = NULL;
    s->nns = s->npids = s->nmarks = 0;
}

bool state_mark_has(const struct state *s, const char *what, const char *name)
{
    for (size_t i = 0; i < s->nmarks; i++)
        if (strcmp(s->marks[i].what, what) == 0 && strcmp(s->marks[i].name, name) == 0)
            return true;
    return false;
}

int state_mark_set(struct state *s, const char *what, const char *name, bool on)
{
    for (size_t i = 0; i < s->nmarks; i++) {
        if (strcmp(s->marks[i].what, what) != 0 || strcmp(s->marks[i].name, name) != 0)
            continue;
        if (!on)
            s->marks[i] = s->marks[--s->nmarks];
        return 0;
    }
    if (!on)
        return 0;
    struct state_mark *a = realloc(s->marks, (s->nmarks + 1) * sizeof *a);
    if (!a)
        return -ENOMEM;
    s->marks = a;
    snprintf(a[s->nmarks].what, sizeof a[s->nmarks].what, "%s", what);
    snprintf(a[s->nmarks].name, sizeof a[s->nmarks].name, "%s", name);
    s->nmarks++;
    return 0;
}

pid_t state_pid_of(const struct state *s, const char *what, const char *name)
{
    pid_t pid = 0;
    for (size_t i = 0; i < s->npids; i++)
        if (strcmp(s->pids[i].what, what) == 0 && strcmp(s->pids[i].name, name) == 0)
            pid = s->pids[i].pid;
    return pid;
}

int state_format(const struct state *s, char **out)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return -ENOMEM;
    fprintf(f, "runid %s\nname %s\nmode %s\nlab %s\nresults %s\nowner %ld\nstarted_ns %llu\n",
            s->runid, s->name, s->mode, s->lab, s->results, (long)s->owner,
            (unsigned long long)s->started_ns);
    for (size_t i = 0; i < s->nns; i++)
        fprintf(f, "netns %s %s %s\n", s->ns[i].role, s->ns[i].name, s->ns[i].netns);
    for (size_t i = 0; i < s->npids; i++)
        fprintf(f, "pid %s %s %ld\n", s->pids[i].what, s->pids[i].name, (long)s->pids[i].pid);
    for (size_t i = 0; i < s->nmarks; i++)
        fprintf(f, "mark %s %s\n", s->marks[i].what, s->marks[i].name);
    if (fclose(f) != 0) {
        free(buf);
        return -ENOMEM;
    }
    *out = buf;
    return 0;
}

static void copy_val(char *dst, size_t len, const char *v)
{
    snprintf(dst, len, "%s", v);
}

int state_parse(const char *text, struct state *s)
{
    memset(s, 0, sizeof *s);
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        char line[2048];
        if (l >= sizeof line)
            goto bad;
        memcpy(line, p, l);
        line[l] = '\0';
        p += l + (e ? 1 : 0);
        char *sp = strchr(line, ' ');
        if (!sp)
            continue;
        *sp = '\0';
        const char *k = line, *v = sp + 1;
        if (strcmp(k, "runid") == 0)
            copy_val(s->runid, sizeof s->runid, v);
        else if (strcmp(k, "name") == 0)
            copy_val(s->name, sizeof s->name, v);
        else if (strcmp(k, "mode") == 0)
            copy_val(s->mode, sizeof s->mode, v);
        else if (strcmp(k, "lab") == 0)
            copy_val(s->lab, sizeof s->lab, v);
        else if (strcmp(k, "results") == 0)
            copy_val(s->results, sizeof s->results, v);
        else if (strcmp(k, "owner") == 0)
            s->owner = (pid_t)strtol(v, NULL, 10);
        else if (strcmp(k, "started_ns") == 0)
            s->started_ns = strtoull(v, NULL, 10);
        else if (strcmp(k, "netns") == 0) {
            char a[64], b[64], c[64];
            if (sscanf(v, "%63s %63s %63s", a, b, c) != 3 || state_add_ns(s, a, b, c) < 0)
                goto bad;
        } else if (strcmp(k, "pid") == 0) {
            char a[64], b[64];
            long pid;
            if (sscanf(v, "%63s %63s %ld", a, b, &pid) != 3 ||
                state_add_pid(s, a, b, (pid_t)pid) < 0)
                goto bad;
        } else if (strcmp(k, "mark") == 0) {
            char a[64], b[64];
            if (sscanf(v, "%63s %63s", a, b) != 2 || state_mark_set(s, a, b, true) < 0)
                goto bad;
        }
    }
    if (!s->runid[0])
        goto bad;
    return 0;
bad:
    state_free(s);
    return -EBADMSG;
}

int state_dir(const char *runid, char *buf, size_t len)
{
    const char *base = state_base();
    if (!state_runid_valid(runid))
        return -EINVAL;
    if (mkdir(base, 0755) < 0 && errno != EEXIST)
        return -errno;
    int n = snprintf(buf, len, "%s/%s", base, runid);
    if (n < 0 || (size_t)n >= len)
        return -ENAMETOOLONG;
    if (mkdir(buf, 0755) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int state_save(const struct state *s)
{
    char dir[512], tmp[600], path[600];
    char *text = NULL;
    int rc = state_dir(s->runid, dir, sizeof dir);
    if (rc < 0)
        return rc;
    snprintf(tmp, sizeof tmp, "%s/state.tmp", dir);
    snprintf(path, sizeof path, "%s/state", dir);
    if ((rc = state_format(s, &text)) < 0)
        return rc;
    /* A fresh file, never through a link left in the run directory. */
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        rc = -errno;
        if (fd >= 0)
            close(fd);
        goto out;
    }
    fputs(text, f);
    if (fclose(f) != 0) {
        rc = -errno;
        goto out;
    }
    if (rename(tmp, path) < 0)
        rc = -errno;
out:
    free(text);
    return rc;
}

bool state_runid_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n >= STATE_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9')))
            return false;
    return true;
}

/* A node, vantage or lab name (lab_name_valid), or "-" where there is none. */
static bool name_or_dash(const char *v)
{
    return strcmp(v, "-") == 0 || lab_name_valid(v);
}

/* Free text that is shown but never used as a path to act on: any byte but
 * control characters. */
static bool printable(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* A namespace of run runid: "ah-lab-<runid>-" and the rest of the name in
 * the characters of lab names. clean kills every process inside and
 * deletes it, so nothing else may pass. */
static bool own_netns(const char *netns, const char *runid)
{
    size_t plen = strlen(TOPO_NETNS_PREFIX), idlen = strlen(runid);
    if (strlen(netns) >= TOPO_NETNS_MAX || strncmp(netns, TOPO_NETNS_PREFIX, plen) != 0 ||
        strncmp(netns + plen, runid, idlen) != 0 || netns[plen + idlen] != '-')
        return false;
    return lab_name_valid(netns + plen + idlen + 1);
}

const char *state_check(const struct state *s, const char *runid, char *why, size_t len)
{
    static const char *const roles[] = {"node", "router", "client", "fabric"};
    if (!state_runid_valid(runid)) {
        snprintf(why, len, "run id \"%.*s\" is not 1 to %d of [a-z0-9]", 32, runid,
                 STATE_ID_MAX - 1);
        return why;
    }
    if (strcmp(s->runid, runid) != 0) {
        snprintf(why, len, "runid \"%.*s\" is not its directory's name %s", 32, s->runid, runid);
        return why;
    }
    if (!lab_name_valid(s->name)) {
        snprintf(why, len, "bad lab name \"%.*s\"", 32, s->name);
        return why;
    }
    if (strcmp(s->mode, "run") != 0 && strcmp(s->mode, "up") != 0) {
        snprintf(why, len, "mode \"%.*s\" is neither run nor up", 8, s->mode);
        return why;
    }
    if (!printable(s->lab) || !printable(s->results)) {
        snprintf(why, len, "control characters in the lab or results path");
        return why;
    }
    for (size_t i = 0; i < s->nns; i++) {
        const struct state_ns *n = &s->ns[i];
        bool role = false;
        for (size_t k = 0; k < sizeof roles / sizeof roles[0]; k++)
            role |= strcmp(n->role, roles[k]) == 0;
        if (!role || !name_or_dash(n->name)) {
            snprintf(why, len, "netns line %zu: bad role or name", i + 1);
            return why;
        }
        if (!own_netns(n->netns, runid)) {
            snprintf(why, len, "netns \"%.*s\" is not a namespace of run %s (%s%s-...)", 64,
                     n->netns, runid, TOPO_NETNS_PREFIX, runid);
            return why;
        }
    }
    for (size_t i = 0; i < s->npids; i++) {
        const struct state_pid *p = &s->pids[i];
        if (!lab_name_valid(p->what) || !name_or_dash(p->name) || p->pid <= 1) {
            snprintf(why, len, "pid line %zu: bad process kind, name or pid", i + 1);
            return why;
        }
    }
    for (size_t i = 0; i < s->nmarks; i++) {
        const struct state_mark *m = &s->marks[i];
        if ((strcmp(m->what, STATE_MARK_WITHDRAWN) != 0 &&
             strcmp(m->what, STATE_MARK_LINK_DOWN) != 0) ||
            !lab_name_valid(m->name)) {
            snprintf(why, len, "mark line %zu: bad mark or node name", i + 1);
            return why;
        }
    }
    return NULL;
}

/* Reads <base>/<runid>/state, neither following a symbolic link for the run
 * directory nor for the file, up to STATE_FILE_MAX bytes. Returns the text
 * (malloc'd) or NULL with errno set (ELOOP for a link). */
static char *read_state_file(const char *runid)
{
    char *buf = NULL;
    int dfd = -1, fd = -1, err = 0;
    size_t len = 0;
    int base = open(state_base(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (base < 0)
        return NULL;
    dfd = openat(base, runid, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0 || (fd = openat(dfd, "state", O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        err = errno == ENOTDIR ? ELOOP : errno;
        goto out;
    }
    if (!(buf = malloc(STATE_FILE_MAX + 1))) {
        err = ENOMEM;
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, buf + len, STATE_FILE_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = errno;
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > STATE_FILE_MAX) {
            err = EFBIG;
            goto out;
        }
    }
    buf[len] = '\0';
out:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    close(base);
    if (err) {
        free(buf);
        errno = err;
        return NULL;
    }
    return buf;
}

int state_load(const char *runid, struct state *s)
{
    char why[256] = "";
    char *text = NULL;
    int rc = 0;
    memset(s, 0, sizeof *s);
    if (!state_runid_valid(runid)) {
        snprintf(why, sizeof why, "\"%.*s\" is not a run id (1 to %d of [a-z0-9])", 64, runid,
                 STATE_ID_MAX - 1);
        goto out;
    }
    text = read_state_file(runid);
    if (!text) {
        rc = -errno;
        if (rc == -ELOOP)
            snprintf(why, sizeof why,
                     "the run directory or its state file is a symbolic link (not followed)");
        else if (rc == -EFBIG)
            snprintf(why, sizeof why, "larger than %d bytes", STATE_FILE_MAX);
        goto out;
    }
    if (state_parse(text, s) < 0) {
        snprintf(why, sizeof why,
                 "unreadable (no runid, a line too long or a short netns/pid line)");
        goto out;
    }
    if (state_check(s, runid, why, sizeof why) != NULL)
        state_free(s);
out:
    free(text);
    if (why[0]) {
        ah_log_error("%s/%.*s/state: bad state file: %s; skipped", state_base(), 64, runid, why);
        rc = -EBADMSG;
    }
    return rc;
}

/* Removes the directory name in parent with its entries, following no
 * symbolic link: a link is removed, not entered. Depth is bounded (a run
 * directory holds files only). */
static int rm_at(int parent, const char *name, int depth)
{
    int dfd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        if (errno == ENOENT)
            return 0;
        if (errno != ENOTDIR && errno != ELOOP)
            return -errno;
        return unlinkat(parent, name, 0) == 0 ? 0 : -errno;
    }
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return -errno;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (unlinkat(dfd, e->d_name, 0) < 0 && errno == EISDIR && depth < 4)
            rm_at(dfd, e->d_name, depth + 1);
    }
    closedir(d);
    return unlinkat(parent, name, AT_REMOVEDIR) == 0 ? 0 : -errno;
}

int state_remove(const char *runid)
{
    if (!state_runid_valid(runid))
        return -EINVAL;
    int base = open(state_base(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (base < 0)
        return -errno;
    int rc = rm_at(base, runid, 0);
    close(base);
    return rc;
}

int state_foreach(void (*cb)(void *arg, const struct state *s), void *arg)
{
    int count = 0;
    DIR *d = opendir(state_base());
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        struct state s;
        if (state_load(e->d_name, &s) < 0)
            continue;
        cb(arg, &s);
        state_free(&s);
        count++;
    }
    closedir(d);
    return count;
}

struct find_ctx {
    const char *key;
    struct state found;
    int matches;
};

static void find_cb(void *arg, const struct state *s)
{
    struct find_ctx *c = arg;
    if (strcmp(s->runid, c->key) != 0 && strcmp(s->name, c->key) != 0)
        return;
    if (c->matches++ == 0) {
        c->found = *s;
        c->found.ns = NULL;
        c->found.pids = NULL;
        c->found.marks = NULL;
        c->found.nns = c->found.npids = c->found.nmarks = 0;
        for (size_t i = 0; i < s->nns; i++)
            state_add_ns(&c->found, s->ns[i].role, s->ns[i].name, s->ns[i].netns);
        for (size_t i = 0; i < s->npids; i++)
            state_add_pid(&c->found, s->pids[i].what, s->pids[i].name, s->pids[i].pid);
        for (size_t i = 0; i < s->nmarks; i++)
            state_mark_set(&c->found, s->marks[i].what, s->marks[i].name, true);
    } else {
        ah_log_error("\"%s\" names several labs (%s, %s, ...): give the run id", c->key,
                     c->found.runid, s->runid);
    }
}

int state_find(const char *name_or_id, struct state *s)
{
    struct find_ctx c = {.key = name_or_id};
    state_foreach(find_cb, &c);
    if (c.matches == 0)
        return -ENOENT;
    if (c.matches > 1) {
        state_free(&c.found);
        return -EEXIST;
    }
    *s = c.found;
    return 0;
}

bool state_owner_alive(const struct state *s)
{
    char path[64], comm[64] = "";
    if (s->owner <= 0 || kill(s->owner, 0) < 0)
        return false;
    snprintf(path, sizeof path, "/proc/%ld/comm", (long)s->owner);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    if (!fgets(comm, sizeof comm, f))
        comm[0] = '\0';
    fclose(f);
    return strncmp(comm, "anycast-lab", 11) == 0;
}
