/* The decoder of one RIPE Atlas DNS result (docs/atlas.md): the JSON
 * object, or each entry of its resultset, becomes a probes.csv row; the
 * node comes from the answer buffer decoded with ldns and the identity
 * codec (TXT of hostname.bind / id.server, else the NSID option). Every
 * string taken from the result is bounded; nothing is dropped silently. */
#include "atlas.h"

#include <errno.h>
#include <jansson.h>
#include <ldns/ldns.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ah/clock.h"
#include "atlas_pool.h"

/* Seconds past which a time in ns no longer fits 64 bits. */
#define TS_MAX_S 18000000000.0

static void copy_bounded(char *out, size_t cap, const char *s)
{
    snprintf(out, cap, "%s", s ? s : "");
}

/* The question of a decoded reply as an identity query: hostname.bind and
 * id.server in class CH ask for the TXT, anything else for the NSID. */
static int query_of(const ldns_pkt *pkt, struct ah_ident_query *q)
{
    const ldns_rr_list *qs = ldns_pkt_question(pkt);
    if (!qs || ldns_rr_list_rr_count(qs) != 1)
        return -EBADMSG;
    const ldns_rr *rr = ldns_rr_list_rr(qs, 0);
    char *name = ldns_rdf2str(ldns_rr_owner(rr));
    if (!name)
        return -ENOMEM;
    int rc = 0;
    memset(q, 0, sizeof *q);
    if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_TXT && ldns_rr_get_class(rr) == LDNS_RR_CLASS_CH &&
        (strcasecmp(name, "hostname.bind.") == 0 || strcasecmp(name, "id.server.") == 0)) {
        rc = ah_ident_query_parse(name, q);
    } else if (strlen(name) < sizeof q->qname) {
        q->kind = AH_IDENT_NSID;
        memcpy(q->qname, name, strlen(name) + 1);
        q->qtype = (uint16_t)ldns_rr_get_type(rr);
        q->qclass = (uint16_t)ldns_rr_get_class(rr);
    } else {
        rc = -EBADMSG;
    }
    free(name);
    return rc;
}

static void judge_wire(const uint8_t *wire, size_t len, struct atlas_row *row)
{
    ldns_pkt *pkt = NULL;
    struct ah_ident_query q;
    struct ah_ident_reply rep;
    if (ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK) {
        copy_bounded(row->detail, sizeof row->detail, "abuf: not a DNS message");
        goto out;
    }
    if (!ldns_pkt_qr(pkt)) {
        copy_bounded(row->detail, sizeof row->detail, "abuf: not a DNS response");
        goto out;
    }
    int rc = query_of(pkt, &q);
    if (rc == 0 && ah_ident_reply_parse(&q, wire, len, &rep) < 0)
        rc = -EBADMSG;
    if (rc < 0) {
        snprintf(row->detail, sizeof row->detail, "abuf: %s",
                 ldns_pkt_get_rcode(pkt) ? ah_ident_rcode_name(ldns_pkt_get_rcode(pkt))
                                         : "no question");
        goto out;
    }
    if (rep.has_identity) {
        row->result = AH_RES_OK;
        copy_bounded(row->node, sizeof row->node, rep.identity);
        if (rep.rcode != 0)
            copy_bounded(row->detail, sizeof row->detail, ah_ident_rcode_name(rep.rcode));
    } else {
        copy_bounded(row->detail, sizeof row->detail, rep.detail[0] ? rep.detail : "no-identity");
    }
out:
    ldns_pkt_free(pkt);
}

void atlas_abuf_judge(const char *abuf, struct atlas_row *row)
{
    ldns_rdf *rdf = NULL;
    row->result = AH_RES_BAD_REPLY;
    row->node[0] = '\0';
    if (strlen(abuf) > ATLAS_ABUF_MAX) {
        copy_bounded(row->detail, sizeof row->detail, "abuf: too long");
        return;
    }
    if (ldns_str2rdf_b64(&rdf, abuf) != LDNS_STATUS_OK || !rdf) {
        copy_bounded(row->detail, sizeof row->detail, "abuf: not base64");
        return;
    }
    judge_wire(ldns_rdf_data(rdf), ldns_rdf_size(rdf), row);
    ldns_rdf_deep_free(rdf);
}

/* error: {"timeout": N} is a timeout, anything else ({"socket": "..."},
 * {"getaddrinfo": "..."}) an error, its first member the reason. */
static void judge_error(const json_t *err, struct atlas_row *row)
{
    const char *key = NULL;
    json_t *val = NULL;
    row->result = AH_RES_ERROR;
    if (json_is_object(err)) {
        void *it = json_object_iter((json_t *)err);
        if (it) {
            key = json_object_iter_key(it);
            val = json_object_iter_value(it);
        }
    } else if (json_is_string(err)) {
        key = json_string_value(err);
    }
    if (key && strcmp(key, "timeout") == 0)
        row->result = AH_RES_TIMEOUT;
    if (json_is_string(val))
        snprintf(row->detail, sizeof row->detail, "%s: %s", key, json_string_value(val));
    else if (json_is_integer(val))
        snprintf(row->detail, sizeof row->detail, "%s: %lld", key,
                 (long long)json_integer_value(val));
    else
        copy_bounded(row->detail, sizeof row->detail, key ? key : "error");
}

/* rt (ms) as microseconds; -1 when missing or out of range. */
static int64_t rt_us(const json_t *res)
{
    json_t *rt = json_object_get(res, "rt");
    if (!json_is_number(rt))
        return -1;
    double ms = json_number_value(rt);
    if (!(ms >= 0 && ms < 3600e3))
        return -1;
    return (int64_t)llround(ms * 1000.0);
}

/* The row of one result object r (the result itself, or a resultset
 * entry), falling back on the enclosing result top for what r lacks. */
static void judge(const json_t *top, const json_t *r, struct atlas_row *row)
{
    const char *dst = json_string_value(json_object_get(r, "dst_addr"));
    const char *proto = json_string_value(json_object_get(r, "proto"));
    if (!dst)
        dst = json_string_value(json_object_get(top, "dst_addr"));
    if (!proto)
        proto = json_string_value(json_object_get(top, "proto"));
    copy_bounded(row->target, sizeof row->target, dst);
    row->transport = proto && strcasecmp(proto, "TCP") == 0 ? AH_TR_TCP : AH_TR_UDP;
    row->node[0] = row->detail[0] = '\0';
    row->rtt_us = -1;
    json_t *res = json_object_get(r, "result"), *err = json_object_get(r, "error");
    if (err) {
        judge_error(err, row);
        return;
    }
    if (!json_is_object(res)) {
        row->result = AH_RES_BAD_REPLY;
        copy_bounded(row->detail, sizeof row->detail, "no result");
        return;
    }
    row->rtt_us = rt_us(res);
    const char *abuf = json_string_value(json_object_get(res, "abuf"));
    if (!abuf) {
        row->result = AH_RES_BAD_REPLY;
        copy_bounded(row->detail, sizeof row->detail, "no abuf");
        return;
    }
    atlas_abuf_judge(abuf, row);
}

/* A time in seconds (integer or not) as ns; false when missing or out of
 * range. */
static bool time_ns(const json_t *v, uint64_t *out)
{
    if (!json_is_number(v))
        return false;
    double s = json_number_value(v);
    if (!(s >= 0 && s < TS_MAX_S))
        return false;
    if (json_is_integer(v))
        *out = (uint64_t)json_integer_value(v) * AH_NS_PER_S;
    else
        *out = (uint64_t)llround(s * 1e9);
    return true;
}

static int decode_obj(const json_t *top, atlas_row_fn fn, void *arg, char *err, size_t errlen)
{
    struct atlas_row row;
    const char *type = json_string_value(json_object_get(top, "type"));
    json_t *prb = json_object_get(top, "prb_id"), *set = json_object_get(top, "resultset");
    uint64_t ts = 0;
    bool has_ts = time_ns(json_object_get(top, "timestamp"), &ts);
    if (type && strcmp(type, "dns") != 0) {
        snprintf(err, errlen, "not a DNS result (type \"%.32s\")", type);
        return -EBADMSG;
    }
    if (!json_is_integer(prb) || json_integer_value(prb) < 0) {
        snprintf(err, errlen, "no prb_id");
        return -EBADMSG;
    }
    memset(&row, 0, sizeof row);
    row.prb_id = (uint64_t)json_integer_value(prb);
    json_int_t msm_v = json_integer_value(json_object_get(top, "msm_id"));
    uint64_t msm = msm_v > 0 && msm_v < (json_int_t)1 << 48 ? (uint64_t)msm_v : 0;
    if (!json_is_array(set)) {
        if (!has_ts) {
            snprintf(err, errlen, "no timestamp");
            return -EBADMSG;
        }
        row.ts_ns = ts;
        row.conn = msm * 256;
        judge(top, top, &row);
        int rc = fn(arg, &row);
        return rc < 0 ? rc : 1;
    }
    size_t n = json_array_size(set);
    if (n == 0 || n > ATLAS_RESULTSET_MAX) {
        snprintf(err, errlen, "a resultset of %zu entries (1 to %d)", n, ATLAS_RESULTSET_MAX);
        return -EBADMSG;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(set, i);
        row.ts_ns = ts;
        if (!json_is_object(e) || (!time_ns(json_object_get(e, "time"), &row.ts_ns) && !has_ts)) {
            snprintf(err, errlen, "resultset entry %zu: no time", i + 1);
            return -EBADMSG;
        }
    }
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(set, i);
        row.ts_ns = ts;
        time_ns(json_object_get(e, "time"), &row.ts_ns);
        row.conn = msm * 256 + i + 1;
        judge(top, e, &row);
        int rc = fn(arg, &row);
        if (rc < 0)
            return rc;
    }
    return (int)n;
}

/* jansson's values of one element come from an arena of the decoding
 * thread that is emptied after the element: a result is many small
 * allocations, and malloc/free of each would be a good part of an import's
 * time. Past the arena, and on a thread without one, malloc. */
#define ARENA_SIZE (256 * 1024)

static _Thread_local struct {
    char *base;
    size_t used;
} arena;

static void *arena_malloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (arena.base && n <= ARENA_SIZE - arena.used) {
        void *p = arena.base + arena.used;
        arena.used += n;
        return p;
    }
    return malloc(n);
}

static void arena_free(void *p)
{
    if (!arena.base || (char *)p < arena.base || (char *)p >= arena.base + ARENA_SIZE)
        free(p);
}

void atlas_arena_begin(void)
{
    if (!arena.base)
        arena.base = malloc(ARENA_SIZE);
    arena.used = 0;
}

void atlas_arena_end(void)
{
    free(arena.base);
    arena.base = NULL;
}

void atlas_arena_install(json_malloc_t *old_malloc, json_free_t *old_free)
{
    json_get_alloc_funcs(old_malloc, old_free);
    json_set_alloc_funcs(arena_malloc, arena_free);
}

int atlas_decode(const char *text, size_t len, atlas_row_fn fn, void *arg, char *err, size_t errlen)
{
    json_error_t je;
    json_t *top = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!top) {
        arena.used = 0;
        snprintf(err, errlen, "not JSON: %s (byte %d)", je.text, je.position);
        return -EBADMSG;
    }
    int rc;
    if (!json_is_object(top)) {
        snprintf(err, errlen, "not a JSON object");
        rc = -EBADMSG;
    } else {
        rc = decode_obj(top, fn, arg, err, errlen);
    }
    json_decref(top);
    arena.used = 0;
    return rc;
}
