/* Micro benchmark of the responder's DNS answer function alone (no
 * sockets): ns per query for the template path and the ldns path on the
 * queries that matter, so the per-query CPU budget can be checked.
 * Usage: dns_answer_micro [--count N] [--identity NAME] */
#include "ah/clock.h"
#include "servers/dns_answer.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Queries as a client sends them (dig-like: RD set, EDNS with NSID where
 * marked). */
static const uint8_t Q_HOSTNAME[] = {0x12, 0x34, 0x01, 0x00, 0,   1,   0,   0,   0,   0,   0,
                                     0,    8,    'h',  'o',  's', 't', 'n', 'a', 'm', 'e', 4,
                                     'b',  'i',  'n',  'd',  0,   0,   16,  0,   3};
static const uint8_t Q_HOSTNAME_NSID[] = {
    0x12, 0x34, 0x01, 0x00, 0,   1, 0,   0,   0,   0,   0, 1, 8,  'h', 'o', 's',
    't',  'n',  'a',  'm',  'e', 4, 'b', 'i', 'n', 'd', 0, 0, 16, 0,   3,   0,
    0,    41,   0x04, 0xd0, 0,   0, 0,   0,   0,   4,   0, 3, 0,  0};
static const uint8_t Q_REFUSED[] = {0x12, 0x34, 0x01, 0x00, 0,   1,   0,   0,   0,   0,
                                    0,    0,    7,    'e',  'x', 'a', 'm', 'p', 'l', 'e',
                                    3,    'c',  'o',  'm',  0,   0,   1,   0,   1};
static const uint8_t Q_ZONE[] = {0x12, 0x34, 0x01, 0x00, 0,   1,   0,   0,   0, 0, 0, 0, 3,
                                 'w',  'w',  'w',  4,    't', 'e', 's', 't', 0, 0, 1, 0, 1};

typedef int (*answer_fn)(const struct dns_answerer *, const uint8_t *, size_t, bool, uint8_t *,
                         size_t, enum dns_verdict *);

static int run(const char *label, answer_fn fn, const struct dns_answerer *a, const uint8_t *q,
               size_t qlen, long count)
{
    static uint8_t out[65535];
    uint8_t qq[512];
    enum dns_verdict v;
    memcpy(qq, q, qlen);
    /* Warm up, and make sure this query is answered by this path. */
    int n = fn(a, qq, qlen, true, out, sizeof out, &v);
    if (n <= 0) {
        fprintf(stderr, "dns_answer_micro: %s: answer returned %d\n", label, n);
        return -1;
    }
    uint64_t t0 = ah_clock_mono_ns();
    unsigned long sum = 0;
    for (long i = 0; i < count; i++) {
        /* A new id per query, as on the wire. */
        qq[0] = (uint8_t)(i >> 8);
        qq[1] = (uint8_t)i;
        sum += (unsigned long)fn(a, qq, qlen, true, out, sizeof out, &v) + out[1];
    }
    uint64_t t1 = ah_clock_mono_ns();
    printf("%-34s %10ld queries %8.1f ns/query  (%d bytes, %s, check %lu)\n", label, count,
           (double)(t1 - t0) / (double)count, n, dns_verdict_name(v), sum % 10);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: dns_answer_micro [--count N] [--identity NAME]\n"
               "Times the DNS answer function per query: template path vs ldns path.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"count", required_argument, NULL, 'n'},
                                         {"identity", required_argument, NULL, 'i'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"version", no_argument, NULL, 'V'},
                                         {NULL, 0, NULL, 0}};
    long count = 2000000;
    const char *identity = "bench-node-1";
    int c;
    while ((c = getopt_long(argc, argv, "n:i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            count = strtol(optarg, NULL, 10);
            if (count <= 0) {
                fprintf(stderr, "dns_answer_micro: --count %s: not a positive number\n", optarg);
                return 2;
            }
            break;
        case 'i':
            identity = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("dns_answer_micro %s\n", AH_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }

    /* A one-record zone for the zone-hit case. */
    char path[] = "/tmp/ah-micro-zone.XXXXXX";
    int fd = mkstemp(path);
    const char *zt = "$ORIGIN test.\n@ 300 IN SOA ns hm 1 2 3 4 5\nwww 300 IN A 198.51.100.1\n";
    if (fd < 0 || write(fd, zt, strlen(zt)) != (ssize_t)strlen(zt)) {
        perror("dns_answer_micro: zone file");
        return 1;
    }
    close(fd);
    struct dns_zone *z = NULL;
    struct dns_answerer *a = NULL, *az = NULL;
    char err[256];
    int rc = dns_zone_load(path, &z, err, sizeof err);
    unlink(path);
    if (rc < 0 || dns_answerer_new(&a, identity, NULL) < 0 ||
        dns_answerer_new(&az, identity, z) < 0) {
        fprintf(stderr, "dns_answer_micro: setup failed: %s\n", rc < 0 ? err : "answerer");
        return 1;
    }

    long slow = count / 10 > 0 ? count / 10 : 1;
    rc = 0;
    rc |= run("fast hostname.bind", dns_answer_fast, a, Q_HOSTNAME, sizeof Q_HOSTNAME, count);
    rc |= run("fast hostname.bind +nsid", dns_answer_fast, a, Q_HOSTNAME_NSID,
              sizeof Q_HOSTNAME_NSID, count);
    rc |= run("fast REFUSED", dns_answer_fast, a, Q_REFUSED, sizeof Q_REFUSED, count);
    rc |= run("dns_answer hostname.bind", dns_answer, a, Q_HOSTNAME, sizeof Q_HOSTNAME, count);
    rc |= run("ldns hostname.bind", dns_answer_slow, a, Q_HOSTNAME, sizeof Q_HOSTNAME, slow);
    rc |= run("ldns hostname.bind +nsid", dns_answer_slow, a, Q_HOSTNAME_NSID,
              sizeof Q_HOSTNAME_NSID, slow);
    rc |= run("ldns zone hit (dns_answer)", dns_answer, az, Q_ZONE, sizeof Q_ZONE, slow);
    dns_answerer_free(a);
    dns_answerer_free(az);
    dns_zone_free(z);
    return rc ? 1 : 0;
}
