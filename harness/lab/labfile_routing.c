/* The routing mode in a lab file: the top-level `routing` key and a vantage's
 * own `routing`, which overrides the lab's at that vantage's router for the
 * modes that may be mixed (docs/lab-file.md, docs/routing.md). */
#include "labfile_int.h"

static const char *const routing_words[] = {"static",  "ecmp", "ecmp-resilient",
                                            "tracked", "bgp",  NULL};

int lf_parse_routing(struct lf *c, yaml_node_t *n, const char *what, enum lab_routing *out)
{
    int w;
    if (lf_word(c, n, what, routing_words, &w) < 0)
        return -1;
    *out = (enum lab_routing)w;
    return 0;
}

bool lab_routing_mixable(enum lab_routing r)
{
    return r == LAB_ROUTING_STATIC || r == LAB_ROUTING_ECMP || r == LAB_ROUTING_ECMP_RESILIENT;
}

/* A vantage's routing: any mode equal to the lab's (it changes nothing), or
 * one of the mixable modes in a lab whose own mode is mixable. tracked and
 * bgp stay lab-wide: their checks and BIRD sessions span every router, and
 * a router of another mode would ignore what they decide. */
void lf_parse_vantage_routing(struct lf *c, yaml_node_t *key, yaml_node_t *val,
                              struct lab_vantage *v)
{
    struct lab *lab = c->lab;
    enum lab_routing r;

    if (key == NULL || !lf_kind_only(c, key, LAB_KIND_LAB))
        return;
    if (lf_parse_routing(c, val, "routing", &r) < 0 || !c->routing_ok)
        return;
    if (r == lab->routing) {
        v->own_routing = true;
        v->routing = r;
        return;
    }
    if (!lab_routing_mixable(r))
        lf_err(c, val,
               "routing: %s applies to the whole lab, not one vantage; a vantage's routing "
               "may be static, ecmp or ecmp-resilient",
               lab_routing_name(r));
    else if (!lab_routing_mixable(lab->routing))
        lf_err(c, val,
               "routing: %s at a vantage needs the lab's routing to be static, ecmp or "
               "ecmp-resilient (routing is %s); only those modes may be mixed",
               lab_routing_name(r), lab_routing_name(lab->routing));
    else {
        v->own_routing = true;
        v->routing = r;
    }
}

enum lab_routing lab_vantage_routing(const struct lab *lab, size_t v)
{
    if (v < lab->nvantages && lab->vantages[v].own_routing)
        return lab->vantages[v].routing;
    return lab->routing;
}

bool lab_routing_mixed(const struct lab *lab)
{
    for (size_t v = 0; v < lab->nvantages; v++)
        if (lab_vantage_routing(lab, v) != lab->routing)
            return true;
    return false;
}

bool lab_routing_hashes(const struct lab *lab, size_t v)
{
    enum lab_routing r = lab_vantage_routing(lab, v);
    return r == LAB_ROUTING_ECMP || r == LAB_ROUTING_ECMP_RESILIENT ||
           (r == LAB_ROUTING_BGP && lab->bgp.multipath);
}
