/* The responder's optional zone (--zone FILE): loaded with the ldns zone
 * parser and answered authoritatively. Deliberately simple: exact matches,
 * CNAME at the name (followed inside the zone), NXDOMAIN and NODATA with the
 * SOA in the authority section (TTL per RFC 2308), empty non-terminals as
 * NODATA, wildcards (RFC 4592, without DNSSEC proofs), and a plain referral
 * (NS in authority, in-zone glue in additional, AA clear) for names at or
 * below a delegation. No DNSSEC, no zone transfers. */
#include "dns_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CNAME_CHAIN_MAX 8

struct dns_zone {
    ldns_rdf *apex;
    ldns_rr *soa;
    ldns_dnssec_zone *names; /* name tree with RRsets (no DNSSEC use) */
};

void dns_zone_free(struct dns_zone *z)
{
    if (!z)
        return;
    if (z->names)
        ldns_dnssec_zone_deep_free(z->names);
    ldns_rr_free(z->soa);
    ldns_rdf_deep_free(z->apex);
    free(z);
}

const ldns_rdf *dns_zone_apex(const struct dns_zone *z)
{
    return z->apex;
}

static void name_str(const ldns_rdf *n, char *buf, size_t len)
{
    char *s = ldns_rdf2str(n);
    snprintf(buf, len, "%s", s ? s : "?");
    free(s);
}

static const ldns_dnssec_name *find_name(const struct dns_zone *z, const ldns_rdf *name)
{
    ldns_rbnode_t *node = ldns_rbtree_search(z->names->names, name);
    return node && node != LDNS_RBTREE_NULL ? node->data : NULL;
}

/* Rejects what the answer logic cannot serve sensibly: records outside the
 * apex, other classes, a second SOA. */
static int check_rr(const struct dns_zone *z, const ldns_rr *rr, const char *where, char *err,
                    size_t errlen)
{
    char nb[LDNS_MAX_DOMAINLEN * 4 + 2];
    const ldns_rdf *owner = ldns_rr_owner(rr);
    name_str(owner, nb, sizeof nb);
    if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
        snprintf(err, errlen, "%s: %s: only class IN is served", where, nb);
        return -EINVAL;
    }
    if (ldns_dname_compare(owner, z->apex) != 0 && !ldns_dname_is_subdomain(owner, z->apex)) {
        char ab[sizeof nb];
        name_str(z->apex, ab, sizeof ab);
        snprintf(err, errlen, "%s: %s is outside the zone %s", where, nb, ab);
        return -EINVAL;
    }
    if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) {
        snprintf(err, errlen, "%s: %s: more than one SOA record", where, nb);
        return -EINVAL;
    }
    return 0;
}

static int check_cnames(const struct dns_zone *z, const char *path, char *err, size_t errlen)
{
    ldns_rbnode_t *node;
    LDNS_RBTREE_FOR(node, ldns_rbnode_t *, z->names->names)
    {
        const ldns_dnssec_name *n = node->data;
        bool cname = ldns_dnssec_name_find_rrset(n, LDNS_RR_TYPE_CNAME) != NULL;
        if (cname && n->rrsets && n->rrsets->next) {
            char nb[LDNS_MAX_DOMAINLEN * 4 + 2];
            name_str(n->name, nb, sizeof nb);
            snprintf(err, errlen, "%s: %s: CNAME and other data", path, nb);
            return -EINVAL;
        }
    }
    return 0;
}

/* Takes one parsed record: the first must be the SOA, which fixes the apex;
 * the others are checked and added. Consumes rr. */
static int add_record(struct dns_zone *z, ldns_rr *rr, const char *where, char *err, size_t errlen)
{
    int rc;
    if (!z->soa) {
        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA) {
            snprintf(err, errlen, "%s: the first record must be the zone's SOA", where);
            ldns_rr_free(rr);
            return -EINVAL;
        }
        z->soa = ldns_rr_clone(rr);
        z->apex = z->soa ? ldns_rdf_clone(ldns_rr_owner(z->soa)) : NULL;
        if (!z->apex) {
            ldns_rr_free(rr);
            return -ENOMEM;
        }
        if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
            snprintf(err, errlen, "%s: only class IN is served", where);
            ldns_rr_free(rr);
            return -EINVAL;
        }
    } else if ((rc = check_rr(z, rr, where, err, errlen)) < 0) {
        ldns_rr_free(rr);
        return rc;
    }
    if (ldns_dnssec_zone_add_rr(z->names, rr) != LDNS_STATUS_OK) {
        snprintf(err, errlen, "%s: cannot add the record (duplicate?)", where);
        ldns_rr_free(rr);
        return -EINVAL;
    }
    return 0;
}

/* Reads the master file record by record with ldns_rr_new_frm_fp_l (the
 * parser behind ldns_zone_new_frm_fp_l, which leaks on its error paths),
 * so that every error carries its line number. */
static int read_records(struct dns_zone *z, FILE *fp, const char *path, char *err, size_t errlen)
{
    ldns_rdf *origin = NULL, *prev = NULL;
    uint32_t ttl = 3600;
    int line = 0, rc = 0;
    char where[1100];
    while (rc == 0 && !feof(fp)) {
        ldns_rr *rr = NULL;
        ldns_status st = ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &origin, &prev, &line);
        snprintf(where, sizeof where, "%s:%d", path, line);
        switch (st) {
        case LDNS_STATUS_OK:
            rc = add_record(z, rr, where, err, errlen);
            break;
        case LDNS_STATUS_SYNTAX_EMPTY:
        case LDNS_STATUS_SYNTAX_TTL:
        case LDNS_STATUS_SYNTAX_ORIGIN:
            break;
        case LDNS_STATUS_SYNTAX_INCLUDE:
            snprintf(err, errlen, "%s: $INCLUDE is not supported", where);
            rc = -EINVAL;
            break;
        default:
            ldns_rr_free(rr);
            snprintf(err, errlen, "%s: %s", where, ldns_get_errorstr_by_id(st));
            rc = -EINVAL;
            break;
        }
    }
    ldns_rdf_deep_free(origin);
    ldns_rdf_deep_free(prev);
    if (rc == 0 && !z->soa) {
        snprintf(err, errlen, "%s: no SOA record", path);
        rc = -EINVAL;
    }
    return rc;
}

int dns_zone_load(const char *path, struct dns_zone **out, char *err, size_t errlen)
{
    struct dns_zone *z = NULL;
    int rc = -ENOMEM;
    if (errlen)
        err[0] = '\0';
    FILE *fp = fopen(path, "r");
    if (!fp) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return rc;
    }
    if (!(z = calloc(1, sizeof *z)) || !(z->names = ldns_dnssec_zone_new()))
        goto out;
    if ((rc = read_records(z, fp, path, err, errlen)) < 0)
        goto out;
    rc = -ENOMEM;
    if (ldns_dnssec_zone_add_empty_nonterminals(z->names) != LDNS_STATUS_OK)
        goto out;
    rc = check_cnames(z, path, err, errlen);
out:
    fclose(fp);
    if (rc < 0) {
        if (rc == -ENOMEM && errlen && err[0] == '\0')
            snprintf(err, errlen, "%s: out of memory", path);
        dns_zone_free(z);
        return rc;
    }
    *out = z;
    return 0;
}

/* Copies an RRset into a section; owner, if not NULL, replaces the owner
 * names (answers synthesised from a wildcard). */
static int push_rrset_as(ldns_pkt *resp, ldns_pkt_section sec, const ldns_dnssec_rrsets *set,
                         const ldns_rdf *owner)
{
    for (const ldns_dnssec_rrs *r = set ? set->rrs : NULL; r; r = r->next) {
        ldns_rr *c = ldns_rr_clone(r->rr);
        ldns_rdf *o = c && owner ? ldns_rdf_clone(owner) : NULL;
        if (c && o) {
            ldns_rdf_deep_free(ldns_rr_owner(c));
            ldns_rr_set_owner(c, o);
        }
        if (!c || (owner && !o) || !ldns_pkt_push_rr(resp, sec, c)) {
            ldns_rr_free(c);
            return -ENOMEM;
        }
    }
    return 0;
}

static int push_rrset(ldns_pkt *resp, ldns_pkt_section sec, const ldns_dnssec_rrsets *set)
{
    return push_rrset_as(resp, sec, set, NULL);
}

/* RFC 4592, simplified: the closest encloser is the longest existing
 * ancestor of a name that does not exist (empty non-terminals count), and
 * "*.<closest encloser>", if present, answers for the name. */
static const ldns_dnssec_name *find_wildcard(const struct dns_zone *z, const ldns_rdf *qname)
{
    uint8_t ql = ldns_dname_label_count(qname), al = ldns_dname_label_count(z->apex);
    for (uint8_t strip = 1; strip <= ql && ql - strip >= al; strip++) {
        ldns_rdf *enc = ldns_dname_clone_from(qname, strip);
        if (!enc)
            return NULL;
        const ldns_dnssec_name *found = NULL;
        if (find_name(z, enc)) {
            uint8_t w[LDNS_MAX_DOMAINLEN + 3] = {1, '*'};
            size_t el = ldns_rdf_size(enc);
            ldns_rdf *wc = NULL;
            if (el + 2 <= LDNS_MAX_DOMAINLEN) {
                memcpy(w + 2, ldns_rdf_data(enc), el);
                wc = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, el + 2, w);
            }
            found = wc ? find_name(z, wc) : NULL;
            ldns_rdf_deep_free(wc);
            ldns_rdf_deep_free(enc);
            return found;
        }
        ldns_rdf_deep_free(enc);
    }
    return NULL;
}

/* The SOA for negative answers, its TTL lowered to the SOA minimum. */
static int push_negative_soa(const struct dns_zone *z, ldns_pkt *resp)
{
    ldns_rr *soa = ldns_rr_clone(z->soa);
    if (!soa)
        return -ENOMEM;
    const ldns_rdf *min = ldns_rr_rdf(soa, 6);
    if (min && ldns_rdf_size(min) == 4) {
        uint32_t m = ldns_rdf2native_int32(min);
        if (m < ldns_rr_ttl(soa))
            ldns_rr_set_ttl(soa, m);
    }
    if (!ldns_pkt_push_rr(resp, LDNS_SECTION_AUTHORITY, soa)) {
        ldns_rr_free(soa);
        return -ENOMEM;
    }
    return 0;
}

/* Glue: A and AAAA of each NS target that lies inside the zone. */
static int push_glue(const struct dns_zone *z, ldns_pkt *resp, const ldns_dnssec_rrsets *ns)
{
    for (const ldns_dnssec_rrs *r = ns->rrs; r; r = r->next) {
        const ldns_rdf *target = ldns_rr_rdf(r->rr, 0);
        const ldns_dnssec_name *n = target ? find_name(z, target) : NULL;
        if (!n)
            continue;
        int rc = push_rrset(resp, LDNS_SECTION_ADDITIONAL,
                            ldns_dnssec_name_find_rrset(n, LDNS_RR_TYPE_A));
        if (rc == 0)
            rc = push_rrset(resp, LDNS_SECTION_ADDITIONAL,
                            ldns_dnssec_name_find_rrset(n, LDNS_RR_TYPE_AAAA));
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The highest delegation (NS below the apex) on the way from the apex down
 * to qname, or NULL. */
static const ldns_dnssec_rrsets *find_delegation(const struct dns_zone *z, const ldns_rdf *qname)
{
    uint8_t apex_labels = ldns_dname_label_count(z->apex);
    uint8_t q_labels = ldns_dname_label_count(qname);
    for (uint8_t k = (uint8_t)(apex_labels + 1); k <= q_labels && k > apex_labels; k++) {
        ldns_rdf *anc = ldns_dname_clone_from(qname, (uint16_t)(q_labels - k));
        const ldns_dnssec_name *n = anc ? find_name(z, anc) : NULL;
        ldns_rdf_deep_free(anc);
        const ldns_dnssec_rrsets *ns = n ? ldns_dnssec_name_find_rrset(n, LDNS_RR_TYPE_NS) : NULL;
        if (ns)
            return ns;
    }
    return NULL;
}

int dns_zone_answer(const struct dns_zone *z, const ldns_rdf *qname, ldns_rr_type qtype,
                    ldns_pkt *resp, enum dns_verdict *verdict)
{
    if (ldns_dname_compare(qname, z->apex) != 0 && !ldns_dname_is_subdomain(qname, z->apex)) {
        *verdict = DNS_REFUSED;
        return 0;
    }
    *verdict = DNS_ANSWERED;
    const ldns_dnssec_rrsets *deleg = find_delegation(z, qname);
    if (deleg) {
        ldns_pkt_set_aa(resp, false);
        int rc = push_rrset(resp, LDNS_SECTION_AUTHORITY, deleg);
        return rc < 0 ? rc : push_glue(z, resp, deleg);
    }

    ldns_pkt_set_aa(resp, true);
    const ldns_rdf *name = qname;
    const ldns_rdf *seen[CNAME_CHAIN_MAX + 1];
    for (int hop = 0; hop <= CNAME_CHAIN_MAX; hop++) {
        seen[hop] = name;
        const ldns_dnssec_name *n = find_name(z, name);
        const ldns_rdf *owner = NULL;
        if (!n && (n = find_wildcard(z, name)))
            owner = name;
        if (!n) {
            /* Only the name asked for decides NXDOMAIN; a CNAME pointing
             * to a missing name is simply the CNAME. */
            if (hop > 0)
                return 0;
            ldns_pkt_set_rcode(resp, LDNS_RCODE_NXDOMAIN);
            *verdict = DNS_NXDOMAIN;
            return push_negative_soa(z, resp);
        }
        if (qtype == LDNS_RR_TYPE_ANY) {
            if (!n->rrsets)
                return hop > 0 ? 0 : push_negative_soa(z, resp);
            for (const ldns_dnssec_rrsets *s = n->rrsets; s; s = s->next) {
                int rc = push_rrset_as(resp, LDNS_SECTION_ANSWER, s, owner);
                if (rc < 0)
                    return rc;
            }
            return 0;
        }
        const ldns_dnssec_rrsets *set = ldns_dnssec_name_find_rrset(n, qtype);
        if (set)
            return push_rrset_as(resp, LDNS_SECTION_ANSWER, set, owner);
        const ldns_dnssec_rrsets *cname = ldns_dnssec_name_find_rrset(n, LDNS_RR_TYPE_CNAME);
        if (!cname)
            return hop > 0 ? 0 : push_negative_soa(z, resp); /* NODATA */
        int rc = push_rrset_as(resp, LDNS_SECTION_ANSWER, cname, owner);
        if (rc < 0)
            return rc;
        name = ldns_rr_rdf(cname->rrs->rr, 0);
        if (!name ||
            (ldns_dname_compare(name, z->apex) != 0 && !ldns_dname_is_subdomain(name, z->apex)))
            return 0; /* the target lies outside the zone */
        for (int i = 0; i <= hop; i++)
            if (ldns_dname_compare(name, seen[i]) == 0)
                return 0; /* a CNAME loop: each record once is enough */
    }
    return 0;
}
