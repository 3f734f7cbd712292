/* The anycast-responder's configuration as parsed from the command line, and
 * the process-wide state every worker shares: the fault switches set through
 * the control socket and the count of open TCP clients. */
#ifndef RESPONDER_CONFIG_H
#define RESPONDER_CONFIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ah/addr.h"

#define RESPONDER_MAX_LISTEN   64
#define RESPONDER_MAX_WORKERS  64
#define RESPONDER_IDENTITY_MAX 256
/* --tcp-buffer-budget: per worker at least a few maximal DNS messages. */
#define RESPONDER_TCP_BUDGET_MIN (256u << 10)
#define RESPONDER_TCP_BUDGET_MAX (1ull << 40)

enum udp_io {
    UDP_IO_MMSG,         /* uv_poll + recvmmsg/sendmmsg, answers from a send-only socket */
    UDP_IO_MMSG_ONESOCK, /* the same, answers from the receiving socket */
    UDP_IO_UV,           /* uv_udp with UV_UDP_RECVMMSG, one sendmsg per answer */
};

struct responder_config {
    struct ah_addr listen[RESPONDER_MAX_LISTEN];
    size_t nlisten;
    uint16_t dns_port;
    uint16_t echo_port;
    char identity[RESPONDER_IDENTITY_MAX];
    bool dns;
    bool echo;
    const char *zone_path;
    unsigned workers;
    uint64_t tcp_idle_ms;
    uint64_t tcp_io_ms;         /* a begun TCP message must complete within this */
    uint64_t tcp_write_ms;      /* queued TCP answers must move within this */
    uint64_t tcp_buffer_budget; /* bytes of partial TCP input and unsent answers */
    unsigned max_tcp_clients;
    const char *control_path;
    unsigned control_mode;    /* socket file mode; 0 means 0600 */
    unsigned control_clients; /* clients at once; 0 means 16 */
    uint64_t control_idle_ms; /* idle (or unread) client lifetime; 0 means 10 s */
    enum udp_io udp_io;
    unsigned udp_batch; /* datagrams per recvmmsg/sendmmsg call */
    bool udp_gso;       /* consecutive answers to one peer as one UDP GSO message */
    bool udp_gro;       /* UDP GRO on the mmsg paths' receiving sockets */
};

/* Brown-out switches (docs/lab-file.md drill verbs pause/resume). Written by the
 * control thread, read by the workers on every request with relaxed loads:
 * a request racing a change may see the old value, which is harmless. */
struct fault {
    atomic_bool paused;
    atomic_uint delay_ms;
    atomic_uint drop_pct;
};

struct dns_answerer;
struct worker;

/* Shared, long-lived context. Everything but the atomics is immutable once
 * the workers run. */
struct responder {
    const struct responder_config *cfg;
    const struct dns_answerer *dns;
    struct fault fault;
    atomic_uint tcp_clients; /* open TCP connections over all workers */
    struct worker **workers;
    unsigned nworkers;
};

#endif
