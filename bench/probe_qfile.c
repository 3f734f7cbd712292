/* Writes the identity query anycast-probe sends (CH TXT hostname.bind with
 * the NSID option, or another --query spec) in dnsperf's -B binary format
 * (2-byte length, then the message), so dnsperf and the probe send the very
 * same bytes in bench/probe.sh. Usage: probe_qfile FILE [SPEC] [COPIES]. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ah/ident.h"

int main(int argc, char **argv)
{
    struct ah_ident_query q;
    uint8_t buf[514];
    const char *spec = argc > 2 ? argv[2] : "hostname.bind";
    long copies = argc > 3 ? strtol(argv[3], NULL, 10) : 64;
    FILE *f;
    int n;

    if (argc < 2 || copies < 1) {
        fprintf(stderr, "usage: probe_qfile FILE [SPEC] [COPIES]\n");
        return 2;
    }
    if (ah_ident_query_parse(spec, &q) < 0) {
        fprintf(stderr, "probe_qfile: bad query spec \"%s\"\n", spec);
        return 2;
    }
    f = fopen(argv[1], "wb");
    if (f == NULL) {
        fprintf(stderr, "probe_qfile: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    for (long i = 0; i < copies; i++) {
        n = ah_ident_query_build(&q, (uint16_t)i, buf + 2, sizeof(buf) - 2);
        if (n < 0) {
            fprintf(stderr, "probe_qfile: cannot build the query\n");
            fclose(f);
            return 1;
        }
        buf[0] = (uint8_t)(n >> 8);
        buf[1] = (uint8_t)n;
        fwrite(buf, 1, (size_t)n + 2, f);
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "probe_qfile: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    return 0;
}
