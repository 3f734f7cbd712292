/* run.json's "hosts" for a deployment run: every host with its role, ssh
 * destination, probe version, clock offset and uncertainty (what the report
 * rebases a vantage's rows with) and the commands run on it, added to the
 * run.json the lab run writes. */
#include "deploy_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ah/file.h"
#include "ah/json.h"
#include "ah/log.h"
#include "harness/results/results.h"

/* A string member; a value jansson refuses (not UTF-8) is written as "?". */
static void set_str(json_t *o, const char *key, const char *v)
{
    json_t *s = json_string(v ? v : "");
    json_object_set_new(o, key, s ? s : json_string("?"));
}

static void set_clock(json_t *o, const char *key, const struct deploy_clock *c)
{
    if (!c->ok)
        return;
    json_t *x = json_object();
    json_object_set_new(x, "offset_ns", json_integer(c->offset_ns));
    json_object_set_new(x, "uncertainty_ns", json_integer((json_int_t)c->uncertainty_ns));
    json_object_set_new(o, key, x);
}

static json_t *host_json(const struct deploy_host *h)
{
    json_t *o = json_object(), *cmds = json_array();
    set_str(o, "name", h->name);
    set_str(o, "role", h->vantage ? "vantage" : "node");
    set_str(o, "host", h->host->dest);
    if (h->vantage) {
        set_str(o, "probe", h->probe);
        set_str(o, "probe_version", h->probe_version);
        if (h->combined.ok) {
            json_object_set_new(o, "offset_ns", json_integer(h->combined.offset_ns));
            json_object_set_new(o, "uncertainty_ns",
                                json_integer((json_int_t)h->combined.uncertainty_ns));
        }
        set_clock(o, "clock_start", &h->clock[0]);
        set_clock(o, "clock_end", &h->clock[1]);
    }
    for (size_t c = 0; c < h->ncmds; c++) {
        json_t *s = json_string(h->cmds[c]);
        json_array_append_new(cmds, s ? s : json_string("?"));
    }
    json_object_set_new(o, "commands", cmds);
    return o;
}

void deploy_write_hosts(const struct deploy *d, const char *path)
{
    json_t *root = NULL;
    char err[256], dir[PATH_MAX], tmp[PATH_MAX + 32];
    int fd = -1;
    if (ah_json_load_file(path, RESULTS_RUN_JSON_READ_MAX, &root, err, sizeof err) < 0) {
        ah_log_error("%s", err);
        return;
    }
    json_t *hosts = json_array();
    for (size_t i = 0; i < d->n; i++)
        json_array_append_new(hosts, host_json(&d->h[i]));
    json_object_set_new(root, "hosts", hosts);
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    const char *name = slash ? slash + 1 : path;
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    char base[NAME_MAX + 1];
    snprintf(base, sizeof base, "%s", name);
    fd = ah_file_tmp_open(dir, base, tmp, sizeof tmp);
    if (fd < 0 || json_dumpfd(root, fd, JSON_INDENT(2)) < 0 || write(fd, "\n", 1) != 1) {
        ah_log_error("%s: writing hosts: %s", path, strerror(fd < 0 ? -fd : EIO));
        if (fd >= 0)
            unlink(tmp);
    } else {
        close(fd);
        fd = -1;
        int rc = ah_file_commit(tmp, dir, base);
        if (rc < 0)
            ah_log_error("%s: %s", path, strerror(-rc));
    }
    if (fd >= 0)
        close(fd);
    json_decref(root);
}
