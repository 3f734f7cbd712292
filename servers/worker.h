/* One responder worker: a thread running its own uv loop with its own
 * SO_REUSEPORT sockets for every listen address and service, so N workers use
 * N cores without sharing anything on the hot path but read-only state. */
#ifndef RESPONDER_WORKER_H
#define RESPONDER_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "delay.h"
#include "stats.h"

/* Largest UDP answer we build. Clients advertising more get at most this,
 * truncated with TC=1 by the DNS layer. */
#define WORKER_UDP_ANSWER_MAX 4096
/* Output batch for TCP: several framed answers go out in one write. */
#define WORKER_TCP_OUT (256 * 1024)
/* TCP input: one read of up to one maximal framed DNS message. */
#define WORKER_TCP_IN (2 + 65535)

struct udp_sock;
struct tcp_listener;

/* Intrusive doubly linked list node of TCP connections: the worker's
 * connections in order of their last read (for the idle sweep, eviction and
 * shutdown), those holding a partial message in order of its start (for
 * the io timeout and the buffer budget) and those with queued answers in
 * order of when these last moved (for the write timeout and the budget). */
struct conn_link {
    struct conn_link *prev;
    struct conn_link *next;
};

struct worker {
    struct responder *r;
    unsigned id;
    uv_loop_t loop;
    uv_async_t stop_async;
    uv_timer_t sweep_timer;
    uv_timer_t drain_timer; /* shutdown deadline */
    struct delay_queue delay;
    uv_thread_t thread;
    bool thread_started;
    bool stopping;
    unsigned drop_acc; /* drop PERCENT accumulator: deterministic share */
    struct stats stats;
    struct udp_sock *udp[RESPONDER_MAX_LISTEN * AH_SVC_COUNT];
    size_t nudp;
    struct tcp_listener *tcp[RESPONDER_MAX_LISTEN * AH_SVC_COUNT];
    size_t ntcp;
    struct conn_link conns; /* sentinel; least recently read first */
    size_t nconns;
    struct conn_link partial; /* sentinel; oldest partial message first */
    struct conn_link writing; /* sentinel; queue of answers seen moving longest ago first */
    size_t tcp_buffered;      /* bytes of connection read buffers and queued answers */
    size_t tcp_budget;        /* this worker's share of --tcp-buffer-budget */
    uint8_t *tcp_in;          /* TCP reads land here while nothing is buffered */
    uint8_t *scratch;         /* one UDP answer (uv path) or one TCP batch */
    int exit_rc;              /* 0, or the uv_loop_close() error */
};

/* Creates worker id with its loop and sockets (in the calling thread; the
 * loop runs later in the worker's own thread). On failure writes a message
 * naming the object to err and returns a negative errno. */
int worker_create(struct responder *r, unsigned id, struct worker **out, char *err, size_t errlen);
/* mmsg path: gives every UDP socket a send-only twin (udp.h). Call for
 * workers 0..N-1 in order after all are created: worker 0 steers each
 * SO_REUSEPORT group to the receiving sockets before any twin joins it. Stop
 * at the first error; sockets without a twin answer from their own. */
int worker_add_senders(struct worker *w, char *err, size_t errlen);
int worker_start(struct worker *w);
/* Asks the worker to stop (thread-safe): stop reading, send what is queued,
 * close every handle. */
void worker_stop(struct worker *w);
/* Joins the thread (if started) and frees the worker. Returns its exit_rc. */
int worker_destroy(struct worker *w);

/* True when this request must be silently discarded: paused, or its share
 * of drop PERCENT (a deterministic accumulator, so "drop 25" drops exactly
 * every fourth request). */
static inline bool worker_discard(struct worker *w)
{
    struct fault *f = &w->r->fault;
    unsigned pct;
    if (atomic_load_explicit(&f->paused, memory_order_relaxed))
        return true;
    pct = atomic_load_explicit(&f->drop_pct, memory_order_relaxed);
    if (pct == 0)
        return false;
    w->drop_acc += pct;
    if (w->drop_acc >= 100) {
        w->drop_acc -= 100;
        return true;
    }
    return false;
}

static inline unsigned worker_delay_ms(const struct worker *w)
{
    return atomic_load_explicit(&w->r->fault.delay_ms, memory_order_relaxed);
}

/* Runs one request (a DNS message, or one echo line / datagram) through
 * the fault gate and the service. Counts requests, refused, formerr,
 * overlong and dropped; the caller counts answers once sent. Returns the
 * answer length, or 0 for silence. */
int worker_answer(struct worker *w, enum ah_transport t, enum ah_service svc, const uint8_t *req,
                  size_t len, uint8_t *out, size_t cap);

#endif
