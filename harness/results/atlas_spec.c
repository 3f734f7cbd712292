/* The body of a RIPE Atlas measurement request (POST /api/v2/measurements/,
 * docs/atlas.md) for a lab or deployment file's anycast addresses: one DNS
 * definition per address asking CHAOS TXT hostname.bind with the NSID bit
 * set, from the probes the file's atlas: block selects. */
#include "atlas.h"

#include <errno.h>
#include <jansson.h>

#include "ah/addr.h"
#include "ah/clock.h"
#include "harness/lab/lab.h"

#define SPEC_PROBES_DEFAULT   500
#define SPEC_AREA_DEFAULT     "WW"
#define SPEC_INTERVAL_DEFAULT (240 * AH_NS_PER_S)

static json_t *definition(const struct lab *lab, const struct ah_addr *a, uint64_t interval_s)
{
    char addr[64], desc[LAB_NAME_MAX + 128];
    if (ah_addr_format(a, false, addr, sizeof addr) < 0)
        return NULL;
    snprintf(desc, sizeof desc, "anycast-harness %s: CHAOS TXT hostname.bind + NSID to %s",
             lab->name, addr);
    return json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:I}", "type", "dns", "af",
                     ah_addr_family(a) == AF_INET6 ? 6 : 4, "target", addr, "description", desc,
                     "query_class", "CHAOS", "query_type", "TXT", "query_argument", "hostname.bind",
                     "set_nsid_bit", 1, "use_probe_resolver", 0, "interval",
                     (json_int_t)interval_s);
}

int atlas_spec_write(FILE *f, const struct lab *lab)
{
    const struct lab_atlas *at = &lab->atlas;
    unsigned probes = at->given && at->probes ? at->probes : SPEC_PROBES_DEFAULT;
    const char *area = at->given && at->area[0] ? at->area : SPEC_AREA_DEFAULT;
    uint64_t interval = at->given && at->interval_ns ? at->interval_ns : SPEC_INTERVAL_DEFAULT;
    int rc = -ENOMEM;
    json_t *defs = json_array(), *body = NULL;
    if (!defs)
        goto out;
    for (size_t i = 0; i < lab->nanycast; i++) {
        json_t *d = definition(lab, &lab->anycast[i], interval / AH_NS_PER_S);
        if (!d || json_array_append_new(defs, d) < 0)
            goto out;
    }
    body = json_pack("{s:O, s:[{s:I, s:s, s:s}], s:b}", "definitions", defs, "probes", "requested",
                     (json_int_t)probes, "type", "area", "value", area, "is_oneoff", 0);
    if (!body)
        goto out;
    if (at->given && at->start > 0 &&
        json_object_set_new(body, "start_time", json_integer(at->start)) < 0)
        goto out;
    if (at->given && at->stop > 0 &&
        json_object_set_new(body, "stop_time", json_integer(at->stop)) < 0)
        goto out;
    rc = json_dumpf(body, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? 0 : -EIO;
    if (rc == 0 && fputc('\n', f) == EOF)
        rc = -EIO;
out:
    json_decref(defs);
    json_decref(body);
    return rc;
}
