/* `anycast-lab drill NAME|RUNID VERB NODE [MS]`: one drill verb applied to a
 * lab that is up, through run_step() as a scripted drill applies it, its
 * events.csv rows appended to the lab's own events.csv in its state
 * directory (docs/anycast-lab.md, "drill"), and `down` keeping that file. */
#include "run_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ah/csv.h"
#include "ah/file.h"
#include "ah/log.h"
#include "ah/schema.h"
#include "ah/suggest.h"
#include "harness/routing/bgp.h"
#include "harness/sys/netns.h"

#define DRILL_DELAY_MS_MAX 60000 /* as a lab file's delay.ms */

/* The rows of one `drill`: appended to events.csv and echoed on stdout. */
struct run_drill_out {
    struct ah_csv *file, *echo;
};

void run_drill_row(struct run_drill_out *o, uint64_t ts, const char *event, const char *node,
                   const char *detail)
{
    struct ah_csv *w[2] = {o->file, o->echo};
    for (size_t k = 0; k < 2; k++) {
        if (!w[k])
            continue;
        ah_csv_u64(w[k], ts);
        ah_csv_str(w[k], event);
        ah_csv_str(w[k], node);
        ah_csv_str(w[k], detail);
        ah_csv_end_row(w[k]);
        ah_csv_flush(w[k]);
    }
}

/* Every verb is one step but flap (a sequence) and run (deployments); the
 * bgp ones are refused later, with the lab's routing known. */
static bool verb_drillable(enum ah_verb v)
{
    return v != AH_VERB_FLAP && v != AH_VERB_RUN;
}

int run_drill_parse(const char *verb, const char *ms, enum ah_verb *v, unsigned *delay_ms,
                    char *err, size_t len)
{
    *delay_ms = 0;
    if (ah_schema_verb_parse(verb, v) < 0 || !verb_drillable(*v)) {
        if (ah_schema_verb_parse(verb, v) == 0 && *v == AH_VERB_FLAP)
            snprintf(err, len, "flap is a sequence: drill withdraw, then announce");
        else
            snprintf(err, len,
                     "unknown verb \"%.32s\" (verbs: withdraw, announce, link-down, link-up, "
                     "stop, start, pause, resume, delay)",
                     verb);
        return -EINVAL;
    }
    if ((*v == AH_VERB_DELAY) != (ms != NULL)) {
        snprintf(err, len, "%s", ms ? "only delay takes MS" : "delay needs MS (0 ends it)");
        return -EINVAL;
    }
    if (ms) {
        char *end;
        errno = 0;
        unsigned long x = strtoul(ms, &end, 10);
        if (errno || end == ms || *end || ms[0] == '-' || x > DRILL_DELAY_MS_MAX) {
            snprintf(err, len, "delay: \"%.32s\" is not a number of ms from 0 to %d", ms,
                     DRILL_DELAY_MS_MAX);
            return -EINVAL;
        }
        *delay_ms = (unsigned)x;
    }
    return 0;
}

/* ---- the lab ---- */

static void list_cb(void *arg, const struct state *s)
{
    char *list = arg;
    size_t l = strlen(list);
    if (l < 400 && strcmp(s->mode, "up") == 0)
        snprintf(list + l, 512 - l, "%s%s (%s)", l ? ", " : "", s->name, s->runid);
}

/* The lab that is up by name or run id. Returns 0, or the exit status. */
static int find_lab(const char *name, struct state *st)
{
    int rc = state_find(name, st);
    if (rc == -ENOENT) {
        char list[512] = "";
        state_foreach(list_cb, list);
        ah_log_error("%s: no such lab (labs up: %s)", name, list[0] ? list : "none");
        return 2;
    }
    if (rc < 0)
        return 2;
    if (strcmp(st->mode, "up") != 0) {
        ah_log_error("%s: run %s is in progress, not up: its drill is in its lab file", name,
                     st->runid);
        state_free(st);
        return 2;
    }
    return 0;
}

static const char *responder_word(enum lab_responder r)
{
    static const char *const words[] = {
        [LAB_RESPONDER_BUILTIN] = "builtin",
        [LAB_RESPONDER_NSD] = "nsd",
        [LAB_RESPONDER_KNOT] = "knot",
        [LAB_RESPONDER_COMMAND] = "a command",
    };
    return (size_t)r < sizeof words / sizeof words[0] ? words[r] : "?";
}

/* What the lab cannot do: the lab file check's message, or why the
 * routing needs the lab's own process. Returns 0 or 2. */
static int check_verb(const struct lab *lab, enum ah_verb v, size_t node)
{
    if (v == AH_VERB_DELAY && lab->nodes[node].responder != LAB_RESPONDER_BUILTIN) {
        ah_log_error("drill: delay needs the builtin responder (node %s runs %s)",
                     lab->nodes[node].name, responder_word(lab->nodes[node].responder));
        return 2;
    }
    bool bgp_verb = bgp_takes(v) && v != AH_VERB_WITHDRAW && v != AH_VERB_ANNOUNCE;
    if (bgp_verb && lab->routing != LAB_ROUTING_BGP) {
        ah_log_error("drill: %s needs routing: bgp (routing is %s)", ah_schema_verb_name(v),
                     lab_routing_name(lab->routing));
        return 2;
    }
    if (bgp_verb) {
        ah_log_error("drill: %s needs the lab's own process (its BIRD control): use it in a "
                     "scripted drill (run)",
                     ah_schema_verb_name(v));
        return 2;
    }
    if (v != AH_VERB_WITHDRAW && v != AH_VERB_ANNOUNCE)
        return 0;
    for (size_t i = 0; i < lab->nvantages; i++) {
        enum lab_routing m = lab_vantage_routing(lab, i);
        if (m == LAB_ROUTING_TRACKED || m == LAB_ROUTING_BGP) {
            ah_log_error("drill: %s with routing: %s (vantage %s) needs the lab's own process: "
                         "use it in a scripted drill (run)",
                         ah_schema_verb_name(v), lab_routing_name(m), lab->vantages[i].name);
            return 2;
        }
    }
    return 0;
}

/* The lab model from the copy `up` saved. Returns 0 or the exit status. */
static int load_lab(struct run *r, const char *name, size_t *node)
{
    char path[sizeof r->rundir + 16];
    snprintf(path, sizeof path, "%s/lab.yaml", r->rundir);
    int rc = lab_load_checked(path, &r->lab);
    if (rc < 0) {
        ah_log_error("%s: the lab's copy of its lab file cannot be loaded", path);
        return 1;
    }
    int i = lab_node_index(r->lab, name);
    if (i < 0) {
        char hint[512];
        lab_unknown_hint(r->lab, false, name, hint, sizeof hint);
        ah_log_error("drill: lab %s has no node \"%s\"%s", r->lab->name, name, hint);
        return 2;
    }
    *node = (size_t)i;
    return 0;
}

/* ---- the run it is done in ---- */

/* The responder's pid from the state, kept only while it runs inside the
 * node's namespace: a pid reused by another process is never signalled. */
static void find_responder(struct run *r, size_t node)
{
    struct netns_id id;
    const char *name = r->lab->nodes[node].name;
    pid_t pid = state_pid_of(&r->st, "responder", name);
    if (pid > 1 && netns_id_of(topo_netns(r->topo, TOPO_NODE, node), &id) == 0 &&
        netns_pid_in(pid, &id, 1, NULL))
        r->resp[node].pid = pid;
    snprintf(r->resp[node].name, sizeof r->resp[node].name, "responder %s", name);
}

static int attach_topo(struct run *r)
{
    size_t n = r->lab->nnodes;
    bool *wd = calloc(n, sizeof *wd), *ld = calloc(n, sizeof *ld);
    int rc = -ENOMEM;
    if (wd && ld) {
        for (size_t i = 0; i < n; i++) {
            wd[i] = state_mark_has(&r->st, STATE_MARK_WITHDRAWN, r->lab->nodes[i].name);
            ld[i] = state_mark_has(&r->st, STATE_MARK_LINK_DOWN, r->lab->nodes[i].name);
        }
        rc = topo_attach(r->lab, r->runid, wd, ld, &r->topo);
    }
    free(wd);
    free(ld);
    if (rc == 0) {
        r->mon = calloc(r->lab->nvantages + 1, sizeof *r->mon);
        int k = r->mon ? topo_monitor_fds(r->topo, r->mon, r->lab->nvantages) : 0;
        r->nmon = k > 0 ? (size_t)k : 0;
    }
    return rc;
}

/* events.csv in the state directory, its header written when it is new. */
static int open_events(struct run *r, struct run_drill_out *o)
{
    char path[sizeof r->rundir + 16];
    struct stat sb;
    snprintf(path, sizeof path, "%s/events.csv", r->rundir);
    int fd = ah_file_create(path, O_APPEND);
    if (fd < 0 || fstat(fd, &sb) < 0) {
        int rc = fd < 0 ? fd : -errno;
        if (fd >= 0)
            close(fd);
        ah_log_error("%s: %s", path, strerror(-rc));
        return rc;
    }
    int rc = ah_csv_open_fd(&o->file, fd, sb.st_size ? NULL : ah_schema_events_cols,
                            AH_SCHEMA_EVENTS_COLS);
    int out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0);
    if (rc == 0 && out >= 0)
        rc = ah_csv_open_fd(&o->echo, out, NULL, AH_SCHEMA_EVENTS_COLS);
    if (rc < 0)
        ah_log_error("%s: %s", path, strerror(-rc));
    return rc;
}

/* Everything the step needs besides the lab: the run directory, the
 * topology and, for the verbs on the responder, its launch and pid.
 * Returns 0 or the exit status. */
static int prepare_run(struct run *r, enum ah_verb v, size_t node)
{
    int rc = 0;
    const char *base = r->st.results[0] ? r->st.results : r->rundir;
    if (strlen(base) + sizeof "/logs" > sizeof r->logdir)
        rc = -ENAMETOOLONG;
    else
        snprintf(r->logdir, sizeof r->logdir, "%.1000s/logs", base);
    r->resp = calloc(r->lab->nnodes, sizeof *r->resp);
    r->launch = calloc(r->lab->nnodes, sizeof *r->launch);
    r->resp_log = calloc(r->lab->nnodes, sizeof *r->resp_log);
    if (rc < 0 || !r->resp || !r->launch || !r->resp_log) {
        ah_log_error("%s: %s", r->runid, strerror(rc < 0 ? -rc : ENOMEM));
        return 1;
    }
    if ((rc = attach_topo(r)) < 0) {
        ah_log_error("lab %s (run id %s): its topology: %s", r->lab->name, r->runid, strerror(-rc));
        return 1;
    }
    if (v != AH_VERB_STOP && v != AH_VERB_START && v != AH_VERB_PAUSE && v != AH_VERB_RESUME &&
        v != AH_VERB_DELAY)
        return 0;
    if ((rc = run_prepare_responder(r, node)) < 0) {
        ah_log_error("%s: the responder's command: %s", r->lab->nodes[node].name, strerror(-rc));
        return 1;
    }
    find_responder(r, node);
    return 0;
}

/* What the next drill must know: withdrawn nodes and links down. */
static void remember(struct run *r, enum ah_verb v, size_t node)
{
    const char *name = r->lab->nodes[node].name;
    if (v == AH_VERB_WITHDRAW || v == AH_VERB_ANNOUNCE)
        state_mark_set(&r->st, STATE_MARK_WITHDRAWN, name, v == AH_VERB_WITHDRAW);
    else if (v == AH_VERB_LINK_DOWN || v == AH_VERB_LINK_UP)
        state_mark_set(&r->st, STATE_MARK_LINK_DOWN, name, v == AH_VERB_LINK_DOWN);
    else
        return;
    int rc = state_save(&r->st);
    if (rc < 0)
        ah_log_error("%s: saving the state: %s", r->runid, strerror(-rc));
}

/* The step itself, as a one-step drill at time 0; delay's ms come from
 * an event of its own, as a lab file's would. Returns 0 or the exit
 * status. */
static int play_step(struct run *r, enum ah_verb v, size_t node, unsigned delay_ms)
{
    struct lab_event ev = {.verb = v, .node = node, .delay_ms = delay_ms};
    struct lab_event *saved = r->lab->drill;
    size_t nsaved = r->lab->ndrill;
    struct drill_step s = {.verb = v, .node = node};
    char detail[DRILL_DETAIL_MAX] = "";
    uint64_t ack = 0;
    r->lab->drill = &ev;
    r->lab->ndrill = 1;
    int rc = run_step(r, &s, &ack, detail, sizeof detail);
    r->lab->drill = saved;
    r->lab->ndrill = nsaved;
    /* The kernel queues a change's route notifications before it
     * acknowledges the change: they are all there to read now. */
    if (r->topo)
        run_route_rows(r);
    if (rc == 0)
        remember(r, v, node);
    return rc < 0 ? 1 : 0;
}

static void release_run(struct run *r, struct run_drill_out *o)
{
    ah_csv_close(o->file);
    ah_csv_close(o->echo);
    topo_release(r->topo);
    free(r->mon);
    free(r->resp);
    free(r->launch);
    free(r->resp_log);
    state_free(&r->st);
    lab_free(r->lab);
}

int run_drill_up(const char *lab, const char *verb, const char *node, const char *ms)
{
    static const struct run_opts o = {.up_only = true};
    struct run r = {.o = &o, .sigfd = -1, .tfd = -1, .ready_fd = -1, .ready_wfd = -1};
    struct run_drill_out out = {0};
    char err[256];
    enum ah_verb v;
    unsigned delay_ms;
    size_t idx = 0;
    if (run_drill_parse(verb, ms, &v, &delay_ms, err, sizeof err) < 0) {
        ah_log_error("drill: %s", err);
        return 2;
    }
    int ec = find_lab(lab, &r.st);
    if (ec != 0)
        return ec;
    snprintf(r.runid, sizeof r.runid, "%s", r.st.runid);
    if ((ec = state_dir(r.runid, r.rundir, sizeof r.rundir) < 0 ? 1 : 0) == 0 &&
        (ec = load_lab(&r, node, &idx)) == 0 && (ec = check_verb(r.lab, v, idx)) == 0 &&
        (ec = prepare_run(&r, v, idx)) == 0)
        ec = open_events(&r, &out) < 0 ? 1 : 0;
    if (ec == 0) {
        r.drill_out = &out;
        ec = play_step(&r, v, idx, delay_ms);
    }
    release_run(&r, &out);
    return ec;
}

/* ---- down ---- */

int run_drill_keep_events(const struct state *s, const char *results_base, char *kept, size_t len)
{
    char dir[512], from[600], to[1100];
    int rc = state_dir(s->runid, dir, sizeof dir);
    kept[0] = '\0';
    if (rc < 0)
        return rc;
    snprintf(from, sizeof from, "%s/events.csv", dir);
    if (access(from, F_OK) < 0)
        return 0;
    if (s->results[0]) {
        snprintf(to, sizeof to, "%s/drill-events.csv", s->results);
    } else {
        char res[1000];
        rc = results_make_dir(results_base, s->started_ns, s->name, res, sizeof res);
        if (rc < 0)
            return rc;
        snprintf(to, sizeof to, "%s/events.csv", res);
    }
    rc = results_copy_file(from, to);
    if (rc == 0)
        snprintf(kept, len, "%s", to);
    return rc;
}
