/* Questions about a loaded lab model that need no YAML: names to indexes,
 * the hint for an unknown name, the routing and service words, and which
 * anycast addresses and services the probes cover (declared in lab.h). */
#include "lab.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ah/suggest.h"

/* ---- lookups and names ---- */

int lab_node_index(const struct lab *lab, const char *name)
{
    for (size_t i = 0; i < lab->nnodes; i++)
        if (strcmp(lab->nodes[i].name, name) == 0)
            return (int)i;
    return -ENOENT;
}

int lab_vantage_index(const struct lab *lab, const char *name)
{
    for (size_t i = 0; i < lab->nvantages; i++)
        if (strcmp(lab->vantages[i].name, name) == 0)
            return (int)i;
    return -ENOENT;
}

size_t lab_unknown_hint(const struct lab *lab, bool vantages, const char *name, char *out,
                        size_t cap)
{
    /* Names are fixed arrays in the model; the pointers fit on the stack
     * because the lists are bounded (LAB_NODES_MAX, LAB_VANTAGES_MAX). */
    const char *names[LAB_VANTAGES_MAX > LAB_NODES_MAX ? LAB_VANTAGES_MAX : LAB_NODES_MAX];
    size_t n = vantages ? lab->nvantages : lab->nnodes;
    for (size_t i = 0; i < n; i++)
        names[i] = vantages ? lab->vantages[i].name : lab->nodes[i].name;
    const char *near = ah_suggest(name, names, n);
    char list[200];
    ah_suggest_list(list, sizeof list, names, n);
    int len = near ? snprintf(out, cap, ": did you mean \"%s\"? (%s: %s)", near,
                              vantages ? "vantages" : "nodes", list)
                   : snprintf(out, cap, " (%s: %s)", vantages ? "vantages" : "nodes", list);
    return len < 0 ? 0 : (size_t)len < cap ? (size_t)len : cap ? cap - 1 : 0;
}

static const char *const routing_names[] = {
    [LAB_ROUTING_STATIC] = "static",
    [LAB_ROUTING_ECMP] = "ecmp",
    [LAB_ROUTING_ECMP_RESILIENT] = "ecmp-resilient",
    [LAB_ROUTING_TRACKED] = "tracked",
    [LAB_ROUTING_BGP] = "bgp",
};

#define NAME_OF(tab, i)                                                                            \
    ((size_t)(i) < sizeof(tab) / sizeof(tab[0]) && tab[i] != NULL ? tab[i] : "?")

const char *lab_routing_name(enum lab_routing r)
{
    return NAME_OF(routing_names, r);
}

/* ---- service sets ---- */

bool lab_services_equal(const bool a[AH_SVC_COUNT], const bool b[AH_SVC_COUNT])
{
    for (int s = 0; s < AH_SVC_COUNT; s++)
        if (a[s] != b[s])
            return false;
    return true;
}

enum ah_service lab_services_first(const bool s[AH_SVC_COUNT])
{
    for (int i = 0; i < AH_SVC_COUNT; i++)
        if (s[i])
            return (enum ah_service)i;
    return AH_SVC_DNS;
}

const char *lab_services_format(const bool s[AH_SVC_COUNT], char *buf, size_t len)
{
    size_t off = 0;
    if (len == 0)
        return buf;
    buf[0] = '\0';
    for (int i = 0; i < AH_SVC_COUNT; i++) {
        if (!s[i] || off >= len)
            continue;
        int n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
                         ah_service_name((enum ah_service)i));
        off += n > 0 ? (size_t)n : 0;
    }
    return buf;
}

bool lab_probes_service(const struct lab *lab, enum ah_service s)
{
    return (lab->udp.enabled && lab->udp.service[s]) || (lab->tcp.enabled && lab->tcp.service[s]);
}

bool lab_probes_split(const struct lab *lab)
{
    return lab->udp.enabled && lab->tcp.enabled &&
           !lab_services_equal(lab->udp.service, lab->tcp.service);
}

enum ah_family lab_anycast_family(const struct lab *lab, size_t a)
{
    return ah_addr_family(&lab->anycast[a]) == AF_INET6 ? AH_FAM_IPV6 : AH_FAM_IPV4;
}

bool lab_probes_address(const struct lab *lab, size_t a)
{
    return a < lab->nanycast && lab->probe_family[lab_anycast_family(lab, a)];
}

size_t lab_probed_count(const struct lab *lab)
{
    size_t n = 0;
    for (size_t a = 0; a < lab->nanycast; a++)
        n += lab_probes_address(lab, a);
    return n;
}

uint32_t lab_probe_group(const struct lab *lab)
{
    size_t n = lab->nvantages;
    if (lab->probe_group > 0)
        return lab->probe_group;
    if (n < LAB_PROBE_GROUP_AUTO_FROM)
        return 1;
    /* As many processes as groups of the largest size need, the vantages
     * spread evenly over them: 65 vantages are 33 + 32, not 64 + 1. */
    size_t procs = (n + LAB_PROBE_GROUP_AUTO - 1) / LAB_PROBE_GROUP_AUTO;
    return (uint32_t)((n + procs - 1) / procs);
}
