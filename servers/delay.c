/* The delay queue behind the "delay MS" control command; see delay.h. */
#include "delay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void send_head(struct delay_queue *q)
{
    struct delay_item *it = q->head;
    q->head = it->next;
    if (q->head == NULL)
        q->tail = NULL;
    q->count--;
    q->bytes -= it->len;
    it->send(it);
    free(it);
}

static void on_timer(uv_timer_t *t)
{
    struct delay_queue *q = t->data;
    uint64_t now = uv_now(t->loop);
    while (q->head != NULL && q->head->due_ms <= now)
        send_head(q);
    if (q->head != NULL)
        uv_timer_start(&q->timer, on_timer, q->head->due_ms - now, 0);
}

int delay_init(uv_loop_t *loop, struct delay_queue *q)
{
    memset(q, 0, sizeof *q);
    q->timer.data = q;
    return uv_timer_init(loop, &q->timer);
}

int delay_push(struct delay_queue *q, unsigned ms, delay_send_fn send, void *owner, int svc,
               unsigned n, const struct sockaddr *peer, socklen_t peerlen, const uint8_t *data,
               size_t len)
{
    struct delay_item *it;
    if (q->count >= DELAY_MAX_ITEMS || q->bytes + len > DELAY_MAX_BYTES)
        return -ENOBUFS;
    it = malloc(sizeof *it + len);
    if (it == NULL)
        return -ENOMEM;
    it->next = NULL;
    it->due_ms = uv_now(q->timer.loop) + ms;
    it->send = send;
    it->owner = owner;
    it->svc = svc;
    it->n = n;
    it->peerlen = 0;
    if (peer != NULL && peerlen <= sizeof it->peer) {
        memcpy(&it->peer, peer, peerlen);
        it->peerlen = peerlen;
    }
    it->len = (uint32_t)len;
    memcpy(it->data, data, len);
    if (q->tail != NULL) {
        q->tail->next = it;
    } else {
        q->head = it;
        uv_timer_start(&q->timer, on_timer, ms, 0);
    }
    q->tail = it;
    q->count++;
    q->bytes += len;
    return 0;
}

void delay_flush(struct delay_queue *q)
{
    while (q->head != NULL)
        send_head(q);
    uv_timer_stop(&q->timer);
}

void delay_close(struct delay_queue *q)
{
    delay_flush(q);
    uv_close((uv_handle_t *)&q->timer, NULL);
}
