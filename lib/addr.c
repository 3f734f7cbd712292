/* IPv4/IPv6 address, port and prefix parsing and formatting. Addresses are
 * parsed with inet_pton, which accepts only the canonical dotted-quad and
 * RFC 4291 text forms; IPv6 needs brackets when a port follows. */
#include "ah/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* Longest "address" or "address/plen" text we accept as input. */
#define ADDR_TEXT_MAX (INET6_ADDRSTRLEN + 8)

int ah_port_parse(const char *s, uint16_t *out)
{
    if (s == NULL || *s == '\0')
        return -EINVAL;
    unsigned long v = 0;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        v = v * 10 + (unsigned long)(*p - '0');
        if (v > 65535) {
            /* Keep checking the syntax so "99999x" is -EINVAL, not -ERANGE. */
            for (p++; *p != '\0'; p++)
                if (*p < '0' || *p > '9')
                    return -EINVAL;
            return -ERANGE;
        }
    }
    *out = (uint16_t)v;
    return 0;
}

/* Parses a bare address held in s[0..n). */
static int parse_ip_n(const char *s, size_t n, uint16_t port, struct ah_addr *out)
{
    char text[ADDR_TEXT_MAX];
    if (n == 0 || n >= sizeof(text))
        return -EINVAL;
    memcpy(text, s, n);
    text[n] = '\0';

    struct ah_addr a;
    memset(&a, 0, sizeof(a));
    if (memchr(text, ':', n) != NULL) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a.ss;
        if (inet_pton(AF_INET6, text, &sin6->sin6_addr) != 1)
            return -EINVAL;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        a.len = sizeof(*sin6);
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&a.ss;
        if (inet_pton(AF_INET, text, &sin->sin_addr) != 1)
            return -EINVAL;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        a.len = sizeof(*sin);
    }
    *out = a;
    return 0;
}

int ah_addr_parse_ip(const char *s, struct ah_addr *out)
{
    if (s == NULL)
        return -EINVAL;
    return parse_ip_n(s, strlen(s), 0, out);
}

int ah_addr_parse(const char *s, uint16_t default_port, struct ah_addr *out)
{
    if (s == NULL)
        return -EINVAL;
    const char *host = s, *port_text = NULL;
    size_t host_len;
    bool v6 = false;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL)
            return -EINVAL;
        host = s + 1;
        host_len = (size_t)(close - host);
        v6 = true;
        if (close[1] == ':')
            port_text = close + 2;
        else if (close[1] != '\0')
            return -EINVAL;
    } else {
        const char *colon = strchr(s, ':');
        if (colon != NULL && strchr(colon + 1, ':') == NULL) {
            /* Exactly one colon: "v4:port". Two or more: a bare IPv6 address. */
            host_len = (size_t)(colon - s);
            port_text = colon + 1;
        } else {
            host_len = strlen(s);
        }
    }

    struct ah_addr a;
    int rc = parse_ip_n(host, host_len, default_port, &a);
    if (rc < 0)
        return rc;
    /* Brackets are for IPv6 only. */
    if (v6 && a.ss.ss_family != AF_INET6)
        return -EINVAL;
    if (port_text != NULL) {
        uint16_t port;
        rc = ah_port_parse(port_text, &port);
        if (rc < 0)
            return rc;
        ah_addr_set_port(&a, port);
    }
    *out = a;
    return 0;
}

int ah_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct ah_addr *out)
{
    if (sa == NULL)
        return -EINVAL;
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        memset(out, 0, sizeof(*out));
        memcpy(&out->ss, sa, sizeof(struct sockaddr_in));
        out->len = sizeof(struct sockaddr_in);
        return 0;
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        memset(out, 0, sizeof(*out));
        memcpy(&out->ss, sa, sizeof(struct sockaddr_in6));
        out->len = sizeof(struct sockaddr_in6);
        return 0;
    }
    return -EAFNOSUPPORT;
}

int ah_addr_family(const struct ah_addr *a)
{
    return a->ss.ss_family;
}

uint16_t ah_addr_port(const struct ah_addr *a)
{
    if (a->ss.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
    if (a->ss.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
    return 0;
}

void ah_addr_set_port(struct ah_addr *a, uint16_t port)
{
    if (a->ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
    else if (a->ss.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
}

/* The raw address bytes of a, and their count (4 or 16; 0 if unknown). */
static const uint8_t *addr_bytes(const struct ah_addr *a, size_t *n)
{
    if (a->ss.ss_family == AF_INET) {
        *n = 4;
        return (const uint8_t *)&((const struct sockaddr_in *)&a->ss)->sin_addr;
    }
    if (a->ss.ss_family == AF_INET6) {
        *n = 16;
        return ((const struct sockaddr_in6 *)&a->ss)->sin6_addr.s6_addr;
    }
    *n = 0;
    return NULL;
}

bool ah_addr_equal_ip(const struct ah_addr *a, const struct ah_addr *b)
{
    size_t na, nb;
    const uint8_t *pa = addr_bytes(a, &na), *pb = addr_bytes(b, &nb);
    return na != 0 && a->ss.ss_family == b->ss.ss_family && memcmp(pa, pb, na) == 0;
}

int ah_addr_format(const struct ah_addr *a, bool with_port, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN];
    size_t n;
    const uint8_t *bytes = addr_bytes(a, &n);
    if (bytes == NULL)
        return -EAFNOSUPPORT;
    if (inet_ntop(a->ss.ss_family, bytes, ip, sizeof(ip)) == NULL)
        return -errno;
    int w;
    if (!with_port)
        w = snprintf(buf, len, "%s", ip);
    else if (n == 16)
        w = snprintf(buf, len, "[%s]:%u", ip, (unsigned)ah_addr_port(a));
    else
        w = snprintf(buf, len, "%s:%u", ip, (unsigned)ah_addr_port(a));
    if (w < 0 || (size_t)w >= len)
        return -ENOSPC;
    return 0;
}

/* True if the bits of bytes[] from bit plen on are all zero. */
static bool host_bits_clear(const uint8_t *bytes, size_t n, unsigned plen)
{
    for (size_t i = 0; i < n; i++) {
        unsigned first = (unsigned)i * 8;
        uint8_t mask;
        if (plen >= first + 8)
            mask = 0;
        else if (plen <= first)
            mask = 0xff;
        else
            mask = (uint8_t)(0xff >> (plen - first));
        if (bytes[i] & mask)
            return false;
    }
    return true;
}

int ah_prefix_parse(const char *s, struct ah_prefix *out)
{
    if (s == NULL)
        return -EINVAL;
    const char *slash = strchr(s, '/');
    size_t addr_len = slash != NULL ? (size_t)(slash - s) : strlen(s);
    struct ah_prefix p;
    memset(&p, 0, sizeof(p));
    int rc = parse_ip_n(s, addr_len, 0, &p.addr);
    if (rc < 0)
        return rc;
    size_t n;
    const uint8_t *bytes = addr_bytes(&p.addr, &n);
    unsigned max = (unsigned)n * 8;
    if (slash == NULL) {
        p.plen = max;
    } else {
        const char *q = slash + 1;
        if (*q == '\0' || strlen(q) > 3)
            return -EINVAL;
        unsigned v = 0;
        for (; *q != '\0'; q++) {
            if (*q < '0' || *q > '9')
                return -EINVAL;
            v = v * 10 + (unsigned)(*q - '0');
        }
        if (v > max)
            return -EINVAL;
        p.plen = v;
    }
    if (!host_bits_clear(bytes, n, p.plen))
        return -EINVAL;
    *out = p;
    return 0;
}

bool ah_prefix_contains(const struct ah_prefix *p, const struct ah_addr *a)
{
    size_t np, na;
    const uint8_t *pb = addr_bytes(&p->addr, &np), *ab = addr_bytes(a, &na);
    if (np == 0 || np != na || p->plen > np * 8)
        return false;
    size_t full = p->plen / 8;
    if (memcmp(pb, ab, full) != 0)
        return false;
    unsigned rest = p->plen % 8;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (pb[full] & mask) == (ab[full] & mask);
}

int ah_prefix_format(const struct ah_prefix *p, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN];
    int rc = ah_addr_format(&p->addr, false, ip, sizeof(ip));
    if (rc < 0)
        return rc;
    int w = snprintf(buf, len, "%s/%u", ip, p->plen);
    if (w < 0 || (size_t)w >= len)
        return -ENOSPC;
    return 0;
}
