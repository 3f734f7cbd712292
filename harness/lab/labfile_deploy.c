/* The deployment sections of a run file (docs/lab-file.md, docs/deployment.md):
 * kind, ssh settings and their merge, node and vantage hosts, node actions,
 * the remote probe command, run: steps, on-failure, step-timeout, which keys belong to
 * which kind, and the atlas: block both kinds share. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ah/addr.h"
#include "ah/clock.h"
#include "ah/schema.h"

#include "labfile_int.h"

#define ATLAS_PROBES_DEFAULT 500
#define ATLAS_PROBES_MAX     50000
/* RIPE Atlas refuses DNS measurements more often than once a minute. */
#define ATLAS_INTERVAL_MIN (60 * AH_NS_PER_S)
#define ATLAS_INTERVAL_MAX (86400 * AH_NS_PER_S)
#define ATLAS_INTERVAL_DEF (240 * AH_NS_PER_S)
/* Unix seconds before the year 10000, so every time prints as ISO 8601. */
#define ATLAS_TIME_MAX 253402300799LL

static const char *const kind_words[] = {"lab", "deployment", NULL};

const char *lf_kind_name(enum lab_kind k)
{
    return k == LAB_KIND_DEPLOYMENT ? "deployment" : "lab";
}

void lf_parse_kind(struct lf *c, yaml_node_t *key, yaml_node_t *n)
{
    int w;
    c->lab->kind = LAB_KIND_LAB;
    c->lab->step_timeout_ns = LAB_STEP_TIMEOUT_DEFAULT_NS;
    c->kind_ok = true;
    if (key == NULL)
        return;
    c->kind_ok = lf_word(c, n, "kind", kind_words, &w) == 0;
    if (c->kind_ok)
        c->lab->kind = (enum lab_kind)w;
}

bool lf_kind_only(struct lf *c, yaml_node_t *key, enum lab_kind kind)
{
    if (key == NULL || !c->kind_ok || c->lab->kind == kind)
        return true;
    lf_err(c, key, "%s: only in kind: %s (this file is kind: %s)",
           (const char *)key->data.scalar.value, lf_kind_name(kind), lf_kind_name(c->lab->kind));
    return false;
}

/* ---- checked strings ---- */

/* A string value that becomes one argument of ssh(1) or a remote command:
 * 1 to LAB_COMMAND_MAX - 1 bytes, not only blanks, without control bytes
 * (a newline would end the remote command early; tabs are fine). */
const char *lf_text(struct lf *c, yaml_node_t *n, const char *what)
{
    const char *v = lf_scalar(c, n, what);
    if (v == NULL)
        return NULL;
    size_t len = strlen(v);
    if (v[strspn(v, " \t")] == '\0') {
        lf_err(c, n, "%s: is empty", what);
        return NULL;
    }
    if (len >= LAB_COMMAND_MAX) {
        lf_err(c, n, "%s: %zu bytes, at most %d", what, len, LAB_COMMAND_MAX - 1);
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)v[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            lf_err(c, n, "%s: contains a control character (byte 0x%02x at %zu)", what, ch, i + 1);
            return NULL;
        }
    }
    return v;
}

/* As lf_text, and one word: no blanks, and no leading '-', which ssh would
 * read as an option. */
static const char *word_arg(struct lf *c, yaml_node_t *n, const char *what)
{
    const char *v = lf_text(c, n, what);
    if (v == NULL)
        return NULL;
    if (strpbrk(v, " \t") != NULL) {
        lf_err(c, n, "%s: \"%s\" contains a blank", what, v);
        return NULL;
    }
    if (v[0] == '-') {
        lf_err(c, n, "%s: \"%s\" starts with '-' (ssh would read it as an option)", what, v);
        return NULL;
    }
    return v;
}

/* ---- ssh: ---- */

/* The directory of the run file, absolute, with a trailing '/'. */
static int file_dir(struct lf *c, char *buf, size_t len)
{
    const char *slash = strrchr(c->file, '/');
    int dlen = slash != NULL ? (int)(slash - c->file) : 0;
    char cwd[PATH_MAX];
    int n;
    if (c->file[0] == '/')
        n = snprintf(buf, len, "%.*s/", dlen, c->file);
    else if (getcwd(cwd, sizeof cwd) == NULL)
        return -1;
    else if (slash != NULL)
        n = snprintf(buf, len, "%s/%.*s/", cwd, dlen, c->file);
    else
        n = snprintf(buf, len, "%s/", cwd);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* A path value made absolute against the run file's directory. */
static char *abs_path(struct lf *c, yaml_node_t *n, const char *what, const char *v)
{
    char dir[PATH_MAX], *out = NULL;
    if (v[0] == '/')
        return lf_strdup(c, v);
    if (v[0] == '~') {
        lf_err(c, n,
               "%s: \"%s\": '~' is not expanded; write the full path or one relative to "
               "the run file",
               what, v);
        return NULL;
    }
    if (file_dir(c, dir, sizeof dir) < 0 || strlen(dir) + strlen(v) >= LAB_COMMAND_MAX) {
        lf_err(c, n, "%s: \"%s\" made absolute is longer than %d bytes", what, v,
               LAB_COMMAND_MAX - 1);
        return NULL;
    }
    if (asprintf(&out, "%s%s", dir, v) < 0) {
        c->oom = true;
        return NULL;
    }
    return out;
}

/* ssh options whose value is one file: a relative one is taken from the run
 * file's directory, as config and identity are. */
static bool option_is_file(const char *key, size_t klen)
{
    static const char *const keys[] = {"IdentityFile",       "CertificateFile",
                                       "UserKnownHostsFile", "GlobalKnownHostsFile",
                                       "RevokedHostKeys",    NULL};
    for (size_t i = 0; keys[i] != NULL; i++)
        if (strlen(keys[i]) == klen && strncasecmp(keys[i], key, klen) == 0)
            return true;
    return false;
}

static char *parse_option(struct lf *c, yaml_node_t *n)
{
    const char *v = lf_text(c, n, "ssh.options");
    if (v == NULL)
        return NULL;
    size_t klen = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
    if (klen == 0 || v[klen] != '=' || v[klen + 1] == '\0') {
        lf_err(c, n, "ssh.options: \"%s\" is not Key=Value (e.g. StrictHostKeyChecking=yes)", v);
        return NULL;
    }
    const char *val = v + klen + 1;
    if (!option_is_file(v, klen) || val[0] == '/' || val[0] == '%' || val[0] == '~' ||
        strcasecmp(val, "none") == 0 || strpbrk(val, " \t") != NULL)
        return lf_strdup(c, v);
    char *path = abs_path(c, n, "ssh.options", val), *out = NULL;
    if (path == NULL)
        return NULL;
    if (asprintf(&out, "%.*s=%s", (int)klen, v, path) < 0)
        c->oom = true;
    free(path);
    return out;
}

static void parse_options(struct lf *c, yaml_node_t *n, struct lab_ssh *s)
{
    int count = lf_sequence(c, n, "ssh.options", true);
    if (count <= 0)
        return;
    if (count > LAB_SSH_OPTIONS_MAX) {
        lf_err(c, n, "ssh.options: %d options, at most %d", count, LAB_SSH_OPTIONS_MAX);
        return;
    }
    s->options = lf_calloc(c, (size_t)count, sizeof(*s->options));
    if (s->options == NULL)
        return;
    for (int i = 0; i < count; i++) {
        char *o = parse_option(c, lf_item(c, n, i));
        if (o != NULL)
            s->options[s->noptions++] = o;
    }
}

void lf_parse_ssh(struct lf *c, yaml_node_t *n, struct lab_ssh *s)
{
    static const char *const keys[] = {"config", "user", "identity", "options", NULL};
    enum { K_CONFIG, K_USER, K_IDENTITY, K_OPTIONS };
    struct lf_map m;
    const char *v;
    if (lf_mapping(c, n, "ssh", keys, &m) < 0)
        return;
    if (m.key[K_CONFIG] != NULL && (v = lf_text(c, m.val[K_CONFIG], "ssh.config")) != NULL)
        s->config = abs_path(c, m.val[K_CONFIG], "ssh.config", v);
    if (m.key[K_USER] != NULL && (v = word_arg(c, m.val[K_USER], "ssh.user")) != NULL)
        s->user = lf_strdup(c, v);
    if (m.key[K_IDENTITY] != NULL && (v = lf_text(c, m.val[K_IDENTITY], "ssh.identity")) != NULL)
        s->identity = abs_path(c, m.val[K_IDENTITY], "ssh.identity", v);
    if (m.key[K_OPTIONS] != NULL)
        parse_options(c, m.val[K_OPTIONS], s);
}

void lf_ssh_free(struct lab_ssh *s)
{
    free(s->config);
    free(s->user);
    free(s->identity);
    for (size_t i = 0; s->options != NULL && i < s->noptions; i++)
        free(s->options[i]);
    free(s->options);
    memset(s, 0, sizeof(*s));
}

static char *dup_or_null(struct lf *c, const char *s)
{
    return s != NULL ? lf_strdup(c, s) : NULL;
}

/* The host's own ssh: (parsed into own) over the file's: its scalars win,
 * its options come after the file's (ssh uses the first value of an option
 * given twice, so the file's then win: docs/deployment.md says so). */
static void ssh_merge(struct lf *c, yaml_node_t *at, struct lab_ssh *own, struct lab_ssh *out)
{
    const struct lab_ssh *f = &c->lab->ssh;
    size_t n = f->noptions + own->noptions;
    out->config = own->config != NULL ? own->config : dup_or_null(c, f->config);
    out->user = own->user != NULL ? own->user : dup_or_null(c, f->user);
    out->identity = own->identity != NULL ? own->identity : dup_or_null(c, f->identity);
    own->config = own->user = own->identity = NULL;
    if (n > LAB_SSH_OPTIONS_MAX) {
        lf_err(c, at, "ssh.options: %zu with the file's %zu, at most %d", n, f->noptions,
               LAB_SSH_OPTIONS_MAX);
        n = 0;
    }
    if (n > 0 && (out->options = lf_calloc(c, n, sizeof(*out->options))) != NULL) {
        for (size_t i = 0; i < f->noptions; i++)
            out->options[out->noptions++] = dup_or_null(c, f->options[i]);
        for (size_t i = 0; i < own->noptions; i++) {
            out->options[out->noptions++] = own->options[i];
            own->options[i] = NULL;
        }
    }
    lf_ssh_free(own);
}

/* ---- hosts ---- */

/* An ssh destination: host, user@host, [v6]:port or a Host alias. */
static int check_dest(struct lf *c, yaml_node_t *n, const char *what, const char *v)
{
    const char *at = strrchr(v, '@'), *h = at != NULL ? at + 1 : v;
    if (at == v) {
        lf_err(c, n, "%s: \"%s\" has an empty user before '@'", what, v);
        return -1;
    }
    if (*h == '\0') {
        lf_err(c, n, "%s: \"%s\" has no host after '@'", what, v);
        return -1;
    }
    if (*h != '[')
        return 0;
    const char *close = strchr(h, ']');
    uint16_t port;
    char inner[64];
    struct ah_addr a;
    int ilen = close != NULL ? (int)(close - h - 1) : 0;
    bool ok = close != NULL && ilen > 0 && (size_t)ilen < sizeof inner;
    if (ok) {
        snprintf(inner, sizeof inner, "%.*s", ilen, h + 1);
        ok = ah_addr_parse_ip(inner, &a) == 0 && ah_addr_family(&a) == AF_INET6 &&
             (close[1] == '\0' ||
              (close[1] == ':' && ah_port_parse(close + 2, &port) == 0 && port > 0));
    }
    if (!ok) {
        lf_err(c, n, "%s: \"%s\" is not [IPv6]:port (e.g. [2001:db8::10]:2222)", what, v);
        return -1;
    }
    return 0;
}

void lf_parse_host(struct lf *c, yaml_node_t *host, yaml_node_t *ssh, const char *what,
                   struct lab_host *out)
{
    struct lab_ssh own = {0};
    const char *v = host != NULL ? word_arg(c, host, what) : NULL;
    if (v != NULL && check_dest(c, host, what, v) == 0)
        out->dest = lf_strdup(c, v);
    if (ssh != NULL)
        lf_parse_ssh(c, ssh, &own);
    ssh_merge(c, ssh != NULL ? ssh : host, &own, &out->ssh);
}

void lf_host_free(struct lab_host *h)
{
    free(h->dest);
    h->dest = NULL;
    lf_ssh_free(&h->ssh);
}

/* ---- actions ---- */

/* The verbs a node has actions for ("withdraw, announce", or "none"), or
 * with node NULL every verb that can be an action, for messages. */
static const char *action_list(const struct lab_node *node, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int v = 0; v < AH_VERB_COUNT && off < len; v++) {
        bool listed =
            node != NULL ? node->actions[v] != NULL : v != AH_VERB_RUN && v != AH_VERB_FLAP;
        if (!listed)
            continue;
        int n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
                         ah_schema_verb_key((enum ah_verb)v));
        if (n < 0)
            break;
        off += (size_t)n;
    }
    return off > 0 ? buf : "none";
}

/* The verb whose lab-file key is s, or -1. */
static int verb_of_key(const char *s)
{
    for (int v = 0; v < AH_VERB_COUNT; v++)
        if (strcmp(ah_schema_verb_key((enum ah_verb)v), s) == 0)
            return v;
    return -1;
}

void lf_parse_actions(struct lf *c, yaml_node_t *n, struct lab_node *node)
{
    char d[64], what[96];
    yaml_node_t *first[AH_VERB_COUNT] = {0};
    if (lf_is_null(n))
        return;
    if (n->type != YAML_MAPPING_NODE) {
        lf_err(c, n, "actions: expected a mapping (verb: command), got %s",
               lf_describe(n, d, sizeof d));
        return;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = lf_node(c, p->key), *val = lf_node(c, p->value);
        if (k == NULL || k->type != YAML_SCALAR_NODE) {
            lf_err(c, k, "actions: a key must be a drill verb, got %s",
                   lf_describe(k, d, sizeof d));
            continue;
        }
        const char *name = (const char *)k->data.scalar.value;
        int v = verb_of_key(name);
        if (v == AH_VERB_RUN) {
            lf_err(c, k,
                   "actions: run is not an action: a drill's run: step carries its own "
                   "command");
            continue;
        }
        if (v == AH_VERB_FLAP) {
            lf_err(c, k,
                   "actions: flap is not an action: a flap runs the node's withdraw and "
                   "announce actions");
            continue;
        }
        if (v < 0) {
            char known[256];
            lf_err(c, k, "unknown action \"%s\" in actions (known: %s)", name,
                   action_list(NULL, known, sizeof known));
            continue;
        }
        if (first[v] != NULL) {
            lf_err(c, k, "duplicate action \"%s\" (first at %u:%u)", name, lf_line(first[v]),
                   lf_col(first[v]));
            continue;
        }
        first[v] = k;
        snprintf(what, sizeof what, "actions.%s", name);
        const char *cmd = lf_text(c, val, what);
        if (cmd != NULL)
            node->actions[v] = lf_strdup(c, cmd);
    }
}

/* A deployment drill step runs the node's action for its verb; flap runs
 * withdraw and announce. Reported at the verb's key. */
void lf_check_action(struct lf *c, yaml_node_t *verb_key, const struct lab_event *e)
{
    const struct lab_node *node = &c->lab->nodes[e->node];
    char list[256];
    if (e->verb == AH_VERB_RUN)
        return;
    if (e->verb == AH_VERB_FLAP) {
        if (node->actions[AH_VERB_WITHDRAW] == NULL || node->actions[AH_VERB_ANNOUNCE] == NULL)
            lf_err(c, verb_key,
                   "drill: flap of node \"%s\" needs its withdraw and announce actions (its "
                   "actions: %s)",
                   node->name, action_list(node, list, sizeof list));
        return;
    }
    if (node->actions[e->verb] == NULL)
        lf_err(c, verb_key, "drill: node \"%s\" has no \"%s\" action (its actions: %s)", node->name,
               ah_schema_verb_key(e->verb), action_list(node, list, sizeof list));
}

/* run: {node, command}; returns the node index or -1. */
int lf_parse_run(struct lf *c, yaml_node_t *n, struct lab_event *e)
{
    static const char *const keys[] = {"node", "command", NULL};
    enum { K_NODE, K_COMMAND };
    struct lf_map m;
    if (lf_mapping(c, n, "run", keys, &m) < 0)
        return -1;
    bool have_node = lf_require(c, n, &m, K_NODE, keys, "run");
    bool have_cmd = lf_require(c, n, &m, K_COMMAND, keys, "run");
    int node = -1;
    if (have_node)
        node = lf_node_ref(c, m.val[K_NODE], "run.node", "drill");
    const char *cmd = have_cmd ? lf_text(c, m.val[K_COMMAND], "run.command") : NULL;
    if (cmd != NULL)
        e->command = lf_strdup(c, cmd);
    return cmd != NULL ? node : -1;
}

/* ---- anycast addresses of a deployment ---- */

/* What cannot be the address of an anycast service, and why. */
static const struct {
    const char *prefix, *why;
} not_anycast[] = {
    {"0.0.0.0/8", "\"this network\", 0.0.0.0/8"},
    {"127.0.0.0/8", "loopback"},
    {"169.254.0.0/16", "link-local"},
    {"224.0.0.0/4", "multicast"},
    {"240.0.0.0/4", "reserved, 240.0.0.0/4 with the broadcast address"},
    {"::/128", "the unspecified address"},
    {"::1/128", "loopback"},
    {"::ffff:0.0.0.0/96", "IPv4-mapped: write the IPv4 address"},
    {"fe80::/10", "link-local"},
    {"ff00::/8", "multicast"},
};

const char *lf_not_anycast(const struct ah_addr *a)
{
    for (size_t i = 0; i < sizeof not_anycast / sizeof not_anycast[0]; i++) {
        struct ah_prefix p;
        if (ah_prefix_parse(not_anycast[i].prefix, &p) == 0 && ah_prefix_contains(&p, a))
            return not_anycast[i].why;
    }
    return NULL;
}

/* ---- on-failure ---- */

void lf_parse_on_failure(struct lf *c, yaml_node_t *n)
{
    static const char *const words[] = {"continue", "stop", NULL};
    int w;
    if (lf_word(c, n, "on-failure", words, &w) == 0)
        c->lab->on_failure_stop = w == 1;
}

/* ---- step-timeout ---- */

/* A drill command that runs longer is ended on its host: at least a second
 * (an ssh round trip must fit), at most an hour. */
void lf_parse_step_timeout(struct lf *c, yaml_node_t *n)
{
    lf_dur(c, n, "step-timeout", AH_NS_PER_S, LAB_STEP_TIMEOUT_MAX_NS, &c->lab->step_timeout_ns);
}

/* ---- atlas: ---- */

/* Unix seconds, or an ISO 8601 UTC time 2026-12-03T10:00:00Z. */
static int atlas_time(struct lf *c, yaml_node_t *n, const char *what, int64_t *out)
{
    const char *v = lf_scalar(c, n, what);
    if (v == NULL)
        return -1;
    long long t = -1;
    if (v[0] >= '0' && v[0] <= '9' && strspn(v, "0123456789") == strlen(v) && strlen(v) <= 12) {
        t = strtoll(v, NULL, 10);
    } else {
        struct tm tm = {0};
        const char *end = strptime(v, "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (end != NULL && *end == '\0' && strlen(v) == 20)
            t = (long long)timegm(&tm);
    }
    if (t <= 0 || t > ATLAS_TIME_MAX) {
        char d[64];
        lf_err(c, n, "%s: bad time %s (write unix seconds or a UTC time like 2026-12-03T10:00:00Z)",
               what, lf_describe(n, d, sizeof d));
        return -1;
    }
    *out = t;
    return 0;
}

void lf_parse_atlas(struct lf *c, yaml_node_t *n)
{
    static const char *const keys[] = {"probes", "interval", "area", "start", "stop", NULL};
    static const char *const areas[] = {
        "WW", "West", "North-Central", "South-Central", "North-East", "South-East", NULL};
    enum { K_PROBES, K_INTERVAL, K_AREA, K_START, K_STOP };
    struct lab_atlas *a = &c->lab->atlas;
    struct lf_map m;
    uint64_t v;
    int w;
    *a = (struct lab_atlas){
        .given = true, .probes = ATLAS_PROBES_DEFAULT, .interval_ns = ATLAS_INTERVAL_DEF};
    snprintf(a->area, sizeof a->area, "%s", areas[0]);
    if (lf_mapping(c, n, "atlas", keys, &m) < 0)
        return;
    if (m.val[K_PROBES] != NULL &&
        lf_uint(c, m.val[K_PROBES], "atlas.probes", 1, ATLAS_PROBES_MAX, &v) == 0)
        a->probes = (unsigned)v;
    if (m.val[K_INTERVAL] != NULL && lf_dur(c, m.val[K_INTERVAL], "atlas.interval",
                                            ATLAS_INTERVAL_MIN, ATLAS_INTERVAL_MAX, &v) == 0) {
        if (v % AH_NS_PER_S != 0)
            lf_err(c, m.val[K_INTERVAL],
                   "atlas.interval: %s is not a whole number of seconds (Atlas counts in "
                   "seconds)",
                   (const char *)m.val[K_INTERVAL]->data.scalar.value);
        else
            a->interval_ns = v;
    }
    if (m.val[K_AREA] != NULL && lf_word(c, m.val[K_AREA], "atlas.area", areas, &w) == 0)
        snprintf(a->area, sizeof a->area, "%s", areas[w]);
    bool sok =
        m.key[K_START] != NULL && atlas_time(c, m.val[K_START], "atlas.start", &a->start) == 0;
    bool eok = m.key[K_STOP] != NULL && atlas_time(c, m.val[K_STOP], "atlas.stop", &a->stop) == 0;
    if (sok && eok && a->stop <= a->start)
        lf_err(c, m.val[K_STOP], "atlas.stop: %s is not after atlas.start %s",
               (const char *)m.val[K_STOP]->data.scalar.value,
               (const char *)m.val[K_START]->data.scalar.value);
}
