/* Lab file sections (docs/lab-file.md): the top-level keys, anycast addresses,
 * nodes, vantages, probes, track, bgp and expect, with their defaults and
 * bounds (docs/lab-file.md lists them) and the checks that span sections.
 * The drill is in labfile_drill.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ah/clock.h"
#include "ah/addr.h"
#include "ah/schema.h"
#include "labfile_int.h"

#define MSEC   AH_NS_PER_MS
#define MINUTE (60 * AH_NS_PER_S)
#define HOUR   (3600 * AH_NS_PER_S)

/* The service words of ah/schema.h, NULL-terminated, for lf_word. */
static const char *const *service_words(void)
{
    static const char *words[AH_SVC_COUNT + 1];
    for (int s = 0; s < AH_SVC_COUNT; s++)
        words[s] = ah_service_name((enum ah_service)s);
    return words;
}

/* ---- anycast ---- */

static void parse_anycast(struct lf *c, yaml_node_t *n)
{
    struct ah_prefix ranges[2];
    if (ah_prefix_parse("198.51.100.0/24", &ranges[0]) < 0 ||
        ah_prefix_parse("2001:db8:53::/48", &ranges[1]) < 0) {
        lf_err(c, n, "anycast: internal error: cannot parse the allowed ranges");
        return;
    }
    /* A single address may be written without the list brackets. */
    int count = 1;
    bool single = n != NULL && n->type == YAML_SCALAR_NODE && !lf_is_null(n);
    if (!single) {
        count = lf_sequence(c, n, "anycast", false);
        if (count < 0)
            return;
    }
    if (count == 0) {
        lf_err(c, n, "anycast: needs at least one address");
        return;
    }
    if (count > LAB_ANYCAST_MAX) {
        lf_err(c, n, "anycast: %d addresses, at most %d", count, LAB_ANYCAST_MAX);
        return;
    }
    yaml_node_t *seen[LAB_ANYCAST_MAX];
    for (int i = 0; i < count; i++) {
        yaml_node_t *item = single ? n : lf_item(c, n, i);
        const char *v = lf_scalar(c, item, "anycast");
        if (v == NULL)
            continue;
        struct ah_addr a;
        if (ah_addr_parse_ip(v, &a) < 0) {
            lf_err(c, item, "anycast: \"%s\" is not an IPv4 or IPv6 address", v);
            continue;
        }
        const char *why = NULL;
        if (c->lab->kind == LAB_KIND_DEPLOYMENT && (why = lf_not_anycast(&a)) != NULL) {
            lf_err(c, item, "anycast: %s cannot be an anycast service address (%s)", v, why);
            continue;
        }
        /* A deployment's addresses are the user's own; a lab's are routed
         * only inside its namespaces, from its documentation ranges. */
        if (c->lab->kind == LAB_KIND_LAB && !ah_prefix_contains(&ranges[0], &a) &&
            !ah_prefix_contains(&ranges[1], &a)) {
            lf_err(c, item,
                   "anycast: %s is outside the lab's anycast ranges 198.51.100.0/24 and "
                   "2001:db8:53::/48",
                   v);
            continue;
        }
        size_t j;
        for (j = 0; j < c->lab->nanycast; j++)
            if (ah_addr_equal_ip(&c->lab->anycast[j], &a))
                break;
        if (j < c->lab->nanycast) {
            lf_err(c, item, "anycast: %s is listed twice (first at %u:%u)", v, lf_line(seen[j]),
                   lf_col(seen[j]));
            continue;
        }
        seen[c->lab->nanycast] = item;
        c->lab->anycast[c->lab->nanycast++] = a;
    }
}

/* ---- nodes ---- */

static void parse_healthcheck(struct lf *c, yaml_node_t *n, struct lab_healthcheck *hc)
{
    static const char *const keys[] = {"interval", "timeout", "rise", "fall", NULL};
    enum { K_INTERVAL, K_TIMEOUT, K_RISE, K_FALL };
    struct lf_map m;
    /* anycast-healthchecker's defaults (check_interval 10, check_timeout 2,
     * check_rise 2, check_fail 2). */
    *hc = (struct lab_healthcheck){.enabled = true,
                                   .interval_ns = 10 * AH_NS_PER_S,
                                   .timeout_ns = 2 * AH_NS_PER_S,
                                   .rise = 2,
                                   .fall = 2};
    if (lf_mapping(c, n, "healthcheck", keys, &m) < 0)
        return;
    uint64_t v;
    bool tok = m.val[K_TIMEOUT] == NULL, iok = m.val[K_INTERVAL] == NULL;
    if (m.val[K_INTERVAL] != NULL &&
        lf_dur(c, m.val[K_INTERVAL], "healthcheck.interval", 10 * MSEC, HOUR, &v) == 0) {
        hc->interval_ns = v;
        iok = true;
    }
    if (m.val[K_TIMEOUT] != NULL &&
        lf_dur(c, m.val[K_TIMEOUT], "healthcheck.timeout", MSEC, HOUR, &v) == 0) {
        hc->timeout_ns = v;
        tok = true;
    }
    if (m.val[K_RISE] != NULL && lf_uint(c, m.val[K_RISE], "healthcheck.rise", 1, 100, &v) == 0)
        hc->rise = (unsigned)v;
    if (m.val[K_FALL] != NULL && lf_uint(c, m.val[K_FALL], "healthcheck.fall", 1, 100, &v) == 0)
        hc->fall = (unsigned)v;
    /* The default timeout never exceeds a shorter interval given. */
    if (m.val[K_TIMEOUT] == NULL && hc->timeout_ns > hc->interval_ns)
        hc->timeout_ns = hc->interval_ns;
    if (iok && tok && hc->timeout_ns > hc->interval_ns) {
        char a[32], b[32];
        lf_err(c, m.val[K_TIMEOUT] != NULL ? m.val[K_TIMEOUT] : m.val[K_INTERVAL],
               "healthcheck.timeout %s is longer than healthcheck.interval %s",
               lf_durstr(hc->timeout_ns, a, sizeof(a)), lf_durstr(hc->interval_ns, b, sizeof(b)));
    }
}

/* The responder words in enum lab_responder order; "command" is written as
 * a mapping instead. */
static const char *const responder_words[] = {"builtin", "nsd",  "knot",    "bind",
                                              "unbound", "pdns", "command", NULL};

const char *lab_responder_name(enum lab_responder r)
{
    return (unsigned)r <= LAB_RESPONDER_COMMAND ? responder_words[r] : "?";
}

bool lab_responder_dns_only(enum lab_responder r)
{
    return r != LAB_RESPONDER_BUILTIN && r != LAB_RESPONDER_COMMAND;
}

static void parse_responder(struct lf *c, yaml_node_t *n, struct lab_node *node)
{
    static const char *const words[] = {"builtin", "nsd", "knot", "bind", "unbound", "pdns", NULL};
    static const char *const keys[] = {"command", NULL};
    if (n->type == YAML_MAPPING_NODE) {
        struct lf_map m;
        if (lf_mapping(c, n, "responder", keys, &m) < 0)
            return;
        if (!lf_require(c, n, &m, 0, keys, "responder"))
            return;
        const char *cmd = lf_scalar(c, m.val[0], "responder.command");
        if (cmd == NULL)
            return;
        if (cmd[strspn(cmd, " \t")] == '\0') {
            lf_err(c, m.val[0], "responder.command: is empty");
            return;
        }
        node->responder = LAB_RESPONDER_COMMAND;
        node->command = lf_strdup(c, cmd);
        return;
    }
    if (n->type == YAML_SCALAR_NODE && strcmp((const char *)n->data.scalar.value, "command") == 0) {
        lf_err(c, n, "responder: write a command as {command: \"...\"}");
        return;
    }
    int w;
    if (lf_word(c, n, "responder", words, &w) == 0)
        node->responder = (enum lab_responder)w;
}

/* A node's deployment keys: host (required), actions and its own ssh. */
static void parse_node_kind(struct lf *c, yaml_node_t *item, const struct lf_map *m,
                            const char *const *keys, struct lab_node *node)
{
    enum { K_HOST = 3, K_ACTIONS, K_SSH };
    bool dep = c->lab->kind == LAB_KIND_DEPLOYMENT;
    if (!dep) {
        for (int k = K_HOST; k <= K_SSH; k++)
            lf_kind_only(c, m->key[k], LAB_KIND_DEPLOYMENT);
        return;
    }
    lf_require(c, item, m, K_HOST, keys, "node");
    lf_parse_host(c, m->val[K_HOST], m->key[K_SSH] != NULL ? m->val[K_SSH] : NULL, "node host",
                  &node->host);
    if (m->key[K_ACTIONS] != NULL)
        lf_parse_actions(c, m->val[K_ACTIONS], node);
}

static void parse_nodes(struct lf *c, yaml_node_t *seq)
{
    static const char *const keys[] = {"name",    "responder", "healthcheck", "host",
                                       "actions", "ssh",       NULL};
    enum { K_NAME, K_RESPONDER, K_HEALTHCHECK, K_HOST, K_ACTIONS, K_SSH };
    int n = lf_sequence(c, seq, "nodes", false);
    if (n < 0)
        return;
    if (n == 0) {
        lf_err(c, seq, "nodes: needs at least one node");
        return;
    }
    if (n > LAB_NODES_MAX) {
        lf_err(c, seq, "nodes: %d nodes, at most %d", n, LAB_NODES_MAX);
        return;
    }
    struct lab *lab = c->lab;
    lab->nodes = lf_calloc(c, (size_t)n, sizeof(*lab->nodes));
    if (lab->nodes == NULL)
        return;
    lab->nnodes = (size_t)n;
    c->nodes_ok = true;
    for (int i = 0; i < n; i++) {
        yaml_node_t *item = lf_item(c, seq, i);
        struct lab_node *node = &lab->nodes[i];
        struct lf_map m;
        node->line = lf_line(item);
        node->col = lf_col(item);
        if (lf_mapping(c, item, "node", keys, &m) < 0 ||
            !lf_require(c, item, &m, K_NAME, keys, "node") ||
            lf_name(c, m.val[K_NAME], "node name", node->name) < 0) {
            c->nodes_ok = false;
            node->name[0] = '\0';
            if (item == NULL || item->type != YAML_MAPPING_NODE)
                continue;
        } else {
            for (int j = 0; j < i; j++) {
                if (strcmp(lab->nodes[j].name, node->name) == 0) {
                    lf_err(c, m.val[K_NAME], "duplicate node name \"%s\" (first at %u:%u)",
                           node->name, lab->nodes[j].line, lab->nodes[j].col);
                    c->nodes_ok = false;
                    break;
                }
            }
        }
        parse_node_kind(c, item, &m, keys, node);
        if (m.val[K_RESPONDER] != NULL && lf_kind_only(c, m.key[K_RESPONDER], LAB_KIND_LAB))
            parse_responder(c, m.val[K_RESPONDER], node);
        if (m.key[K_HEALTHCHECK] != NULL && lf_kind_only(c, m.key[K_HEALTHCHECK], LAB_KIND_LAB)) {
            parse_healthcheck(c, m.val[K_HEALTHCHECK], &node->healthcheck);
            if (c->routing_ok && lab->routing != LAB_ROUTING_BGP)
                lf_err(c, m.key[K_HEALTHCHECK],
                       "healthcheck: only used with routing: bgp (routing is %s)",
                       lab_routing_name(lab->routing));
        }
    }
}

/* ---- vantages ---- */

static void parse_prefer(struct lf *c, yaml_node_t *n, struct lab_vantage *v)
{
    int count = lf_sequence(c, n, "prefer", false);
    if (count < 0)
        return;
    if (count == 0) {
        lf_err(c, n, "prefer: needs at least one node (leave it out for all nodes)");
        return;
    }
    v->prefer = lf_calloc(c, (size_t)count, sizeof(*v->prefer));
    if (v->prefer == NULL)
        return;
    yaml_node_t *first[LAB_NODES_MAX] = {0};
    for (int i = 0; i < count; i++) {
        yaml_node_t *item = lf_item(c, n, i);
        int idx = lf_node_ref(c, item, "prefer", "prefer");
        if (idx < 0)
            continue;
        if (first[idx] != NULL) {
            lf_err(c, item, "prefer: node \"%s\" is listed twice (first at %u:%u)",
                   c->lab->nodes[idx].name, lf_line(first[idx]), lf_col(first[idx]));
            continue;
        }
        first[idx] = item;
        v->prefer[v->nprefer++] = (size_t)idx;
    }
}

/* A vantage's deployment keys: host (required), probe and its own ssh. */
static void parse_vantage_kind(struct lf *c, yaml_node_t *item, const struct lf_map *m,
                               const char *const *keys, struct lab_vantage *v)
{
    enum { K_HOST = 2, K_PROBE, K_SSH };
    if (c->lab->kind != LAB_KIND_DEPLOYMENT) {
        for (int k = K_HOST; k <= K_SSH; k++)
            lf_kind_only(c, m->key[k], LAB_KIND_DEPLOYMENT);
        return;
    }
    lf_require(c, item, m, K_HOST, keys, "vantage");
    lf_parse_host(c, m->val[K_HOST], m->key[K_SSH] != NULL ? m->val[K_SSH] : NULL, "vantage host",
                  &v->host);
    const char *probe = "anycast-probe";
    if (m->key[K_PROBE] != NULL)
        probe = lf_text(c, m->val[K_PROBE], "probe");
    if (probe != NULL)
        v->probe = lf_strdup(c, probe);
}

static void parse_vantages(struct lf *c, yaml_node_t *seq)
{
    static const char *const keys[] = {"name", "prefer", "host", "probe", "ssh", "routing", NULL};
    enum { K_NAME, K_PREFER, K_HOST, K_PROBE, K_SSH, K_ROUTING };
    int n = lf_sequence(c, seq, "vantages", false);
    if (n < 0)
        return;
    if (n == 0) {
        lf_err(c, seq, "vantages: needs at least one vantage");
        return;
    }
    if (n > LAB_VANTAGES_MAX) {
        lf_err(c, seq, "vantages: %d vantages, at most %d", n, LAB_VANTAGES_MAX);
        return;
    }
    struct lab *lab = c->lab;
    lab->vantages = lf_calloc(c, (size_t)n, sizeof(*lab->vantages));
    if (lab->vantages == NULL)
        return;
    lab->nvantages = (size_t)n;
    for (int i = 0; i < n; i++) {
        yaml_node_t *item = lf_item(c, seq, i);
        struct lab_vantage *v = &lab->vantages[i];
        struct lf_map m;
        v->line = lf_line(item);
        v->col = lf_col(item);
        if (lf_mapping(c, item, "vantage", keys, &m) < 0)
            continue;
        lf_parse_vantage_routing(c, m.key[K_ROUTING], m.val[K_ROUTING], v);
        if (lf_require(c, item, &m, K_NAME, keys, "vantage") &&
            lf_name(c, m.val[K_NAME], "vantage name", v->name) == 0) {
            for (int j = 0; j < i; j++) {
                if (strcmp(lab->vantages[j].name, v->name) == 0) {
                    lf_err(c, m.val[K_NAME], "duplicate vantage name \"%s\" (first at %u:%u)",
                           v->name, lab->vantages[j].line, lab->vantages[j].col);
                    break;
                }
            }
            int ni = lab_node_index(lab, v->name);
            if (ni >= 0)
                lf_err(c, m.val[K_NAME],
                       "vantage name \"%s\" is also a node name (node at %u:%u); nodes and "
                       "vantages need distinct names",
                       v->name, lab->nodes[ni].line, lab->nodes[ni].col);
        }
        parse_vantage_kind(c, item, &m, keys, v);
        if (m.key[K_PREFER] != NULL && lf_kind_only(c, m.key[K_PREFER], LAB_KIND_LAB)) {
            parse_prefer(c, m.val[K_PREFER], v);
        } else if (lab->nnodes > 0) {
            /* Default: every node, in file order. */
            v->prefer = lf_calloc(c, lab->nnodes, sizeof(*v->prefer));
            if (v->prefer == NULL)
                continue;
            for (size_t j = 0; j < lab->nnodes; j++)
                v->prefer[j] = j;
            v->nprefer = lab->nnodes;
        }
    }
}

/* ---- probes ---- */

/* A transport's service: one word or a list of distinct words. The set is
 * replaced only when the whole value is good, so an error leaves the
 * default and reports once per bad item. */
static void parse_services(struct lf *c, yaml_node_t *n, const char *what, bool out[AH_SVC_COUNT])
{
    bool set[AH_SVC_COUNT] = {false};
    yaml_node_t *first[AH_SVC_COUNT] = {NULL};
    int w;
    if (n->type != YAML_SEQUENCE_NODE) {
        if (lf_word(c, n, what, service_words(), &w) == 0) {
            memset(out, 0, AH_SVC_COUNT * sizeof(*out));
            out[w] = true;
        }
        return;
    }
    int cnt = lf_sequence(c, n, what, false);
    if (cnt == 0)
        lf_err(c, n, "%s: empty list: give at least one service", what);
    bool ok = cnt > 0;
    for (int i = 0; i < cnt; i++) {
        yaml_node_t *item = lf_item(c, n, i);
        if (lf_word(c, item, what, service_words(), &w) < 0) {
            ok = false;
        } else if (set[w]) {
            lf_err(c, item, "%s: duplicate service %s (first at %u:%u)", what,
                   ah_service_name((enum ah_service)w), lf_line(first[w]), lf_col(first[w]));
            ok = false;
        } else {
            set[w] = true;
            first[w] = item;
        }
    }
    if (ok)
        memcpy(out, set, sizeof(set));
}

static void parse_udp(struct lf *c, yaml_node_t *n, struct lab_probe_udp *u)
{
    static const char *const keys[] = {"service", "rate", "flows", "timeout", NULL};
    enum { K_SERVICE, K_RATE, K_FLOWS, K_TIMEOUT };
    struct lf_map m;
    u->enabled = true;
    if (lf_mapping(c, n, "probes.udp", keys, &m) < 0)
        return;
    uint64_t v;
    if (m.val[K_SERVICE] != NULL)
        parse_services(c, m.val[K_SERVICE], "probes.udp.service", u->service);
    if (m.val[K_RATE] != NULL && lf_uint(c, m.val[K_RATE], "probes.udp.rate", 1, 1000000, &v) == 0)
        u->rate = (uint32_t)v;
    if (m.val[K_FLOWS] != NULL && lf_uint(c, m.val[K_FLOWS], "probes.udp.flows", 1, 1024, &v) == 0)
        u->flows = (uint32_t)v;
    if (m.val[K_TIMEOUT] != NULL &&
        lf_dur(c, m.val[K_TIMEOUT], "probes.udp.timeout", MSEC, MINUTE, &v) == 0)
        u->timeout_ns = v;
}

static void parse_tcp(struct lf *c, yaml_node_t *n, struct lab_probe_tcp *t)
{
    static const char *const keys[] = {"service", "connections", "interval", "timeout", NULL};
    enum { K_SERVICE, K_CONNECTIONS, K_INTERVAL, K_TIMEOUT };
    struct lf_map m;
    if (lf_mapping(c, n, "probes.tcp", keys, &m) < 0)
        return;
    uint64_t v;
    if (m.val[K_SERVICE] != NULL)
        parse_services(c, m.val[K_SERVICE], "probes.tcp.service", t->service);
    if (m.val[K_CONNECTIONS] != NULL &&
        lf_uint(c, m.val[K_CONNECTIONS], "probes.tcp.connections", 0, 100000, &v) == 0)
        t->connections = (uint32_t)v;
    if (m.val[K_INTERVAL] != NULL &&
        lf_dur(c, m.val[K_INTERVAL], "probes.tcp.interval", MSEC, MINUTE, &v) == 0)
        t->interval_ns = v;
    if (m.val[K_TIMEOUT] != NULL &&
        lf_dur(c, m.val[K_TIMEOUT], "probes.tcp.timeout", MSEC, MINUTE, &v) == 0)
        t->timeout_ns = v;
    /* connections: 0 turns TCP probing off. */
    t->enabled = t->connections > 0;
}

/* probes: families: one word or a list of distinct ones, each a family of
 * at least one anycast address. The default (every family of the anycast
 * list) stays unless the whole value is good. */
static void parse_families(struct lf *c, yaml_node_t *n)
{
    static const char *const what = "probes.families";
    const char *const words[] = {ah_family_name(AH_FAM_IPV4), ah_family_name(AH_FAM_IPV6), NULL};
    bool set[AH_FAM_COUNT] = {false}, has[AH_FAM_COUNT] = {false};
    for (size_t a = 0; a < c->lab->nanycast; a++)
        has[lab_anycast_family(c->lab, a)] = true;
    bool seq = n->type == YAML_SEQUENCE_NODE;
    int cnt = seq ? lf_sequence(c, n, what, false) : 1;
    if (cnt == 0)
        lf_err(c, n, "%s: empty list: give ipv4, ipv6 or both", what);
    bool ok = cnt > 0;
    for (int i = 0; i < cnt; i++) {
        yaml_node_t *item = seq ? lf_item(c, n, i) : n;
        int w;
        if (lf_word(c, item, what, words, &w) < 0) {
            ok = false;
        } else if (set[w]) {
            lf_err(c, item, "%s: %s is listed twice", what, words[w]);
            ok = false;
        } else if (!has[w] && c->lab->nanycast > 0) {
            lf_err(c, item, "%s: no anycast address is %s", what, words[w]);
            ok = false;
        } else {
            set[w] = true;
        }
    }
    if (ok)
        memcpy(c->lab->probe_family, set, sizeof set);
}

/* probes: vantages-per-process: auto (0) or 1..LAB_PROBE_GROUP_MAX. */
static void parse_per_process(struct lf *c, yaml_node_t *n, uint32_t *out)
{
    uint64_t v;
    if (n->type == YAML_SCALAR_NODE && strcmp((const char *)n->data.scalar.value, "auto") == 0) {
        *out = 0;
        return;
    }
    if (lf_uint(c, n, "probes.vantages-per-process", 1, LAB_PROBE_GROUP_MAX, &v) == 0)
        *out = (uint32_t)v;
}

static void parse_probes(struct lf *c, yaml_node_t *key, yaml_node_t *n)
{
    const char *const keys[] = {ah_transport_name(AH_TR_UDP), ah_transport_name(AH_TR_TCP),
                                "families", "vantages-per-process", NULL};
    enum { K_FAMILIES = AH_TR_COUNT, K_PER_PROCESS };
    struct lab *lab = c->lab;
    for (size_t a = 0; a < lab->nanycast; a++)
        lab->probe_family[lab_anycast_family(lab, a)] = true;
    lab->udp = (struct lab_probe_udp){
        .service[AH_SVC_DNS] = true, .rate = 100, .flows = 4, .timeout_ns = AH_NS_PER_S};
    lab->tcp = (struct lab_probe_tcp){.service[AH_SVC_ECHO] = true,
                                      .connections = 10,
                                      .interval_ns = 100 * MSEC,
                                      .timeout_ns = AH_NS_PER_S};
    if (key == NULL) {
        /* No probes section: both kinds with their defaults. */
        lab->udp.enabled = true;
        lab->tcp.enabled = true;
        return;
    }
    struct lf_map m;
    if (lf_mapping(c, n, "probes", keys, &m) < 0)
        return;
    if (m.key[K_FAMILIES] != NULL)
        parse_families(c, m.val[K_FAMILIES]);
    if (m.key[K_PER_PROCESS] != NULL)
        parse_per_process(c, m.val[K_PER_PROCESS], &lab->probe_group);
    /* Only families or vantages-per-process: both transports with their
     * defaults, as without the section. */
    if ((m.key[K_FAMILIES] != NULL || m.key[K_PER_PROCESS] != NULL) && m.key[AH_TR_UDP] == NULL &&
        m.key[AH_TR_TCP] == NULL) {
        lab->udp.enabled = true;
        lab->tcp.enabled = true;
        return;
    }
    if (m.key[AH_TR_UDP] != NULL)
        parse_udp(c, m.val[AH_TR_UDP], &lab->udp);
    if (m.key[AH_TR_TCP] != NULL)
        parse_tcp(c, m.val[AH_TR_TCP], &lab->tcp);
    else
        lab->tcp.enabled = false;
    if (!lab->udp.enabled && !lab->tcp.enabled)
        lf_err(c, key,
               "probes: nothing would be sent: give udp, or tcp with connections > 0 (leave "
               "probes out for both with their defaults)");
}

/* ---- track and bgp (docs/routing.md) ---- */

static void parse_track(struct lf *c, yaml_node_t *n)
{
    static const char *const keys[] = {"service", "frequency",  "timeout",  "down",
                                       "up",      "delay-down", "delay-up", NULL};
    enum { K_SERVICE, K_FREQUENCY, K_TIMEOUT, K_DOWN, K_UP, K_DELAY_DOWN, K_DELAY_UP };
    struct lab_track *t = &c->lab->track;
    struct lf_map m;
    if (lf_mapping(c, n, "track", keys, &m) < 0)
        return;
    int w;
    uint64_t v;
    bool fok = true, tok = true;
    if (m.val[K_SERVICE] != NULL &&
        lf_word(c, m.val[K_SERVICE], "track.service", service_words(), &w) == 0)
        t->service = (enum ah_service)w;
    if (m.val[K_FREQUENCY] != NULL)
        fok = lf_dur(c, m.val[K_FREQUENCY], "track.frequency", 10 * MSEC, HOUR, &t->frequency_ns) ==
              0;
    if (m.val[K_TIMEOUT] != NULL)
        tok = lf_dur(c, m.val[K_TIMEOUT], "track.timeout", MSEC, HOUR, &t->timeout_ns) == 0;
    if (m.val[K_DOWN] != NULL && lf_uint(c, m.val[K_DOWN], "track.down", 1, 100, &v) == 0)
        t->down = (unsigned)v;
    if (m.val[K_UP] != NULL && lf_uint(c, m.val[K_UP], "track.up", 1, 100, &v) == 0)
        t->up = (unsigned)v;
    if (m.val[K_DELAY_DOWN] != NULL)
        lf_dur(c, m.val[K_DELAY_DOWN], "track.delay-down", 0, HOUR, &t->delay_down_ns);
    if (m.val[K_DELAY_UP] != NULL)
        lf_dur(c, m.val[K_DELAY_UP], "track.delay-up", 0, HOUR, &t->delay_up_ns);
    if (m.val[K_TIMEOUT] == NULL && t->timeout_ns > t->frequency_ns)
        t->timeout_ns = t->frequency_ns;
    /* As IP SLA: a probe must time out before the next one is due. */
    if (fok && tok && t->timeout_ns > t->frequency_ns) {
        char a[32], b[32];
        lf_err(c, m.val[K_TIMEOUT] != NULL ? m.val[K_TIMEOUT] : m.val[K_FREQUENCY],
               "track.timeout %s is longer than track.frequency %s",
               lf_durstr(t->timeout_ns, a, sizeof(a)), lf_durstr(t->frequency_ns, b, sizeof(b)));
    }
}

/* BIRD counts hold and keepalive in whole seconds. */
static int bgp_secs(struct lf *c, yaml_node_t *n, const char *what, uint64_t min, uint64_t *out)
{
    uint64_t v;
    if (lf_dur(c, n, what, min * AH_NS_PER_S, 65535 * AH_NS_PER_S, &v) < 0)
        return -1;
    if (v % AH_NS_PER_S != 0) {
        lf_err(c, n, "%s: %s is not a whole number of seconds (BIRD counts in seconds)", what,
               (const char *)n->data.scalar.value);
        return -1;
    }
    *out = v;
    return 0;
}

static void parse_bgp(struct lf *c, yaml_node_t *n)
{
    static const char *const keys[] = {"hold", "keepalive", "bfd", "multipath", NULL};
    static const char *const bfd_keys[] = {"interval", "multiplier", NULL};
    enum { K_HOLD, K_KEEPALIVE, K_BFD, K_MULTIPATH };
    struct lab_bgp *b = &c->lab->bgp;
    struct lf_map m;
    if (lf_mapping(c, n, "bgp", keys, &m) < 0)
        return;
    bool hok = false, kok = false;
    if (m.val[K_HOLD] != NULL)
        hok = bgp_secs(c, m.val[K_HOLD], "bgp.hold", 3, &b->hold_ns) == 0;
    if (m.val[K_KEEPALIVE] != NULL)
        kok = bgp_secs(c, m.val[K_KEEPALIVE], "bgp.keepalive", 1, &b->keepalive_ns) == 0;
    if (hok && kok && b->keepalive_ns >= b->hold_ns)
        lf_err(c, m.val[K_KEEPALIVE], "bgp.keepalive must be shorter than bgp.hold");
    if (m.val[K_MULTIPATH] != NULL)
        lf_bool(c, m.val[K_MULTIPATH], "bgp.multipath", &b->multipath);
    yaml_node_t *bfd = m.val[K_BFD];
    if (m.key[K_BFD] == NULL)
        return;
    /* bfd: true|false, or a mapping (which turns BFD on). */
    if (bfd != NULL && bfd->type == YAML_SCALAR_NODE && !lf_is_null(bfd)) {
        lf_bool(c, bfd, "bgp.bfd", &b->bfd);
        return;
    }
    struct lf_map bm;
    if (lf_mapping(c, bfd, "bgp.bfd", bfd_keys, &bm) < 0)
        return;
    b->bfd = true;
    uint64_t v;
    if (bm.val[0] != NULL)
        lf_dur(c, bm.val[0], "bgp.bfd.interval", MSEC, 10 * AH_NS_PER_S, &b->bfd_interval_ns);
    if (bm.val[1] != NULL && lf_uint(c, bm.val[1], "bgp.bfd.multiplier", 1, 255, &v) == 0)
        b->bfd_multiplier = (unsigned)v;
}

/* ---- expect (kept raw: the expect module parses the strings) ---- */

static void parse_expect(struct lf *c, yaml_node_t *seq)
{
    int n = lf_sequence(c, seq, "expect", true);
    if (n <= 0)
        return;
    if (n > LAB_EXPECT_MAX) {
        lf_err(c, seq, "expect: %d expectations, at most %d", n, LAB_EXPECT_MAX);
        return;
    }
    struct lab *lab = c->lab;
    lab->expect = lf_calloc(c, (size_t)n, sizeof(*lab->expect));
    if (lab->expect == NULL)
        return;
    for (int i = 0; i < n; i++) {
        yaml_node_t *item = lf_item(c, seq, i);
        if (item != NULL && item->type == YAML_MAPPING_NODE) {
            /* An unquoted string with ": " in it reads as a mapping. */
            lf_err(c, item, "expect: expected a string, got a mapping (quote the expectation)");
            continue;
        }
        const char *v = lf_scalar(c, item, "expect");
        if (v == NULL)
            continue;
        struct lab_expect *e = &lab->expect[lab->nexpect];
        e->text = lf_strdup(c, v);
        if (e->text == NULL)
            return;
        e->line = lf_line(item);
        e->col = lf_col(item);
        if (item->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
            item->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
            e->col++;
        lab->nexpect++;
    }
}

/* ---- checks across sections ---- */

/* NSD and Knot answer DNS only: probing or tracking echo on such a node can
 * only fail, which is a mistake in the file, not a finding. */
static void check_echo(struct lf *c, yaml_node_t *nodes_seq)
{
    struct lab *lab = c->lab;
    const char *user = NULL;
    if (lab->udp.enabled && lab->udp.service[AH_SVC_ECHO])
        user = "probes.udp";
    else if (lab->tcp.enabled && lab->tcp.service[AH_SVC_ECHO])
        user = "probes.tcp";
    else if (lab->routing == LAB_ROUTING_TRACKED && lab->track.service == AH_SVC_ECHO)
        user = "track";
    if (user == NULL || nodes_seq == NULL || nodes_seq->type != YAML_SEQUENCE_NODE)
        return;
    for (size_t i = 0; i < lab->nnodes; i++) {
        enum lab_responder r = lab->nodes[i].responder;
        if (!lab_responder_dns_only(r) || lab->nodes[i].name[0] == '\0')
            continue;
        lf_err(c, lf_item(c, nodes_seq, (int)i),
               "node \"%s\": responder %s answers DNS only, but %s uses service echo; use "
               "service: dns",
               lab->nodes[i].name, lab_responder_name(r), user);
    }
}

/* track: and bgp:, each only with its routing. Defaults of the routing
 * that removes itself, documented in docs/lab-file.md:
 * anycast-healthchecker's interval 10 s, timeout 2 s, rise/fall 2; BGP
 * timers 0 = BIRD's own. */
static void parse_routing_sections(struct lf *c, yaml_node_t *track_key, yaml_node_t *track,
                                   yaml_node_t *bgp_key, yaml_node_t *bgp)
{
    struct lab *lab = c->lab;
    lab->track = (struct lab_track){.service = AH_SVC_DNS,
                                    .frequency_ns = 10 * AH_NS_PER_S,
                                    .timeout_ns = 2 * AH_NS_PER_S,
                                    .down = 2,
                                    .up = 2};
    if (track_key != NULL) {
        parse_track(c, track);
        if (c->routing_ok && lab->routing != LAB_ROUTING_TRACKED)
            lf_err(c, track_key, "track: only used with routing: tracked (routing is %s)",
                   lab_routing_name(lab->routing));
    }
    if (bgp_key != NULL) {
        parse_bgp(c, bgp);
        if (c->routing_ok && lab->routing != LAB_ROUTING_BGP)
            lf_err(c, bgp_key, "bgp: only used with routing: bgp (routing is %s)",
                   lab_routing_name(lab->routing));
    }
}

/* The top-level keys, in the order of enum top_key. */
static const char *const top_keys[] = {"name",     "anycast",   "routing", "duration",   "nodes",
                                       "vantages", "probes",    "drill",   "expect",     "track",
                                       "bgp",      "tolerance", "kind",    "on-failure", "ssh",
                                       "atlas",    NULL};
enum top_key {
    TOP_NAME,
    TOP_ANYCAST,
    TOP_ROUTING,
    TOP_DURATION,
    TOP_NODES,
    TOP_VANTAGES,
    TOP_PROBES,
    TOP_DRILL,
    TOP_EXPECT,
    TOP_TRACK,
    TOP_BGP,
    TOP_TOLERANCE,
    TOP_KIND,
    TOP_ON_FAILURE,
    TOP_SSH,
    TOP_ATLAS
};

/* kind: first, as the other sections depend on it; then the keys of one
 * kind only (those of the other kind are reported, their values not read),
 * and atlas:. */
static void parse_kind_sections(struct lf *c, struct lf_map *m)
{
    static const enum top_key lab_only[] = {TOP_ROUTING, TOP_TRACK, TOP_BGP};
    static const enum top_key deployment_only[] = {TOP_SSH, TOP_ON_FAILURE};
    lf_parse_kind(c, m->key[TOP_KIND], m->val[TOP_KIND]);
    for (size_t i = 0; i < sizeof lab_only / sizeof lab_only[0]; i++)
        if (!lf_kind_only(c, m->key[lab_only[i]], LAB_KIND_LAB))
            m->key[lab_only[i]] = m->val[lab_only[i]] = NULL;
    for (size_t i = 0; i < sizeof deployment_only / sizeof deployment_only[0]; i++)
        if (!lf_kind_only(c, m->key[deployment_only[i]], LAB_KIND_DEPLOYMENT))
            m->key[deployment_only[i]] = m->val[deployment_only[i]] = NULL;
    if (m->key[TOP_SSH] != NULL)
        lf_parse_ssh(c, m->val[TOP_SSH], &c->lab->ssh);
    if (m->key[TOP_ON_FAILURE] != NULL)
        lf_parse_on_failure(c, m->val[TOP_ON_FAILURE]);
    if (m->key[TOP_ATLAS] != NULL)
        lf_parse_atlas(c, m->val[TOP_ATLAS]);
}

/* routing, duration and tolerance. */
static void parse_timing(struct lf *c, const struct lf_map *m)
{
    struct lab *lab = c->lab;
    lab->routing = LAB_ROUTING_STATIC;
    c->routing_ok = true;
    if (m->key[TOP_ROUTING] != NULL)
        c->routing_ok = lf_parse_routing(c, m->val[TOP_ROUTING], "routing", &lab->routing) == 0;
    if (m->key[TOP_DURATION] != NULL)
        c->duration_ok = lf_dur(c, m->val[TOP_DURATION], "duration", AH_NS_PER_S, 24 * HOUR,
                                &lab->duration_ns) == 0;
    /* How late a drill step may start before the run fails: 1 ns (every
     * step is late: tests use it) to an hour (effectively never). */
    lab->tolerance_ns = LAB_TOLERANCE_DEFAULT_NS;
    if (m->key[TOP_TOLERANCE] != NULL)
        lf_dur(c, m->val[TOP_TOLERANCE], "tolerance", 1, LAB_TOLERANCE_MAX_NS, &lab->tolerance_ns);
}

void lf_parse_lab(struct lf *c)
{
    struct lab *lab = c->lab;
    struct lf_map m;
    char d[64];

    if (c->root->type != YAML_MAPPING_NODE) {
        lf_err(c, c->root, "a lab file is a mapping of keys (name, anycast, nodes, ...), got %s",
               lf_describe(c->root, d, sizeof(d)));
        return;
    }
    lf_mapping(c, c->root, "the lab file", top_keys, &m);
    static const size_t required[] = {TOP_NAME, TOP_ANYCAST, TOP_DURATION, TOP_NODES, TOP_VANTAGES};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        lf_require(c, c->root, &m, required[i], top_keys, "the lab file");

    if (m.key[TOP_NAME] != NULL)
        lf_name(c, m.val[TOP_NAME], "name", lab->name);
    parse_kind_sections(c, &m);
    if (m.key[TOP_ANYCAST] != NULL)
        parse_anycast(c, m.val[TOP_ANYCAST]);
    parse_timing(c, &m);
    if (m.key[TOP_NODES] != NULL)
        parse_nodes(c, m.val[TOP_NODES]);
    else
        c->nodes_ok = false;
    if (m.key[TOP_VANTAGES] != NULL)
        parse_vantages(c, m.val[TOP_VANTAGES]);
    parse_probes(c, m.key[TOP_PROBES], m.val[TOP_PROBES]);

    parse_routing_sections(c, m.key[TOP_TRACK], m.val[TOP_TRACK], m.key[TOP_BGP], m.val[TOP_BGP]);
    if (m.key[TOP_DRILL] != NULL)
        lf_parse_drill(c, m.val[TOP_DRILL]);
    if (m.key[TOP_EXPECT] != NULL)
        parse_expect(c, m.val[TOP_EXPECT]);
    if (c->routing_ok)
        check_echo(c, m.val[TOP_NODES]);
}
