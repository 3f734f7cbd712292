/* The "delay MS" brown-out: answers computed on arrival wait in a per-worker
 * FIFO driven by one uv timer, then are handed to their transport. The queue
 * is bounded in items and bytes so a flood under delay cannot exhaust memory;
 * over the bound the answer is dropped (and counted by the caller). */
#ifndef RESPONDER_DELAY_H
#define RESPONDER_DELAY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#define DELAY_MAX_ITEMS 65536
#define DELAY_MAX_BYTES (32u * 1024 * 1024)

struct delay_item;

/* Sends (or discards, when the owner is gone) one delayed answer. The queue
 * frees the item after the call. */
typedef void (*delay_send_fn)(struct delay_item *it);

struct delay_item {
    struct delay_item *next;
    uint64_t due_ms; /* uv_now() time at which to send */
    delay_send_fn send;
    void *owner; /* the UDP socket or TCP connection */
    int svc;     /* enum ah_service, for the owner's counters */
    unsigned n;  /* answers in data (TCP batches hold several) */
    struct sockaddr_storage peer;
    socklen_t peerlen;
    uint32_t len;
    uint8_t data[];
};

struct delay_queue {
    uv_timer_t timer;
    struct delay_item *head;
    struct delay_item *tail;
    size_t count;
    size_t bytes;
};

int delay_init(uv_loop_t *loop, struct delay_queue *q);

/* Queues a copy of data to be sent ms milliseconds from now (FIFO: an item
 * never overtakes an earlier one, so pipelined TCP answers keep their order
 * when the delay changes). Returns 0, -ENOBUFS over the bound or -ENOMEM. */
int delay_push(struct delay_queue *q, unsigned ms, delay_send_fn send, void *owner, int svc,
               unsigned n, const struct sockaddr *peer, socklen_t peerlen, const uint8_t *data,
               size_t len);

/* Sends everything queued now (shutdown: finish in-flight answers). */
void delay_flush(struct delay_queue *q);

/* Closes the timer; the queue must be empty (flush first). */
void delay_close(struct delay_queue *q);

#endif
