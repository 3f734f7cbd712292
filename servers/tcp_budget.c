/* The limits on slow clients for the responder's TCP (see tcp.c): the
 * ordered lists of a worker's connections (by last read, by start of the
 * partial message, by last movement of queued answers), the buffer budget
 * and which connection goes over it, eviction over --max-tcp-clients, and
 * the sweep for the idle, io and write timeouts.
 *
 * Answers a client does not read are bounded the same way as partial input
 * (as Knot applies its io timeout to sending): the buffers of queued
 * answers count in --tcp-buffer-budget with the partial input, and a
 * connection whose queued answers make no progress for --tcp-write-timeout
 * is reset. Progress is a byte the kernel took from the queue or the client
 * acknowledged; it is checked lazily, at most once per half of the timeout
 * per connection, so a stalled connection goes 1 to 1.5 timeouts after its
 * last progress, and a slow reader that moves at least once per timeout is
 * never cut. */
#include "tcp_int.h"

#include <errno.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>

/* Eviction looks this far from the least recently read connection for one
 * with no answer in flight before it takes the least recently read. */
#define TCP_EVICT_SCAN 32

/* c's incomplete message starts now: it goes to the end of the partial
 * list, which stays in order of partial_ms. Not while we do not read (too
 * many unsent answers): then the buffer may hold complete messages we put
 * off, its clock does not run, and the write side decides c's fate. */
void tcp_partial_restart(struct tcp_conn *c, uint64_t now)
{
    if (c->plinked) {
        tcp_list_unlink(&c->plink);
        c->plinked = false;
    }
    if (c->backpressure)
        return;
    tcp_list_append(&c->w->partial, &c->plink);
    c->plinked = true;
    c->partial_ms = now;
}

/* Takes c's read buffer off the budget and the partial list. The memory
 * itself is freed by the caller or, once closing, by conn_free (tcp.c): a caller up
 * the stack may still be reading the buffer. */
void tcp_conn_uncharge(struct tcp_conn *c)
{
    c->w->tcp_buffered -= c->charged;
    c->charged = 0;
    if (c->plinked) {
        tcp_list_unlink(&c->plink);
        c->plinked = false;
    }
}

size_t tcp_write_queue(const struct tcp_conn *c)
{
    return uv_stream_get_write_queue_size((const uv_stream_t *)&c->h);
}

/* A count that grows whenever c's answers move: bytes the kernel took from
 * our queue plus bytes the client acknowledged (taken minus SIOCOUTQ, the
 * kernel's unsent and unacknowledged bytes). A client whose receive window
 * stays shut moves neither. */
uint64_t tcp_write_progress(const struct tcp_conn *c)
{
    uint64_t taken = c->wtotal - tcp_write_queue(c);
    uv_os_fd_t fd;
    int outq;
    if (uv_fileno((const uv_handle_t *)&c->h, &fd) == 0 && ioctl(fd, SIOCOUTQ, &outq) == 0 &&
        outq >= 0 && (uint64_t)outq <= taken)
        return taken + (taken - (uint64_t)outq);
    return taken;
}

/* c's queue was seen moving now (or just began): it goes to the end of the
 * writing list, which stays in order of wstall_ms. */
void tcp_write_moved(struct tcp_conn *c, uint64_t now, uint64_t mark)
{
    if (c->wlinked)
        tcp_list_unlink(&c->wlink);
    tcp_list_append(&c->w->writing, &c->wlink);
    c->wlinked = true;
    c->wmark = mark;
    c->wstall_ms = now;
    c->wcheck_ms = now;
}

/* Compares c's progress with the last look: true (and c moves to the end
 * of the list) when its answers moved since. */
static bool write_check(struct tcp_conn *c, uint64_t now)
{
    uint64_t mark = tcp_write_progress(c);
    c->wcheck_ms = now;
    if (mark == c->wmark)
        return false;
    tcp_write_moved(c, now, mark);
    return true;
}

/* Takes c off the writing list. Its charge goes as each request is freed
 * (conn_on_write in tcp.c), also when closing: libuv frees a closed connection's
 * requests only at the end of the loop iteration, and until then their
 * memory must keep others out of the budget. */
void tcp_write_unwatch(struct tcp_conn *c)
{
    if (c->wlinked) {
        tcp_list_unlink(&c->wlink);
        c->wlinked = false;
    }
}

/* The client has read every queued answer: that counts as activity for the
 * idle timeout, which skipped c meanwhile. */
void tcp_write_done(struct tcp_conn *c)
{
    tcp_write_unwatch(c);
    c->last_ms = uv_now(&c->w->loop);
    if (c->linked) {
        tcp_list_unlink(&c->link);
        tcp_list_append(&c->w->conns, &c->link);
    }
}

/* The connection to close first over the budget: of the oldest incomplete
 * message and the queue of answers that has stood still longest, if that
 * is already --tcp-write-timeout (the sweep would close it soon), the
 * older. That queue is looked at again first; if it moved, it goes to the
 * end of its list and the next is taken. NULL when there is none: then the
 * connection asking for memory goes. Queues are not closed sooner because a
 * client that reads slowly moves its queue only in steps: its TCP opens the
 * window once a good part of its receive buffer is free, and drops and
 * retransmission back-off when that buffer overflows add more (a client
 * reading 10 KiB/s with default buffers: nothing moved for 5 to 11 s at a
 * time). Closing the oldest queues would let a flood of fresh never-reading
 * connections push out such a client; this way the flood closes itself. */
static struct tcp_conn *budget_victim(struct worker *w, uint64_t now)
{
    uint64_t limit = w->r->cfg->tcp_write_ms;
    for (;;) {
        struct tcp_conn *p = w->partial.next == &w->partial ? NULL : TCP_PCONN_OF(w->partial.next);
        struct tcp_conn *q = w->writing.next == &w->writing ? NULL : TCP_WCONN_OF(w->writing.next);
        if (q == NULL || now - q->wstall_ms < limit || (p != NULL && p->partial_ms < q->wstall_ms))
            return p;
        if (!write_check(q, now))
            return q;
    }
}

/* Makes room for n more bytes in self's worker's budget, first closing the
 * connections budget_victim() names. -ENOBUFS when there is none or self is
 * the one to go. */
int tcp_budget_room(struct tcp_conn *self, size_t n)
{
    struct worker *w = self->w;
    uint64_t now = uv_now(&w->loop);
    while (w->tcp_buffered + n > w->tcp_budget) {
        struct tcp_conn *old = budget_victim(w, now);
        if (old == NULL || old == self)
            return -ENOBUFS;
        stats_add(&w->stats, AH_TR_TCP, old->svc, ST_TCP_OVER_BUDGET, 1);
        tcp_conn_close_other(old, true);
    }
    return 0;
}

/* Charges n more bytes of read buffer to self, within the budget. */
int tcp_budget_charge(struct tcp_conn *self, size_t n)
{
    int rc = tcp_budget_room(self, n);
    if (rc < 0)
        return rc;
    self->w->tcp_buffered += n;
    self->charged += (uint32_t)n;
    return 0;
}

/* Closes a connection to make room for a new one over --max-tcp-clients:
 * the least recently read of this worker with no answer in flight among the
 * first TCP_EVICT_SCAN, else the least recently read. -ENOENT when the
 * worker has none (the other workers' connections are theirs to close). */
int tcp_evict(struct worker *w)
{
    struct conn_link *p = w->conns.next;
    struct tcp_conn *victim = NULL;
    if (p == &w->conns)
        return -ENOENT;
    for (int i = 0; i < TCP_EVICT_SCAN && p != &w->conns && victim == NULL; i++, p = p->next) {
        struct tcp_conn *c = TCP_CONN_OF(p);
        if (c->delayed == 0 && tcp_write_queue(c) == 0)
            victim = c;
    }
    if (victim == NULL)
        victim = TCP_CONN_OF(w->conns.next);
    stats_add(&w->stats, AH_TR_TCP, victim->svc, ST_TCP_EVICTED, 1);
    tcp_conn_close_other(victim, victim->wlinked);
    return 0;
}

void tcp_sweep(struct worker *w)
{
    uint64_t now = uv_now(&w->loop);
    const struct responder_config *cfg = w->r->cfg;
    struct conn_link *p;

    /* Messages begun over --tcp-io-timeout ago; the list is in order of
     * their start, so the walk stops at the first younger one. */
    p = w->partial.next;
    while (p != &w->partial) {
        struct tcp_conn *c = TCP_PCONN_OF(p);
        if (now - c->partial_ms < cfg->tcp_io_ms)
            break;
        p = p->next; /* tcp_conn_close_other unlinks c */
        /* Not reading (queued output, draining) is our doing, not the
         * client's. */
        if (c->backpressure || c->draining)
            continue;
        stats_add(&w->stats, AH_TR_TCP, c->svc, ST_TCP_IO_TIMEOUT, 1);
        tcp_conn_close_other(c, false);
    }
    /* Queues of answers not seen moving for half the write timeout are
     * looked at (at most once per half); one that did not move since it
     * was last seen moving a whole timeout ago is reset. */
    p = w->writing.next;
    while (p != &w->writing) {
        struct tcp_conn *c = TCP_WCONN_OF(p);
        uint64_t half = cfg->tcp_write_ms / 2;
        if (now - c->wstall_ms < half)
            break;
        p = p->next; /* write_check and tcp_conn_close_other move or unlink c */
        if (now - c->wcheck_ms < half || write_check(c, now))
            continue;
        if (now - c->wstall_ms < cfg->tcp_write_ms)
            continue;
        stats_add(&w->stats, AH_TR_TCP, c->svc, ST_TCP_WRITE_TIMEOUT, 1);
        tcp_conn_close_other(c, true);
    }
    /* Connections read from longest ago first, the same way. */
    p = w->conns.next;
    while (p != &w->conns) {
        struct tcp_conn *c = TCP_CONN_OF(p);
        if (now - c->last_ms < cfg->tcp_idle_ms)
            break;
        p = p->next;
        /* Queued answers are the write timeout's to judge: while they
         * wait we do not read, which is not the client's idling. */
        if (c->delayed == 0 && !c->wlinked)
            tcp_conn_close_other(c, false);
    }
}
