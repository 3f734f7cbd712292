/* The UDP engine's state, shared by its two halves: udp.c (sockets, the send
 * schedule, batched sends) and udp_rx.c (batched receives, the error queue,
 * matching answers and timestamps to probes, time-outs). */
#ifndef PROBE_UDP_INT_H
#define PROBE_UDP_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "ah/addr.h"
#include "probe.h"
#include "wire.h"

/* Datagrams per sendmmsg and per recvmmsg. */
#define UDP_MMSG 64

struct udp_slot {
    uint64_t seq;     /* 0: free */
    uint64_t real_ns; /* CLOCK_REALTIME just before the send call */
    uint64_t mono_ns; /* CLOCK_MONOTONIC just before the send call */
    uint64_t tx_ns;   /* the kernel's transmit stamp (CLOCK_REALTIME), 0 until read */
    uint32_t txkey;   /* the datagram's number on its socket (SOF_TIMESTAMPING_OPT_ID) */
    uint32_t txepoch; /* the flow's tx_epoch when txkey was given; 0: none */
};

struct udp_flow {
    uv_poll_t h;
    struct udp_engine *e;
    enum ah_service svc;
    uint16_t port; /* our source port: the "conn" column */
    struct ah_addr dst;
    uint16_t id_base;
    int fd;
    /* DNS flows: the query length, set as the socket's UDP_SEGMENT so one
     * sendmsg carries a whole batch (UDP GSO); 0 when not in use. */
    uint16_t gso_size;
    /* UDP GRO is on: a read may return several answers in one buffer. */
    bool gro;
    uint64_t last_seq;
    uint64_t oldest;
    uint32_t mask;
    struct udp_slot *ring;
    /* Transmit stamps name a datagram by its number on the socket: txseq
     * maps that number (modulo the ring) to the probe's seq. */
    uint32_t tx_next;
    uint32_t tx_epoch; /* from 1; a new one each time the count restarts */
    uint64_t *txseq;
};

struct udp_engine {
    struct probe_ctx *ctx;
    unsigned n;
    struct udp_flow *flows;
    int tfd;
    uv_poll_t tpoll;
    uv_timer_t sweep;
    uint64_t k, total;
    uint64_t min_gap;
    bool sending;
    bool kernel_ts; /* --timestamps kernel */
    unsigned open_handles;
    uint64_t stray, collisions;
    /* Answer buffers read, and the datagrams they held (more than the
     * buffers when UDP GRO coalesced them). */
    uint64_t rx_bufs, rx_dgrams;
    struct wire_dns_tpl tpl;
};

/* udp_rx.c */
void udp_rx_finalize(struct udp_flow *f, struct udp_slot *s, enum ah_result res, const char *node,
                     const char *detail, uint64_t rtt_ns);
/* Reads the error queue: ICMP errors end their probes, transmit stamps are
 * stored in their slots. */
void udp_rx_errqueue(struct udp_flow *f);
void udp_rx_on_poll(uv_poll_t *p, int status, int events);
/* Times out the flow's probes older than timeout (all of them if all). */
void udp_rx_sweep(struct udp_flow *f, uint64_t now, uint64_t timeout, bool all);

#endif
