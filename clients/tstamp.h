/* Kernel timestamps of UDP probes: turning SO_TIMESTAMPING on for a socket,
 * and reading the control messages of a received datagram (the receive
 * timestamp) and of an error-queue message (a transmit timestamp with its
 * per-socket key, or an ICMP error). The readers are pure functions on a
 * msghdr, so they are tested without sockets. */
#ifndef PROBE_TSTAMP_H
#define PROBE_TSTAMP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Room for every control message a probe socket receives with one datagram
 * or error-queue message (extended error, offender address, timestamps). */
#define TSTAMP_CMSG_SPACE 256

/* Turns on software receive timestamps and transmit timestamps taken when a
 * datagram enters the device layer (SCHED, before the queueing discipline),
 * each transmit timestamp carrying a key that counts the socket's datagrams
 * from 0 (OPT_ID) and no copy of the packet (OPT_TSONLY). reset first turns
 * the keys off, so the count restarts at 0. Returns 0 or a negative errno. */
int tstamp_enable(int fd, bool reset);

/* The kernel's receive time of a datagram (CLOCK_REALTIME ns) from its
 * SCM_TIMESTAMPING (software stamp) or SCM_TIMESTAMPNS control message.
 * Returns 0, or -ENOENT when the message carries no non-zero stamp. */
int tstamp_rx(const struct msghdr *m, uint64_t *ns);

enum tstamp_kind {
    TSTAMP_NONE = 0, /* nothing this prober uses */
    TSTAMP_TX,       /* a transmit timestamp: key and ns are set */
    TSTAMP_ICMP,     /* an ICMP error about a datagram we sent: err is set */
};

struct tstamp_err {
    enum tstamp_kind kind;
    uint32_t key; /* TSTAMP_TX: the datagram's number on its socket */
    uint64_t ns;  /* TSTAMP_TX: CLOCK_REALTIME ns */
    int err;      /* TSTAMP_ICMP: a positive errno */
};

/* Classifies one message read with MSG_ERRQUEUE. */
void tstamp_err_parse(const struct msghdr *m, struct tstamp_err *out);

#endif
