/* libFuzzer target for the responder's DNS answer function: any bytes as a
 * query, answered by three answerers (no zone, a zone, a long identity) over
 * UDP and TCP. Checks: no crash; silence exactly for DNS_DROPPED; every
 * answer parses with ldns, carries the query's id and QR, and respects the
 * size limit; and wherever the template path answers, the ldns path gives
 * the same bytes (differential). */
#include "servers/dns_answer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct dns_answerer *answerers[3];
static struct dns_zone *zone;

static const char ZONE[] = "$ORIGIN example.test.\n"
                           "$TTL 300\n"
                           "@ IN SOA ns1 hostmaster 1 3600 600 86400 60\n"
                           "@ IN NS ns1\n"
                           "ns1 IN A 198.51.100.1\n"
                           "www IN A 198.51.100.10\n"
                           "www IN AAAA 2001:db8::10\n"
                           "alias IN CNAME www\n"
                           "loop1 IN CNAME loop2\n"
                           "loop2 IN CNAME loop1\n"
                           "a.b.c IN TXT \"deep\"\n"
                           "sub IN NS ns.sub\n"
                           "ns.sub IN A 198.51.100.20\n"
                           "*.wild IN A 198.51.100.99\n"
                           "*.cn IN CNAME www\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char path[] = "/tmp/ah-fuzz-zone.XXXXXX";
    char err[256];
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, ZONE, sizeof ZONE - 1) != (ssize_t)(sizeof ZONE - 1))
        abort();
    close(fd);
    int rc = dns_zone_load(path, &zone, err, sizeof err);
    unlink(path);
    if (rc < 0) {
        fprintf(stderr, "fuzz_dns_answer: %s\n", err);
        abort();
    }
    char longid[701];
    memset(longid, 'L', 700);
    longid[700] = '\0';
    if (dns_answerer_new(&answerers[0], "fuzz-node", NULL) < 0 ||
        dns_answerer_new(&answerers[1], "fuzz-zone-node", zone) < 0 ||
        dns_answerer_new(&answerers[2], longid, NULL) < 0)
        abort();
    return 0;
}

/* Skips a name (a pointer ends it); returns the position after it or 0. */
static size_t skip_name(const uint8_t *m, size_t len, size_t pos)
{
    while (pos < len) {
        if (m[pos] == 0)
            return pos + 1;
        if ((m[pos] & 0xc0) == 0xc0)
            return pos + 2 <= len ? pos + 2 : 0;
        pos += 1u + m[pos];
    }
    return 0;
}

/* The client's UDP limit per RFC 6891, read independently of the code under
 * test: the OPT's class, found by walking the records by their RDLENGTH. */
static size_t client_limit(const uint8_t *q, size_t qlen)
{
    if (qlen < 12)
        return 512;
    unsigned qd = (unsigned)(q[4] << 8 | q[5]);
    unsigned rrs = (unsigned)(q[6] << 8 | q[7]) + (unsigned)(q[8] << 8 | q[9]) +
                   (unsigned)(q[10] << 8 | q[11]);
    size_t pos = 12, lim = 512;
    for (unsigned i = 0; i < qd; i++) {
        if (!(pos = skip_name(q, qlen, pos)) || pos + 4 > qlen)
            return 512;
        pos += 4;
    }
    for (unsigned i = 0; i < rrs; i++) {
        if (!(pos = skip_name(q, qlen, pos)) || pos + 10 > qlen)
            return lim;
        size_t type = (size_t)(q[pos] << 8 | q[pos + 1]),
               cls = (size_t)(q[pos + 2] << 8 | q[pos + 3]);
        if (type == 41 && cls > lim)
            lim = cls;
        pos += 10 + (size_t)(q[pos + 8] << 8 | q[pos + 9]);
    }
    return lim;
}

static void check_one(const struct dns_answerer *a, const uint8_t *q, size_t qlen, bool udp)
{
    static uint8_t out[65535], fast[65535], slow[65535];
    enum dns_verdict v = DNS_ANSWERED, vf = DNS_ANSWERED, vs = DNS_ANSWERED;

    int n = dns_answer(a, q, qlen, udp, out, sizeof out, &v);
    if (n < 0)
        abort(); /* an internal error on any input is a bug */
    if ((n == 0) != (v == DNS_DROPPED))
        abort();
    if (n > 0) {
        if (n < 12 || out[0] != q[0] || out[1] != q[1] || !(out[2] & 0x80))
            abort();
        if (udp && (size_t)n > 512 && (size_t)n > client_limit(q, qlen))
            abort();
        ldns_pkt *p = NULL;
        if (ldns_wire2pkt(&p, out, (size_t)n) != LDNS_STATUS_OK)
            abort();
        ldns_pkt_free(p);
    }

    int nf = dns_answer_fast(a, q, qlen, udp, fast, sizeof fast, &vf);
    if (nf == -EAGAIN)
        return;
    int ns = dns_answer_slow(a, q, qlen, udp, slow, sizeof slow, &vs);
    if (nf != ns || vf != vs || nf != n || (nf > 0 && memcmp(fast, slow, (size_t)nf) != 0)) {
        fprintf(stderr, "fast/slow differ: fast %d (%s) slow %d (%s)\n", nf, dns_verdict_name(vf),
                ns, dns_verdict_name(vs));
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65535)
        return 0;
    /* An exact-size copy, so reading past the query is caught. */
    uint8_t *q = malloc(size ? size : 1);
    if (!q)
        return 0;
    memcpy(q, data, size);
    for (int i = 0; i < 3; i++) {
        check_one(answerers[i], q, size, true);
        check_one(answerers[i], q, size, false);
    }
    /* A small output buffer: a truncated answer that fits, or -ENOSPC. */
    static uint8_t small[600];
    size_t cap = 12 + size % (sizeof small - 12);
    for (int i = 0; i < 3; i++) {
        int n = dns_answer(answerers[i], q, size, false, small, cap, NULL);
        if (n < 0 && n != -ENOSPC)
            abort();
        if (n > 0) {
            ldns_pkt *p = NULL;
            if ((size_t)n > cap || ldns_wire2pkt(&p, small, (size_t)n) != LDNS_STATUS_OK)
                abort();
            ldns_pkt_free(p);
        }
    }
    free(q);
    return 0;
}
