/* The rules that group consecutive UDP answers to one peer into one UDP GSO
 * message (docs/anycast-responder.md, "UDP paths"), apart from the sockets so
 * that they can be tested on their own. */
#ifndef RESPONDER_UDP_GSO_H
#define RESPONDER_UDP_GSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* The kernel takes at most 64 segments a message (more on newer kernels),
 * the whole must fit an IP datagram, and each segment must fit the path MTU
 * unfragmented, which 1232 bytes does on any IPv6 path. */
#define UDP_GSO_MAX_SEGS  64
#define UDP_GSO_MAX_BYTES 60000
#define UDP_GSO_MAX_SEG   1232
/* Control buffer space one UDP_SEGMENT message needs. */
#define UDP_GSO_CTL_SPACE CMSG_SPACE(sizeof(uint16_t))

/* The number of answers at the start of iov[0..n), answer i going to the
 * address of dst[i] (msg_name, msg_namelen), that one message can carry: all
 * to the same address, each as long as the first except the last, which may
 * be shorter, at most UDP_GSO_MAX_SEGS answers and UDP_GSO_MAX_BYTES bytes.
 * 1 when the first answer is over max_seg; 0 only when n is 0. */
unsigned udp_gso_run(const struct iovec *iov, const struct msghdr *const *dst, unsigned n,
                     size_t max_seg);

/* Whether the kernel knows UDP_SEGMENT (Linux 4.18 or later): an older one
 * would send a grouped message as one datagram. */
bool udp_gso_supported(int fd);

/* Makes m carry a UDP_SEGMENT control message for segments of seg bytes,
 * written into ctl (UDP_GSO_CTL_SPACE bytes). */
void udp_gso_control(struct msghdr *m, uint8_t *ctl, size_t seg);

#endif
