/* IPv4/IPv6 address, port and prefix parsing and formatting, shared by the
 * responder's --listen, the probe's TARGET and the lab file's addresses. */
#ifndef AH_ADDR_H
#define AH_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ah_addr {
    struct sockaddr_storage ss; /* sockaddr_in or sockaddr_in6 */
    socklen_t len;
};

struct ah_prefix {
    struct ah_addr addr; /* network address (host bits cleared) */
    unsigned int plen;   /* 0..32 or 0..128 */
};

/* Largest text form: "[" + INET6_ADDRSTRLEN + "]:65535". */
#define AH_ADDR_STRLEN 56

/* Parses "1.2.3.4", "1.2.3.4:53", "2001:db8::1", "[2001:db8::1]",
 * "[2001:db8::1]:53". Without a port, default_port is used. -EINVAL on error
 * (-ERANGE for a port above 65535). Scoped addresses ("fe80::1%eth0") are
 * refused. A bare IPv6 address never carries a port: "::1:53" is an address. */
int ah_addr_parse(const char *s, uint16_t default_port, struct ah_addr *out);

/* Parses a bare IPv4 or IPv6 address (no port, no brackets). */
int ah_addr_parse_ip(const char *s, struct ah_addr *out);

/* Parses a decimal port 0..65535. -EINVAL or -ERANGE. */
int ah_port_parse(const char *s, uint16_t *out);

/* Copies a sockaddr_in/sockaddr_in6 (e.g. from recvfrom or accept).
 * -EAFNOSUPPORT for other families or a short len. */
int ah_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct ah_addr *out);

int ah_addr_family(const struct ah_addr *a);
uint16_t ah_addr_port(const struct ah_addr *a);
void ah_addr_set_port(struct ah_addr *a, uint16_t port);
bool ah_addr_equal_ip(const struct ah_addr *a, const struct ah_addr *b);

/* Formats "1.2.3.4" / "2001:db8::1" (with_port false) or "1.2.3.4:53" /
 * "[2001:db8::1]:53". Returns 0 or -ENOSPC. */
int ah_addr_format(const struct ah_addr *a, bool with_port, char *buf, size_t len);

/* Parses "198.51.100.0/24" or "2001:db8::/32"; a bare address is a host
 * prefix. Host bits set below the prefix length are an error (-EINVAL). */
int ah_prefix_parse(const char *s, struct ah_prefix *out);
/* True if a is of p's family and inside p (ports are ignored). */
bool ah_prefix_contains(const struct ah_prefix *p, const struct ah_addr *a);

/* Largest text form of a prefix: INET6_ADDRSTRLEN + "/128". */
#define AH_PREFIX_STRLEN 52

/* Formats "198.51.100.0/24". Returns 0 or -ENOSPC. */
int ah_prefix_format(const struct ah_prefix *p, char *buf, size_t len);

#endif
