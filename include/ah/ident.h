/* The DNS identity codec: builds the queries that ask a server who it is
 * (CH TXT hostname.bind, CH TXT id.server, or any query with the NSID option)
 * and extracts the node identity from a reply. Pure functions on bytes, built
 * on ldns; used by the probe and by tests against any real DNS server. */
#ifndef AH_IDENT_H
#define AH_IDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AH_IDENT_MAX 256 /* identity bytes incl. NUL; longer ones are cut */

enum ah_ident_kind {
    AH_IDENT_HOSTNAME_BIND, /* CH TXT hostname.bind (+ NSID option) */
    AH_IDENT_ID_SERVER,     /* CH TXT id.server (+ NSID option) */
    AH_IDENT_NSID,          /* NAME/TYPE in class IN with the NSID option */
};

struct ah_ident_query {
    enum ah_ident_kind kind;
    char qname[256];  /* presentation form, e.g. "hostname.bind." */
    uint16_t qtype;   /* e.g. LDNS_RR_TYPE_TXT */
    uint16_t qclass;  /* LDNS_RR_CLASS_CH or _IN */
    uint16_t bufsize; /* EDNS UDP payload size advertised (default 1232) */
};

/* Parses "hostname.bind", "id.server" or "nsid:NAME/TYPE" (e.g.
 * "nsid:example.com/SOA"). Returns 0 or -EINVAL. */
int ah_ident_query_parse(const char *spec, struct ah_ident_query *out);

/* Builds the wire query with the given id (RD clear, EDNS0 with the NSID
 * option always, so NSID answers too). Returns the length or -ENOSPC/-EINVAL. */
int ah_ident_query_build(const struct ah_ident_query *q, uint16_t id, uint8_t *buf, size_t cap);

struct ah_ident_reply {
    uint16_t id;
    int rcode;                   /* extended rcode, e.g. 0 NOERROR, 5 REFUSED */
    bool tc;                     /* truncated */
    bool has_identity;           /* an identity was found */
    char identity[AH_IDENT_MAX]; /* TXT answer for hostname.bind/id.server, else NSID */
    char detail[64];             /* rcode name if not NOERROR, else reason if no identity */
};

/* Parses a reply to q. An identity is taken from the TXT answer matching the
 * question (CH kinds; its strings joined, every byte kept but NUL, which
 * becomes '?': the identity is untrusted text, escaped wherever it is
 * shown), else from the NSID option (printable ASCII kept, anything else
 * hex). Returns 0 when the message parses as a DNS response
 * (whether or not it carries an identity), -EBADMSG when it does not (not a
 * response, truncated, or the question differs from q). */
int ah_ident_reply_parse(const struct ah_ident_query *q, const uint8_t *buf, size_t len,
                         struct ah_ident_reply *out);

/* "NOERROR", "REFUSED", ... or "RCODE<n>". */
const char *ah_ident_rcode_name(int rcode);

#endif
