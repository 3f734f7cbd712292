/* Test client: sends N CH TXT hostname.bind queries to a DNS server in one
 * TCP write (RFC 7766 pipelining) and checks that N answers come back on the
 * same connection, in order, each carrying the expected identity.
 * Usage: responder_pipeline ADDR PORT N IDENTITY. Exit 0 ok, 1 failure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "ah/addr.h"
#include "ah/ident.h"
#include "tool_util.h"

int main(int argc, char **argv)
{
    struct ah_ident_query q;
    struct ah_addr addr;
    struct timeval tv = {.tv_sec = 3};
    uint16_t port;
    uint8_t *out = NULL;
    size_t olen = 0;
    int fd = -1, n, status = 1;

    if (argc != 5 || ah_port_parse(argv[2], &port) < 0 || (n = atoi(argv[3])) <= 0 || n > 1000 ||
        ah_addr_parse(argv[1], port, &addr) < 0) {
        fprintf(stderr, "usage: responder_pipeline ADDR PORT N IDENTITY\n");
        return 2;
    }
    ah_ident_query_parse("hostname.bind", &q);
    out = malloc((size_t)n * 514);
    fd = socket(ah_addr_family(&addr), SOCK_STREAM, 0);
    if (out == NULL || fd < 0)
        goto out;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&addr.ss, addr.len) < 0) {
        fprintf(stderr, "responder_pipeline: connect %s: %s\n", argv[1], strerror(errno));
        goto out;
    }
    for (int i = 0; i < n; i++) {
        int len = ah_ident_query_build(&q, (uint16_t)(1000 + i), out + olen + 2, 512);
        if (len < 0)
            goto out;
        out[olen] = (uint8_t)(len >> 8);
        out[olen + 1] = (uint8_t)len;
        olen += 2 + (size_t)len;
    }
    if (write(fd, out, olen) != (ssize_t)olen) {
        fprintf(stderr, "responder_pipeline: write: %s\n", strerror(errno));
        goto out;
    }
    for (int i = 0; i < n; i++) {
        uint8_t hdr[2], msg[65535];
        struct ah_ident_reply r;
        size_t mlen = 0;
        int rc = tool_read_full(fd, hdr, 2);
        if (rc == 0) {
            mlen = (size_t)hdr[0] << 8 | hdr[1];
            rc = tool_read_full(fd, msg, mlen);
        }
        if (rc < 0) {
            fprintf(stderr, "responder_pipeline: answer %d of %d: %s\n", i + 1, n, strerror(-rc));
            goto out;
        }
        if (ah_ident_reply_parse(&q, msg, mlen, &r) < 0 || r.id != 1000 + i || !r.has_identity ||
            strcmp(r.identity, argv[4]) != 0) {
            fprintf(stderr,
                    "responder_pipeline: answer %d: id %u identity \"%s\", want id %d \"%s\"\n",
                    i + 1, r.id, r.identity, 1000 + i, argv[4]);
            goto out;
        }
    }
    printf("responder_pipeline: %d answers in order on one connection\n", n);
    status = 0;
out:
    if (fd >= 0)
        close(fd);
    free(out);
    return status;
}
