/* Lab state on disk: /run/anycast-lab/<run id>/state records a lab that is
 * up or running (name, namespaces, process ids, owning process) so that
 * `list`, `down`, `exec` and `clean` find it from another invocation. */
#ifndef STATE_H
#define STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define STATE_ID_MAX   16
#define STATE_NAME_MAX 64

struct state_ns {
    char role[16];             /* node, router, client, fabric */
    char name[STATE_NAME_MAX]; /* lab name of the node/vantage ("-" for fabric) */
    char netns[STATE_NAME_MAX];
};

struct state_pid {
    char what[16]; /* responder, probe */
    char name[STATE_NAME_MAX];
    pid_t pid;
};

struct state {
    char runid[STATE_ID_MAX];
    char name[STATE_NAME_MAX];
    char mode[8];   /* "run" or "up" */
    char lab[1024]; /* lab file path */
    char results[1024];
    pid_t owner; /* the anycast-lab process (run) */
    uint64_t started_ns;
    struct state_ns *ns;
    size_t nns;
    struct state_pid *pids;
    size_t npids;
};

/* The base directory: $AH_LAB_STATE_DIR or /run/anycast-lab. */
const char *state_base(void);

/* A new random run id of 6 characters [a-z0-9]. */
void state_new_runid(char *buf, size_t len);

int state_add_ns(struct state *s, const char *role, const char *name, const char *netns);
int state_add_pid(struct state *s, const char *what, const char *name, pid_t pid);
void state_free(struct state *s);

/* Text form (one "key value" line each) and back; pure. */
int state_format(const struct state *s, char **out);
int state_parse(const char *text, struct state *s);

/* <base>/<runid>: created with mkdir -p. state_save writes <dir>/state
 * atomically. */
int state_dir(const char *runid, char *buf, size_t len);
int state_save(const struct state *s);
int state_load(const char *runid, struct state *s);
/* Removes <base>/<runid> and everything in it. */
int state_remove(const char *runid);

/* Finds a lab by run id or lab name. -ENOENT when none, -EEXIST when a name
 * matches several labs (message logged). */
int state_find(const char *name_or_id, struct state *s);

/* Calls cb for each lab found under the base directory. Returns the count. */
int state_foreach(void (*cb)(void *arg, const struct state *s), void *arg);

/* True when the owner process is alive and is an anycast-lab. */
bool state_owner_alive(const struct state *s);

/* Kills (SIGKILL) every process whose network namespace is the named one, as
 * found in /proc/<pid>/ns/net. Returns the number killed. */
int state_kill_netns_procs(const char *netns, void (*report)(void *arg, const char *what),
                           void *arg);

/* Takes down a lab from its state: kills its processes, removes its
 * namespaces and its state directory, calling report for each. */
int state_teardown(const struct state *s, void (*report)(void *arg, const char *what), void *arg);

/* `anycast-lab clean`: every run whose owner is dead (and, with all, labs
 * left up), plus namespaces with the lab prefix that no live run owns. With
 * only (a run id or lab name), just that lab. */
int state_clean(bool all, const char *only, void (*report)(void *arg, const char *what), void *arg);

#endif
