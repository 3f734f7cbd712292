/* Lab state on disk: /run/anycast-lab/<run id>/state records a lab that is
 * up or running (name, namespaces, process ids, owning process) so that
 * `list`, `down`, `exec` and `clean` find it from another invocation. This
 * module only persists; taking a lab down from its state is teardown.h. */
#ifndef STATE_H
#define STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define STATE_ID_MAX   16
#define STATE_NAME_MAX 64
#define STATE_FILE_MAX (1024 * 1024) /* a larger state file is refused */

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

/* What a drill on a lab that is up changed and must be known to the next
 * one: "withdrawn NODE" and "link-down NODE" (a "mark" line each). */
#define STATE_MARK_WITHDRAWN "withdrawn"
#define STATE_MARK_LINK_DOWN "link-down"

struct state_mark {
    char what[16];
    char name[STATE_NAME_MAX];
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
    struct state_mark *marks;
    size_t nmarks;
};

/* The base directory: $AH_LAB_STATE_DIR or /run/anycast-lab. */
const char *state_base(void);

/* A new random run id of 6 characters [a-z0-9]. */
void state_new_runid(char *buf, size_t len);

int state_add_ns(struct state *s, const char *role, const char *name, const char *netns);
int state_add_pid(struct state *s, const char *what, const char *name, pid_t pid);
void state_free(struct state *s);
/* Sets (on) or clears mark what on name; each pair is kept once. Returns 0
 * or -ENOMEM. */
int state_mark_set(struct state *s, const char *what, const char *name, bool on);
bool state_mark_has(const struct state *s, const char *what, const char *name);
/* The last recorded pid of kind what and name, 0 when none. */
pid_t state_pid_of(const struct state *s, const char *what, const char *name);

/* Text form (one "key value" line each) and back; pure. */
int state_format(const struct state *s, char **out);
int state_parse(const char *text, struct state *s);

/* True for a run id as state_new_runid makes them: 1 to STATE_ID_MAX - 1
 * characters of [a-z0-9]. */
bool state_runid_valid(const char *runid);

/* A state file is not trusted: teardown kills and deletes by the names in
 * it. Checks a parsed state read from the directory of run runid: its runid is
 * that name and valid, the lab name and every node, vantage and process name
 * are lab names (or "-"), every namespace is one of this run's
 * ("ah-lab-<runid>-" and lab-name characters), roles and mode are known
 * words, pids are > 1, paths have no control characters. Returns NULL when
 * it passes, else why (written to why, len bytes); pure. */
const char *state_check(const struct state *s, const char *runid, char *why, size_t len);

/* <base>/<runid>: created with mkdir -p. state_save writes <dir>/state
 * atomically. */
int state_dir(const char *runid, char *buf, size_t len);
int state_save(const struct state *s);
/* Reads and checks <base>/<runid>/state. The run id comes from the directory
 * name (so runid must pass state_runid_valid); neither the directory nor the
 * file may be a symbolic link. A file that fails (unparsable, too large,
 * state_check) is reported on one line naming it and gives -EBADMSG; a
 * missing one gives -ENOENT, silently. */
int state_load(const char *runid, struct state *s);
/* Removes <base>/<runid> and everything in it, following no symbolic link;
 * -EINVAL unless runid passes state_runid_valid. */
int state_remove(const char *runid);

/* Finds a lab by run id or lab name. -ENOENT when none, -EEXIST when a name
 * matches several labs (message logged). */
int state_find(const char *name_or_id, struct state *s);

/* Calls cb for each lab found under the base directory. Returns the count. */
int state_foreach(void (*cb)(void *arg, const struct state *s), void *arg);

/* True when the owner process is alive and is an anycast-lab. */
bool state_owner_alive(const struct state *s);

#endif
