/* The lab file's probes section (docs/lab-file.md, "probes"): UDP and TCP
 * probing with their services, rates, flows, connections and timeouts, and
 * the address families probed, with defaults and bounds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ah/clock.h"
#include "ah/schema.h"
#include "labfile_int.h"

#define MSEC   AH_NS_PER_MS
#define MINUTE (60 * AH_NS_PER_S)

/* The service words of ah/schema.h, NULL-terminated, for lf_word. */
const char *const *lf_service_words(void)
{
    static const char *words[AH_SVC_COUNT + 1];
    for (int s = 0; s < AH_SVC_COUNT; s++)
        words[s] = ah_service_name((enum ah_service)s);
    return words;
}

/* A transport's service: one word or a list of distinct words. The set is
 * replaced only when the whole value is good, so an error leaves the
 * default and reports once per bad item. */
static void parse_services(struct lf *c, yaml_node_t *n, const char *what, bool out[AH_SVC_COUNT])
{
    bool set[AH_SVC_COUNT] = {false};
    yaml_node_t *first[AH_SVC_COUNT] = {NULL};
    int w;
    if (n->type != YAML_SEQUENCE_NODE) {
        if (lf_word(c, n, what, lf_service_words(), &w) == 0) {
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
        if (lf_word(c, item, what, lf_service_words(), &w) < 0) {
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

void lf_parse_probes(struct lf *c, yaml_node_t *key, yaml_node_t *n)
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
