/* Internals of the lab file loader (labfile*.c): the parse context, error
 * collection and typed readers for libyaml document nodes. Not for other
 * modules: they use lab.h. */
#ifndef LABFILE_INT_H
#define LABFILE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <yaml.h>

#include "lab.h"

/* One load in progress. Errors go to diag; parsing always goes on after an
 * error so that one run of `anycast-lab check` reports every problem. */
struct lf {
    const char *file;
    yaml_document_t *doc;
    struct lab *lab;
    struct lab_diag *diag;
    size_t nerr; /* errors found, also those not kept in diag */
    bool oom;
    bool routing_ok;   /* lab->routing was given validly (or defaulted) */
    bool duration_ok;  /* lab->duration_ns is valid */
    bool nodes_ok;     /* every node has a valid, unique name */
    bool kind_ok;      /* lab->kind was given validly (or defaulted) */
    yaml_node_t *root; /* the top-level mapping */
};

/* A mapping's values by key, in the order of the caller's key list. */
#define LF_KEYS_MAX 24
struct lf_map {
    yaml_node_t *key[LF_KEYS_MAX];
    yaml_node_t *val[LF_KEYS_MAX];
};

void lf_err_mark(struct lf *c, yaml_mark_t m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void lf_err(struct lf *c, const yaml_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* 1-based line and column of a node, for the model's line/col fields. */
unsigned lf_line(const yaml_node_t *n);
unsigned lf_col(const yaml_node_t *n);

yaml_node_t *lf_node(struct lf *c, yaml_node_item_t id);

/* Resolves the node named by the scalar n (the key what, for an error about
 * its type), as lab_node_index; reports an unknown name as `unknown node "x"
 * in WHERE` with a did-you-mean and the known nodes. Returns the index or a
 * negative value. */
int lf_node_ref(struct lf *c, yaml_node_t *n, const char *what, const char *where);
bool lf_is_null(const yaml_node_t *n);
/* "a mapping", "a list", "nothing" or the scalar quoted (shortened). */
const char *lf_describe(const yaml_node_t *n, char *buf, size_t len);

/* Checks that n is a mapping (null counts as an empty one) whose keys all
 * appear in keys[] (NULL-terminated, at most LF_KEYS_MAX), each once, and
 * fills m. Reports a wrong type, unknown and duplicate keys; returns 0, or
 * -1 if n is not a mapping. what names the mapping in messages. */
int lf_mapping(struct lf *c, yaml_node_t *n, const char *what, const char *const *keys,
               struct lf_map *m);
/* Reports `missing required key "KEY" in WHAT` when m lacks key i. */
bool lf_require(struct lf *c, yaml_node_t *map, const struct lf_map *m, size_t i,
                const char *const *keys, const char *what);
/* Checks that n is a list (sequence); null counts as an empty one when
 * null_ok. Returns the item count, or -1 (reported). */
int lf_sequence(struct lf *c, yaml_node_t *n, const char *what, bool null_ok);
yaml_node_t *lf_item(struct lf *c, yaml_node_t *seq, int i);

/* Typed scalar readers: each reports its own error naming `what` and
 * returns 0 or -1. */
const char *lf_scalar(struct lf *c, yaml_node_t *n, const char *what);
int lf_name(struct lf *c, yaml_node_t *n, const char *what, char out[LAB_NAME_MAX]);
int lf_uint(struct lf *c, yaml_node_t *n, const char *what, uint64_t min, uint64_t max,
            uint64_t *out);
int lf_dur(struct lf *c, yaml_node_t *n, const char *what, uint64_t min, uint64_t max,
           uint64_t *out);
int lf_bool(struct lf *c, yaml_node_t *n, const char *what, bool *out);
/* One of words[] (NULL-terminated); *out is its index. */
int lf_word(struct lf *c, yaml_node_t *n, const char *what, const char *const *words, int *out);
/* strdup that records running out of memory in c. */
char *lf_strdup(struct lf *c, const char *s);
void *lf_calloc(struct lf *c, size_t n, size_t size);

/* Formats a duration for messages ("250ms"); buf of at least 32 bytes. */
const char *lf_durstr(uint64_t ns, char *buf, size_t len);

/* A routing mode word (labfile_routing.c); 0 or -1 (reported). */
int lf_parse_routing(struct lf *c, yaml_node_t *n, const char *what, enum lab_routing *out);
/* A vantage's routing: key (key NULL: the lab's mode), checked against the
 * lab's routing, which is parsed first. */
void lf_parse_vantage_routing(struct lf *c, yaml_node_t *key, yaml_node_t *val,
                              struct lab_vantage *v);

/* Sections, in labfile_sections.c and labfile_drill.c. */
void lf_parse_lab(struct lf *c);
/* The probes section (labfile_probes.c), and the service words of
 * ah/schema.h, NULL-terminated, for lf_word. */
void lf_parse_probes(struct lf *c, yaml_node_t *key, yaml_node_t *n);
const char *const *lf_service_words(void);
void lf_parse_drill(struct lf *c, yaml_node_t *seq);

/* Deployment sections and atlas:, in labfile_deploy.c (docs/deployment.md). */
const char *lf_kind_name(enum lab_kind k);
void lf_parse_kind(struct lf *c, yaml_node_t *key, yaml_node_t *n);
/* Reports `KEY: only in kind: KIND` at key (a scalar key node) when the file
 * is of the other kind; true when key is NULL or allowed. */
bool lf_kind_only(struct lf *c, yaml_node_t *key, enum lab_kind kind);
/* A string that becomes an ssh argument or a remote command: not empty,
 * shorter than LAB_COMMAND_MAX, no control bytes but tab. NULL if not. */
const char *lf_text(struct lf *c, yaml_node_t *n, const char *what);
void lf_parse_ssh(struct lf *c, yaml_node_t *n, struct lab_ssh *s);
/* A node's or vantage's host: and own ssh: (either may be NULL), merged
 * over the file's ssh: (parse that first) into out. */
void lf_parse_host(struct lf *c, yaml_node_t *host, yaml_node_t *ssh, const char *what,
                   struct lab_host *out);
void lf_parse_actions(struct lf *c, yaml_node_t *n, struct lab_node *node);
/* A deployment drill step's verb must be one of its node's actions. */
void lf_check_action(struct lf *c, yaml_node_t *verb_key, const struct lab_event *e);
int lf_parse_run(struct lf *c, yaml_node_t *n, struct lab_event *e);
/* Why a is no anycast service address (multicast, loopback, ...), or NULL. */
const char *lf_not_anycast(const struct ah_addr *a);
void lf_parse_on_failure(struct lf *c, yaml_node_t *n);
void lf_parse_step_timeout(struct lf *c, yaml_node_t *n);
void lf_parse_atlas(struct lf *c, yaml_node_t *n);
void lf_ssh_free(struct lab_ssh *s);
void lf_host_free(struct lab_host *h);

#endif
