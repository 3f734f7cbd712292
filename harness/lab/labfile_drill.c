/* The drill section of a lab file: a time-ordered list of events
 * `{at: 2s, <verb>: node}` (flap takes {node, count, down, up}, delay takes
 * {node, ms}, run: {node, command} in a deployment). Checks each verb
 * against the routing mode and the node's responder (in a deployment:
 * against the node's actions), the timeline against the duration, and that route changes of
 * one node do not overlap a flap of it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ah/clock.h"
#include "ah/schema.h"

#include "labfile_int.h"

#define MSEC AH_NS_PER_MS
#define HOUR (3600 * AH_NS_PER_S)

#define NKEYS        (AH_VERB_COUNT + 2)
#define DELAY_MS_MAX 60000

/* Keys of a drill event: "at" and the verbs in the order of enum ah_verb
 * (keys[1 + verb]), NULL-terminated. */
static void event_keys(const char *keys[NKEYS])
{
    keys[0] = "at";
    for (int v = 0; v < AH_VERB_COUNT; v++)
        keys[1 + v] = ah_schema_verb_key((enum ah_verb)v);
    keys[NKEYS - 1] = NULL;
}

static bool verb_needs_bgp(enum ah_verb v)
{
    return v == AH_VERB_KILL_BGP || v == AH_VERB_START_BGP || v == AH_VERB_PAUSE_BGP ||
           v == AH_VERB_RESUME_BGP;
}

static bool verb_moves_route(enum ah_verb v)
{
    return v == AH_VERB_WITHDRAW || v == AH_VERB_ANNOUNCE || v == AH_VERB_FLAP;
}

static uint64_t flap_span(const struct lab_event *e)
{
    return (uint64_t)e->flap_count * (e->flap_down_ns + e->flap_up_ns);
}

/* flap: a node name (with the defaults) or {node, count, down, up}. */
static int parse_flap(struct lf *c, yaml_node_t *n, struct lab_event *e)
{
    static const char *const keys[] = {"node", "count", "down", "up", NULL};
    enum { K_NODE, K_COUNT, K_DOWN, K_UP };
    e->flap_count = 1;
    e->flap_down_ns = AH_NS_PER_S;
    e->flap_up_ns = AH_NS_PER_S;
    if (n != NULL && n->type == YAML_SCALAR_NODE && !lf_is_null(n))
        return lf_node_ref(c, n, "flap", "drill");
    struct lf_map m;
    int rc = 0;
    uint64_t v;
    if (lf_mapping(c, n, "flap", keys, &m) < 0 || !lf_require(c, n, &m, K_NODE, keys, "flap"))
        return -1;
    int node = lf_node_ref(c, m.val[K_NODE], "flap.node", "drill");
    if (m.val[K_COUNT] != NULL) {
        if (lf_uint(c, m.val[K_COUNT], "flap.count", 1, 1000, &v) == 0)
            e->flap_count = (unsigned)v;
        else
            rc = -1;
    }
    if (m.val[K_DOWN] != NULL &&
        lf_dur(c, m.val[K_DOWN], "flap.down", MSEC, HOUR, &e->flap_down_ns) < 0)
        rc = -1;
    if (m.val[K_UP] != NULL && lf_dur(c, m.val[K_UP], "flap.up", MSEC, HOUR, &e->flap_up_ns) < 0)
        rc = -1;
    return rc < 0 ? -1 : node;
}

/* delay: {node, ms}. Only the builtin responder can hold its answers back
 * (its control socket's "delay MS"); packaged servers and commands cannot. */
static int parse_delay(struct lf *c, yaml_node_t *n, yaml_node_t *verb_key, struct lab_event *e)
{
    static const char *const keys[] = {"node", "ms", NULL};
    enum { K_NODE, K_MS };
    struct lf_map m;
    uint64_t v;
    if (lf_mapping(c, n, "delay", keys, &m) < 0)
        return -1;
    bool have_node = lf_require(c, n, &m, K_NODE, keys, "delay");
    bool have_ms = lf_require(c, n, &m, K_MS, keys, "delay");
    int node = have_node ? lf_node_ref(c, m.val[K_NODE], "delay.node", "drill") : -1;
    int rc = have_ms ? lf_uint(c, m.val[K_MS], "delay.ms", 0, DELAY_MS_MAX, &v) : -1;
    if (rc == 0)
        e->delay_ms = (unsigned)v;
    if (node >= 0 && c->lab->nodes[node].responder != LAB_RESPONDER_BUILTIN) {
        enum lab_responder r = c->lab->nodes[node].responder;
        lf_err(c, verb_key, "drill: delay needs the builtin responder (node %s runs %s)",
               c->lab->nodes[node].name,
               r == LAB_RESPONDER_COMMAND ? "a command" : lab_responder_name(r));
        return -1;
    }
    return rc < 0 ? -1 : node;
}

/* Parses one event into e; returns 0 if it is complete and valid. The
 * positions of its `at` value and verb key come back for later checks. */
static int parse_event(struct lf *c, yaml_node_t *item, struct lab_event *e, yaml_node_t **at,
                       yaml_node_t **verb_key)
{
    struct lf_map m;
    const struct lab *lab = c->lab;
    const char *keys[NKEYS];
    int rc = 0;
    event_keys(keys);
    *at = NULL;
    *verb_key = NULL;
    e->line = lf_line(item);
    e->col = lf_col(item);
    if (lf_mapping(c, item, "drill event", keys, &m) < 0)
        return -1;
    if (!lf_require(c, item, &m, 0, keys, "drill event"))
        rc = -1;
    else if (lf_dur(c, m.val[0], "drill.at", 0, 24 * HOUR, &e->at_ns) < 0)
        rc = -1;
    else
        *at = m.val[0];

    int verb = -1;
    for (int v = 0; v < AH_VERB_COUNT; v++) {
        yaml_node_t *k = m.key[1 + v];
        if (k == NULL)
            continue;
        if (verb >= 0) {
            lf_err(c, k, "drill event has two verbs, %s and %s: write one event per verb",
                   keys[1 + verb], keys[1 + v]);
            rc = -1;
            continue;
        }
        verb = v;
    }
    if (verb < 0) {
        /* The list comes from the verb table, so a new verb shows up here. */
        char list[256];
        size_t len = 0;
        for (int v = 0; v < AH_VERB_COUNT && len < sizeof list; v++)
            len +=
                (size_t)snprintf(list + len, sizeof list - len, "%s%s", v ? ", " : "", keys[1 + v]);
        lf_err(c, item, "drill event needs a verb (%s)", list);
        return -1;
    }
    e->verb = (enum ah_verb)verb;
    *verb_key = m.key[1 + verb];
    bool dep = lab->kind == LAB_KIND_DEPLOYMENT;
    if (e->verb == AH_VERB_RUN && !lf_kind_only(c, *verb_key, LAB_KIND_DEPLOYMENT))
        return -1;
    /* In a deployment a verb is the name of the node's action: no routing
     * or responder is needed (docs/deployment.md). */
    if (!dep && verb_needs_bgp(e->verb) && c->routing_ok && lab->routing != LAB_ROUTING_BGP) {
        lf_err(c, m.key[1 + verb], "drill: %s needs routing: bgp (routing is %s)",
               ah_schema_verb_name(e->verb), lab_routing_name(lab->routing));
        rc = -1;
    }
    yaml_node_t *val = m.val[1 + verb];
    if (dep && e->verb == AH_VERB_DELAY && val != NULL && val->type == YAML_MAPPING_NODE) {
        lf_err(c, val,
               "delay: in kind: deployment takes a node name: it runs the node's delay "
               "action");
        return -1;
    }
    int node = e->verb == AH_VERB_FLAP            ? parse_flap(c, val, e)
               : e->verb == AH_VERB_RUN           ? lf_parse_run(c, val, e)
               : e->verb == AH_VERB_DELAY && !dep ? parse_delay(c, val, m.key[1 + verb], e)
                                                  : lf_node_ref(c, val, "drill", "drill");
    if (node < 0)
        return -1;
    e->node = (size_t)node;
    if (dep)
        lf_check_action(c, *verb_key, e);
    return rc;
}

void lf_parse_drill(struct lf *c, yaml_node_t *seq)
{
    struct lab *lab = c->lab;
    int n = lf_sequence(c, seq, "drill", true);
    if (n <= 0)
        return;
    if (n > LAB_DRILL_MAX) {
        lf_err(c, seq, "drill: %d events, at most %d", n, LAB_DRILL_MAX);
        return;
    }
    lab->drill = lf_calloc(c, (size_t)n, sizeof(*lab->drill));
    if (lab->drill == NULL)
        return;
    char a[32], b[32], d[32];
    const struct lab_event *prev = NULL;
    for (int i = 0; i < n; i++) {
        yaml_node_t *item = lf_item(c, seq, i), *at, *verb_key;
        struct lab_event *e = &lab->drill[lab->ndrill];
        free(e->command); /* of a broken event before, whose slot this reuses */
        memset(e, 0, sizeof(*e));
        int rc = parse_event(c, item, e, &at, &verb_key);

        /* Timeline checks need a valid time even if the rest is broken. */
        if (at != NULL) {
            if (prev != NULL && e->at_ns < prev->at_ns)
                lf_err(c, at,
                       "drill: at %s comes before the previous event (%s, line %u); list events "
                       "in time order",
                       lf_durstr(e->at_ns, a, sizeof(a)), lf_durstr(prev->at_ns, b, sizeof(b)),
                       prev->line);
            else if (c->duration_ok && e->at_ns >= lab->duration_ns)
                lf_err(c, at, "drill: at %s is not before the end of the run (duration %s)",
                       lf_durstr(e->at_ns, a, sizeof(a)),
                       lf_durstr(lab->duration_ns, b, sizeof(b)));
        }
        if (rc < 0 || at == NULL)
            continue;
        if (e->verb == AH_VERB_FLAP && c->duration_ok &&
            e->at_ns + flap_span(e) > lab->duration_ns && e->at_ns < lab->duration_ns)
            lf_err(c, verb_key,
                   "drill: flap of %s from %s runs until %s (count x (down + up)), past "
                   "duration %s",
                   lab->nodes[e->node].name, lf_durstr(e->at_ns, a, sizeof(a)),
                   lf_durstr(e->at_ns + flap_span(e), b, sizeof(b)),
                   lf_durstr(lab->duration_ns, d, sizeof(d)));
        /* A withdraw or announce of a node in the middle of its own flap
         * leaves the route state undefined. */
        if (verb_moves_route(e->verb)) {
            for (size_t j = 0; j < lab->ndrill; j++) {
                const struct lab_event *f = &lab->drill[j];
                if (f->verb != AH_VERB_FLAP || f->node != e->node)
                    continue;
                if (e->at_ns >= f->at_ns && e->at_ns < f->at_ns + flap_span(f)) {
                    lf_err(c, verb_key,
                           "drill: %s of %s at %s falls inside the flap of %s (%s..%s, line %u)",
                           ah_schema_verb_name(e->verb), lab->nodes[e->node].name,
                           lf_durstr(e->at_ns, a, sizeof(a)), lab->nodes[f->node].name,
                           lf_durstr(f->at_ns, b, sizeof(b)),
                           lf_durstr(f->at_ns + flap_span(f), d, sizeof(d)), f->line);
                    break;
                }
            }
        }
        lab->ndrill++;
        prev = e;
    }
    /* A broken last event leaves its command in the slot after the kept
     * ones, which lab_free does not look at. */
    if (lab->ndrill < (size_t)n) {
        free(lab->drill[lab->ndrill].command);
        lab->drill[lab->ndrill].command = NULL;
    }
}
