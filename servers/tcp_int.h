/* Private to the responder's TCP files: the connection struct and the
 * names tcp.c (connections, reading, answering) and tcp_budget.c (the
 * buffer budget, the ordered lists, the sweep and eviction) share. */
#ifndef RESPONDER_TCP_INT_H
#define RESPONDER_TCP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp.h"

struct tcp_conn {
    uv_tcp_t h;
    struct conn_link link;  /* in w->conns, by last read */
    struct conn_link plink; /* in w->partial while rlen > 0 */
    struct conn_link wlink; /* in w->writing while answers are queued */
    struct worker *w;
    enum ah_service svc;
    uint8_t *rbuf; /* start of an incomplete message; NULL when rlen == 0 */
    uint32_t rcap;
    uint32_t rlen;
    uint32_t charged;    /* bytes of w->tcp_buffered that are ours */
    uint64_t last_ms;    /* last read */
    uint64_t partial_ms; /* first byte of the incomplete message */
    uint32_t delayed;    /* items in the delay queue that point here */
    uint32_t wcharged;   /* bytes of w->tcp_buffered in our queued writes */
    uint64_t wtotal;     /* answer bytes handed to the kernel or queued */
    uint64_t wmark;      /* tcp_write_progress() when last seen moving */
    uint64_t wstall_ms;  /* when the queue was last seen moving (or began) */
    uint64_t wcheck_ms;  /* when tcp_write_progress() was last compared */
    bool linked;         /* counted as open, in w->conns */
    bool plinked;        /* in w->partial */
    bool wlinked;        /* in w->writing */
    bool closing;        /* uv_close() called */
    bool closed;         /* close callback ran */
    bool draining;       /* close once queued output is written */
    bool backpressure;   /* reading stopped: too much queued output */
};

#define TCP_CONN_OF(l)  ((struct tcp_conn *)((char *)(l)-offsetof(struct tcp_conn, link)))
#define TCP_PCONN_OF(l) ((struct tcp_conn *)((char *)(l)-offsetof(struct tcp_conn, plink)))
#define TCP_WCONN_OF(l) ((struct tcp_conn *)((char *)(l)-offsetof(struct tcp_conn, wlink)))

static inline void tcp_list_unlink(struct conn_link *l)
{
    l->prev->next = l->next;
    l->next->prev = l->prev;
}

static inline void tcp_list_append(struct conn_link *head, struct conn_link *l)
{
    l->next = head;
    l->prev = head->prev;
    head->prev->next = l;
    head->prev = l;
}

/* tcp.c: closes a connection no caller up the stack is reading from,
 * freeing its read buffer now; with reset, by RST. */
void tcp_conn_close_other(struct tcp_conn *c, bool reset);

/* tcp_budget.c */
void tcp_partial_restart(struct tcp_conn *c, uint64_t now);
void tcp_conn_uncharge(struct tcp_conn *c);
size_t tcp_write_queue(const struct tcp_conn *c);
uint64_t tcp_write_progress(const struct tcp_conn *c);
void tcp_write_moved(struct tcp_conn *c, uint64_t now, uint64_t mark);
void tcp_write_unwatch(struct tcp_conn *c);
void tcp_write_done(struct tcp_conn *c);
int tcp_budget_room(struct tcp_conn *self, size_t n);
int tcp_budget_charge(struct tcp_conn *self, size_t n);
int tcp_evict(struct worker *w);

#endif
