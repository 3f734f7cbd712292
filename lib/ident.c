/* The DNS identity codec: query specs are validated with ldns once, queries
 * are encoded by hand (a few dozen bytes, so the probe can build one per
 * probe), and replies are read by a bounds-checked scanner because the probe
 * parses up to 100k of them per second. */
#include "ah/ident.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#define HDR_LEN     12
#define OPT_NSID    3
#define MAX_HOPS    64 /* compression pointers followed in one name */
#define NAME_MAX_WR 255

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void set_fixed(struct ah_ident_query *out, enum ah_ident_kind kind, const char *qname)
{
    out->kind = kind;
    snprintf(out->qname, sizeof out->qname, "%s", qname);
    out->qtype = LDNS_RR_TYPE_TXT;
    out->qclass = LDNS_RR_CLASS_CH;
}

int ah_ident_query_parse(const char *spec, struct ah_ident_query *out)
{
    if (!spec || !out)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    out->bufsize = 1232;

    if (!strcasecmp(spec, "hostname.bind") || !strcasecmp(spec, "hostname.bind.")) {
        set_fixed(out, AH_IDENT_HOSTNAME_BIND, "hostname.bind.");
        return 0;
    }
    if (!strcasecmp(spec, "id.server") || !strcasecmp(spec, "id.server.")) {
        set_fixed(out, AH_IDENT_ID_SERVER, "id.server.");
        return 0;
    }
    if (strncasecmp(spec, "nsid:", 5) != 0)
        return -EINVAL;

    const char *name = spec + 5;
    const char *slash = strrchr(name, '/');
    if (!slash || slash == name || slash[1] == '\0')
        return -EINVAL;
    char namebuf[1024];
    size_t nlen = (size_t)(slash - name);
    if (nlen >= sizeof namebuf)
        return -EINVAL;
    memcpy(namebuf, name, nlen);
    namebuf[nlen] = '\0';

    ldns_rr_type t = ldns_get_rr_type_by_name(slash + 1);
    /* Type 0 means unknown; zone transfers and pseudo types are no probes. */
    if (t == 0 || t == LDNS_RR_TYPE_OPT || t == LDNS_RR_TYPE_AXFR || t == LDNS_RR_TYPE_IXFR ||
        t == LDNS_RR_TYPE_TSIG)
        return -EINVAL;

    ldns_rdf *dname = ldns_dname_new_frm_str(namebuf);
    if (!dname)
        return -EINVAL;
    char *pres = ldns_rdf2str(dname);
    ldns_rdf_deep_free(dname);
    if (!pres)
        return -ENOMEM;
    int rc = 0;
    if (strlen(pres) >= sizeof out->qname)
        rc = -EINVAL;
    else
        snprintf(out->qname, sizeof out->qname, "%s", pres);
    free(pres);
    if (rc)
        return rc;
    out->kind = AH_IDENT_NSID;
    out->qtype = (uint16_t)t;
    out->qclass = LDNS_RR_CLASS_IN;
    return 0;
}

/* Presentation form (as ldns prints it: "\DDD" and "\c" escapes) to
 * uncompressed wire form. Returns the wire length or -EINVAL. */
static int name_to_wire(const char *s, uint8_t *out, size_t cap)
{
    size_t pos = 0;
    if (cap < 1)
        return -EINVAL;
    if (s[0] == '.' && s[1] == '\0') {
        out[0] = 0;
        return 1;
    }
    while (*s) {
        size_t lab = pos++;
        size_t n = 0;
        while (*s && *s != '.') {
            int c = (unsigned char)*s++;
            if (c == '\\') {
                if (s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' &&
                    s[2] <= '9') {
                    c = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
                    s += 3;
                    if (c > 255)
                        return -EINVAL;
                } else if (*s) {
                    c = (unsigned char)*s++;
                } else {
                    return -EINVAL;
                }
            }
            if (pos >= cap || n >= 63)
                return -EINVAL;
            out[pos++] = (uint8_t)c;
            n++;
        }
        if (n == 0)
            return -EINVAL;
        out[lab] = (uint8_t)n;
        if (*s == '.')
            s++;
    }
    if (pos >= cap || pos + 1 > NAME_MAX_WR)
        return -EINVAL;
    out[pos++] = 0;
    return (int)pos;
}

int ah_ident_query_build(const struct ah_ident_query *q, uint16_t id, uint8_t *buf, size_t cap)
{
    uint8_t name[NAME_MAX_WR + 1];
    int nlen = name_to_wire(q->qname, name, sizeof name);
    if (nlen < 0)
        return nlen;
    size_t total = HDR_LEN + (size_t)nlen + 4 + 11 + 4;
    if (total > cap)
        return -ENOSPC;

    uint8_t *p = buf;
    wr16(p, id);
    p[2] = 0; /* QUERY, RD clear: we ask the authoritative server itself */
    p[3] = 0;
    wr16(p + 4, 1);
    wr16(p + 6, 0);
    wr16(p + 8, 0);
    wr16(p + 10, 1);
    p += HDR_LEN;
    memcpy(p, name, (size_t)nlen);
    p += nlen;
    wr16(p, q->qtype);
    wr16(p + 2, q->qclass);
    p += 4;
    /* OPT: root owner, payload size, ext-rcode 0, version 0, no DO, then
     * one empty NSID option (RFC 5001 §2.1). */
    p[0] = 0;
    wr16(p + 1, LDNS_RR_TYPE_OPT);
    wr16(p + 3, q->bufsize ? q->bufsize : 1232);
    memset(p + 5, 0, 4);
    wr16(p + 9, 4);
    wr16(p + 11, OPT_NSID);
    wr16(p + 13, 0);
    return (int)total;
}

/* Skips the name at *pos (a pointer ends it). */
static int skip_name(const uint8_t *m, size_t len, size_t *pos)
{
    size_t p = *pos;
    for (;;) {
        if (p >= len)
            return -EBADMSG;
        uint8_t l = m[p];
        if (l == 0) {
            *pos = p + 1;
            return 0;
        }
        if ((l & 0xc0) == 0xc0) {
            if (p + 2 > len)
                return -EBADMSG;
            *pos = p + 2;
            return 0;
        }
        if (l & 0xc0)
            return -EBADMSG;
        p += 1 + l;
    }
}

/* Compares the (possibly compressed) name at pos with an uncompressed wire
 * name, ASCII case-insensitively. Returns 1 equal, 0 different, <0 bad. */
static int name_equals(const uint8_t *m, size_t len, size_t pos, const uint8_t *want)
{
    int hops = 0;
    size_t w = 0;
    for (;;) {
        if (pos >= len)
            return -EBADMSG;
        uint8_t l = m[pos];
        if ((l & 0xc0) == 0xc0) {
            if (pos + 2 > len || ++hops > MAX_HOPS)
                return -EBADMSG;
            size_t to = (size_t)((l & 0x3f) << 8 | m[pos + 1]);
            /* Only backward pointers, so every walk ends. */
            if (to >= pos || to < HDR_LEN)
                return -EBADMSG;
            pos = to;
            continue;
        }
        if (l & 0xc0)
            return -EBADMSG;
        if (pos + 1 + l > len)
            return -EBADMSG;
        if (want[w] != l)
            return 0;
        if (l == 0)
            return 1;
        for (uint8_t i = 1; i <= l; i++) {
            uint8_t a = m[pos + i], b = want[w + i];
            if (a >= 'A' && a <= 'Z')
                a = (uint8_t)(a + 32);
            if (b >= 'A' && b <= 'Z')
                b = (uint8_t)(b + 32);
            if (a != b)
                return 0;
        }
        pos += 1 + l;
        w += 1 + l;
    }
}

/* TXT strings are concatenated, every byte kept as the server sent it
 * (probes.csv records identities exactly; whatever shows one escapes it for
 * its medium). Only NUL, which a C string cannot hold, becomes '?'. */
static size_t txt_to_identity(const uint8_t *rd, size_t rdlen, char *out, size_t cap)
{
    size_t o = 0, i = 0;
    while (i < rdlen) {
        size_t sl = rd[i++];
        if (sl > rdlen - i)
            sl = rdlen - i;
        for (size_t k = 0; k < sl && o + 1 < cap; k++) {
            uint8_t c = rd[i + k];
            out[o++] = c == 0 ? '?' : (char)c;
        }
        i += sl;
    }
    out[o] = '\0';
    return o;
}

/* NSID: printable ASCII is kept as is, anything else is shown in hex. */
static size_t nsid_to_identity(const uint8_t *d, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    bool printable = true;
    for (size_t i = 0; i < n; i++)
        if (d[i] < 0x20 || d[i] > 0x7e)
            printable = false;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (printable) {
            if (o + 1 >= cap)
                break;
            out[o++] = (char)d[i];
        } else {
            if (o + 2 >= cap)
                break;
            out[o++] = hex[d[i] >> 4];
            out[o++] = hex[d[i] & 15];
        }
    }
    out[o] = '\0';
    return o;
}

/* Checks that the question at *pos is the one asked and steps over it. */
static int skip_question(const struct ah_ident_query *q, const uint8_t *qwire, const uint8_t *m,
                         size_t len, size_t *pos)
{
    if (name_equals(m, len, *pos, qwire) <= 0)
        return -EBADMSG;
    if (skip_name(m, len, pos) < 0 || *pos + 4 > len)
        return -EBADMSG;
    if (rd16(m + *pos) != q->qtype || rd16(m + *pos + 2) != q->qclass)
        return -EBADMSG;
    *pos += 4;
    return 0;
}

/* Finds the first NSID option in an OPT record's rdata; an option that runs
 * past the rdata makes the message malformed. */
static int find_nsid(const uint8_t *rd, size_t rdlen, const uint8_t **nsid, size_t *nsid_len)
{
    for (size_t o = 0; o + 4 <= rdlen;) {
        uint16_t code = rd16(rd + o), olen = rd16(rd + o + 2);
        o += 4;
        if (olen > rdlen - o)
            return -EBADMSG;
        if (code == OPT_NSID && *nsid == NULL) {
            *nsid = rd + o;
            *nsid_len = olen;
        }
        o += olen;
    }
    return 0;
}

int ah_ident_reply_parse(const struct ah_ident_query *q, const uint8_t *m, size_t len,
                         struct ah_ident_reply *out)
{
    uint8_t qwire[NAME_MAX_WR + 1];
    int qn = name_to_wire(q->qname, qwire, sizeof qwire);
    if (qn < 0)
        return qn;

    memset(out, 0, offsetof(struct ah_ident_reply, identity));
    out->identity[0] = '\0';
    out->detail[0] = '\0';
    if (len < HDR_LEN || !(m[2] & 0x80))
        return -EBADMSG;
    out->id = rd16(m);
    out->tc = (m[2] & 0x02) != 0;
    int rcode = m[3] & 0x0f;
    unsigned qd = rd16(m + 4), an = rd16(m + 6), ns = rd16(m + 8), ar = rd16(m + 10);
    size_t pos = HDR_LEN;

    /* Error replies (FORMERR, NOTIMP, ...) often carry no question. */
    if (qd > 1 || (qd == 0 && rcode == 0))
        return -EBADMSG;
    if (qd == 1 && skip_question(q, qwire, m, len, &pos) < 0)
        return -EBADMSG;

    const uint8_t *txt = NULL, *nsid = NULL;
    size_t txt_len = 0, nsid_len = 0;
    int ext_rcode = 0;
    unsigned total = an + ns + ar;
    for (unsigned i = 0; i < total; i++) {
        size_t owner = pos;
        if (skip_name(m, len, &pos) < 0 || pos + 10 > len)
            return -EBADMSG;
        uint16_t type = rd16(m + pos), cls = rd16(m + pos + 2);
        uint32_t ttl = (uint32_t)rd16(m + pos + 4) << 16 | rd16(m + pos + 6);
        size_t rdlen = rd16(m + pos + 8);
        pos += 10;
        if (rdlen > len - pos)
            return -EBADMSG;
        const uint8_t *rd = m + pos;
        pos += rdlen;

        if (i < an) {
            if (q->kind != AH_IDENT_NSID && !txt && type == LDNS_RR_TYPE_TXT && cls == q->qclass) {
                int eq = name_equals(m, len, owner, qwire);
                if (eq < 0)
                    return -EBADMSG;
                if (eq) {
                    txt = rd;
                    txt_len = rdlen;
                }
            }
        } else if (i >= an + ns && type == LDNS_RR_TYPE_OPT) {
            ext_rcode = (int)(ttl >> 24);
            if (find_nsid(rd, rdlen, &nsid, &nsid_len) < 0)
                return -EBADMSG;
        }
    }

    out->rcode = ext_rcode << 4 | rcode;
    if (txt && txt_to_identity(txt, txt_len, out->identity, sizeof out->identity) > 0)
        out->has_identity = true;
    else if (nsid && nsid_to_identity(nsid, nsid_len, out->identity, sizeof out->identity) > 0)
        out->has_identity = true;
    else
        out->identity[0] = '\0';

    if (out->rcode != 0)
        snprintf(out->detail, sizeof out->detail, "%s", ah_ident_rcode_name(out->rcode));
    else if (!out->has_identity)
        snprintf(out->detail, sizeof out->detail, "%s", out->tc ? "truncated" : "no-identity");
    return 0;
}

const char *ah_ident_rcode_name(int rcode)
{
    static const char *const names[] = {
        [0] = "NOERROR",  [1] = "FORMERR",  [2] = "SERVFAIL",  [3] = "NXDOMAIN",   [4] = "NOTIMP",
        [5] = "REFUSED",  [6] = "YXDOMAIN", [7] = "YXRRSET",   [8] = "NXRRSET",    [9] = "NOTAUTH",
        [10] = "NOTZONE", [16] = "BADVERS", [17] = "BADKEY",   [18] = "BADTIME",   [19] = "BADMODE",
        [20] = "BADNAME", [21] = "BADALG",  [22] = "BADTRUNC", [23] = "BADCOOKIE",
    };
    /* Unknown codes are formatted per thread, so callers on several
     * threads never share a buffer. */
    static _Thread_local char other[16];

    if (rcode >= 0 && (size_t)rcode < sizeof names / sizeof names[0] && names[rcode])
        return names[rcode];
    snprintf(other, sizeof other, "RCODE%d", rcode);
    return other;
}
