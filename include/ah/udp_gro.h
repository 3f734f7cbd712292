/* UDP GRO on a receiving socket (Linux 5.0 or later): a UDP GSO message from
 * the other end, or a run of equal-size datagrams of one flow, reaches the
 * socket as one buffer that a single receive returns, with a UDP_GRO control
 * message giving the size of its datagrams. Used by anycast-probe and
 * anycast-responder; docs/anycast-responder.md, "UDP GRO", says how. */
#ifndef AH_UDP_GRO_H
#define AH_UDP_GRO_H

#include <stddef.h>
#include <sys/socket.h>

/* A receive slot that holds any coalesced buffer: the largest UDP payload
 * (65,507 bytes) fits. */
#define AH_UDP_GRO_BUF 65536
/* Control buffer space the UDP_GRO message needs. */
#define AH_UDP_GRO_CMSG_SPACE CMSG_SPACE(sizeof(int))

/* Turns UDP GRO on for fd. Returns 0 or a negative errno (ENOPROTOOPT on a
 * kernel without it). */
int ah_udp_gro_enable(int fd);

/* The datagram size of a received buffer from its UDP_GRO control message;
 * 0 when it has none (the buffer is one datagram). */
size_t ah_udp_gro_size(const struct msghdr *m);

/* The length of the datagram starting at off in a received buffer of len
 * bytes whose datagrams are seg bytes long (0: one datagram): seg, except
 * for the last one, which holds what is left and may be shorter; 0 when off
 * is at or past len. Walk a buffer with
 *     off = 0; do { n = ah_udp_gro_next(len, seg, off); ...; off += n; } while (off < len);
 * which also visits an empty datagram once. */
size_t ah_udp_gro_next(size_t len, size_t seg, size_t off);

#endif
