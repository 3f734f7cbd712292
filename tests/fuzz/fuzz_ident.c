/* libFuzzer target for the probe's DNS identity codec: any bytes as a reply
 * to each kind of identity query, and as a query spec. Checks: no crash, no
 * read past the reply, identity and detail always terminated strings, and a
 * spec that parses always builds a query ldns can read. */
#include "ah/ident.h"

#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reply(const char *spec, const uint8_t *buf, size_t size)
{
    struct ah_ident_query q;
    struct ah_ident_reply r;
    if (ah_ident_query_parse(spec, &q) != 0)
        abort();
    if (ah_ident_reply_parse(&q, buf, size, &r) != 0)
        return;
    if (memchr(r.identity, '\0', sizeof r.identity) == NULL ||
        memchr(r.detail, '\0', sizeof r.detail) == NULL)
        abort();
    if (r.has_identity != (r.identity[0] != '\0'))
        abort();
    if ((r.rcode != 0 || !r.has_identity) && r.detail[0] == '\0')
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    check_reply("hostname.bind", buf, size);
    check_reply("id.server", buf, size);
    check_reply("nsid:example.com/SOA", buf, size);

    /* The input as a spec string. */
    if (size < 300) {
        char spec[301];
        memcpy(spec, data, size);
        spec[size] = '\0';
        struct ah_ident_query q;
        if (ah_ident_query_parse(spec, &q) == 0) {
            uint8_t wire[600];
            int n = ah_ident_query_build(&q, 0x55aa, wire, sizeof wire);
            if (n <= 0)
                abort();
            ldns_pkt *p = NULL;
            if (ldns_wire2pkt(&p, wire, (size_t)n) != LDNS_STATUS_OK || ldns_pkt_qdcount(p) != 1)
                abort();
            ldns_pkt_free(p);
        }
    }
    free(buf);
    return 0;
}
