/* UDP DNS and echo for one worker socket; see udp.h. The batch path exists
 * because libuv sends one datagram per syscall: with recvmmsg/sendmmsg a
 * whole burst costs two syscalls, answering from a send-only twin socket
 * (udp_sock_add_sender) saves the kernel an epoll wake-up per datagram sent,
 * and consecutive answers to the same peer leave as one UDP GSO message, so
 * the kernel routes and builds them once. Neither path allocates per query;
 * only delayed answers are copied (delay.c). */
#include "udp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ah/log.h"
#include "ah/udp_gro.h"
#include "listen.h"
#include "udp_gso.h"

/* Receive slot size: larger DNS queries are truncated by the kernel and
 * dropped (MSG_TRUNC); echo requests beyond AH_ECHO_MAX_LINE are over-long.
 * With UDP GRO a slot holds a whole coalesced buffer (AH_UDP_GRO_BUF), of
 * which only the pages a read fills are ever touched. */
#define UDP_SLOT 4096
/* libuv's recvmmsg needs 64 KiB per datagram slot; 8 slots per call. */
#define UV_RECV_CHUNK (64 * 1024)
#define UV_RECV_SLOTS 8
/* Batches per poll wake-up before returning to the loop, for fairness. */
#define MMSG_ROUNDS 8

struct udp_sock {
    struct worker *w;
    enum ah_service svc;
    int fd;
    int sfd; /* where answers leave: a send-only socket, or fd */
    bool use_poll;
    union {
        uv_udp_t udp;
        uv_poll_t poll;
    } h;
    /* mmsg path: batch slots */
    unsigned batch;
    size_t rslot;  /* bytes per receive slot */
    bool gro;      /* UDP GRO is on: a slot may hold a run of queries */
    uint8_t *rctl; /* one UDP_GRO control buffer per receive slot */
    struct mmsghdr *rmsg;
    struct mmsghdr *smsg;
    struct iovec *riov;
    struct iovec *siov;
    struct sockaddr_storage *peers;
    uint8_t *rbuf;
    uint8_t *sbuf;
    const struct msghdr **dst; /* answer i goes to dst[i]'s peer */
    unsigned *nans;            /* answers carried by each outgoing message */
    uint8_t *ctl;              /* one UDP_SEGMENT control message per outgoing message */
    bool gso;                  /* group answers to one peer; off once the kernel cannot */
    size_t gso_seg;            /* largest answer that is grouped (the path MTU may be lower) */
    /* uv path: receive area */
    uint8_t *uvbuf;
};

static void free_sock(struct udp_sock *s)
{
    free(s->rmsg);
    free(s->smsg);
    free(s->riov);
    free(s->siov);
    free(s->peers);
    free(s->rbuf);
    free(s->sbuf);
    free(s->dst);
    free(s->nans);
    free(s->ctl);
    free(s->rctl);
    free(s->uvbuf);
    free(s);
}

static void on_closed(uv_handle_t *h)
{
    struct udp_sock *s = h->data;
    if (s->use_poll)
        close(s->fd);
    if (s->sfd != s->fd)
        close(s->sfd);
    free_sock(s);
}

/* Delayed answers (delay.c) leave by a plain sendto on the same socket. */
static void send_delayed(struct delay_item *it)
{
    struct udp_sock *s = it->owner;
    ssize_t n =
        sendto(s->fd, it->data, it->len, MSG_DONTWAIT, (struct sockaddr *)&it->peer, it->peerlen);
    stats_add(&s->w->stats, AH_TR_UDP, s->svc, n < 0 ? ST_DROPPED : ST_ANSWERS, 1);
}

/* Returns true when the answer was queued for later instead of sent now. */
static bool maybe_delay(struct udp_sock *s, const struct sockaddr *peer, socklen_t plen,
                        const uint8_t *ans, size_t alen)
{
    unsigned ms = worker_delay_ms(s->w);
    if (ms == 0)
        return false;
    if (delay_push(&s->w->delay, ms, send_delayed, s, s->svc, 1, peer, plen, ans, alen) < 0)
        stats_add(&s->w->stats, AH_TR_UDP, s->svc, ST_DROPPED, 1);
    return true;
}

/* ---- libuv path ---- */

static void uv_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct udp_sock *s = h->data;
    (void)suggested;
    /* One static area: answers are built and sent synchronously inside
     * the receive callback, so it is free again when libuv reads next. */
    *buf = uv_buf_init((char *)s->uvbuf, UV_RECV_CHUNK * UV_RECV_SLOTS);
}

static void uv_on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                       unsigned flags)
{
    struct udp_sock *s = h->data;
    struct worker *w = s->w;
    socklen_t plen;
    int alen;

    if (nread <= 0 || addr == NULL)
        return; /* nothing, an error we keep running through, or MMSG_FREE */
    if (flags & UV_UDP_PARTIAL) {
        stats_add(&w->stats, AH_TR_UDP, s->svc, ST_REQUESTS, 1);
        stats_add(&w->stats, AH_TR_UDP, s->svc, ST_DROPPED, 1);
        return;
    }
    alen = worker_answer(w, AH_TR_UDP, s->svc, (const uint8_t *)buf->base, (size_t)nread,
                         w->scratch, WORKER_UDP_ANSWER_MAX);
    if (alen <= 0)
        return;
    plen = addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (maybe_delay(s, addr, plen, w->scratch, (size_t)alen))
        return;
    uv_buf_t out = uv_buf_init((char *)w->scratch, (unsigned)alen);
    int rc = uv_udp_try_send(h, &out, 1, addr);
    stats_add(&w->stats, AH_TR_UDP, s->svc, rc < 0 ? ST_DROPPED : ST_ANSWERS, 1);
}

/* ---- recvmmsg/sendmmsg path ---- */

static void mmsg_prepare_recv(struct udp_sock *s, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct msghdr *m = &s->rmsg[i].msg_hdr;
        m->msg_name = &s->peers[i];
        m->msg_namelen = sizeof s->peers[i];
        m->msg_iov = &s->riov[i];
        m->msg_iovlen = 1;
        m->msg_control = s->gro ? s->rctl + (size_t)i * AH_UDP_GRO_CMSG_SPACE : NULL;
        m->msg_controllen = s->gro ? AH_UDP_GRO_CMSG_SPACE : 0;
        m->msg_flags = 0;
    }
}

/* Sends the answers of a GSO message the kernel refused one by one. A
 * segment over the route's MTU (EINVAL, EMSGSIZE) stops the grouping of
 * answers that long; a device that cannot segment (EIO: no checksum
 * offload, IPsec) stops grouping on this socket; other errors belong to the
 * destination, and its datagrams fail alone. */
static void mmsg_send_unsegmented(struct udp_sock *s, const struct msghdr *m, int err)
{
    size_t seg = m->msg_iov[0].iov_len;
    if ((err == EINVAL || err == EMSGSIZE) && seg > 1) {
        s->gso_seg = seg - 1;
        ah_log_debug("udp: UDP GSO refused (%s): answers of %zu bytes or more leave one by one",
                     strerror(err), seg);
    } else if (err == EIO || err == EOPNOTSUPP || err == ENOPROTOOPT) {
        s->gso = false;
        ah_log_info("udp: UDP GSO refused (%s): answers leave one by one on this socket",
                    strerror(err));
    }
    for (size_t i = 0; i < m->msg_iovlen; i++) {
        ssize_t r = sendto(s->sfd, m->msg_iov[i].iov_base, m->msg_iov[i].iov_len, MSG_DONTWAIT,
                           m->msg_name, m->msg_namelen);
        stats_add(&s->w->stats, AH_TR_UDP, s->svc, r < 0 ? ST_DROPPED : ST_ANSWERS, 1);
    }
}

/* Sends smsg[0..n), message i carrying nans[i] answers. Datagrams the
 * kernel refuses (full send buffer, a bad destination) are counted as
 * dropped. */
static void mmsg_send(struct udp_sock *s, unsigned n)
{
    unsigned off = 0;
    while (off < n) {
        int r = sendmmsg(s->sfd, s->smsg + off, n - off, MSG_DONTWAIT);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                if (s->smsg[off].msg_hdr.msg_controllen > 0) {
                    mmsg_send_unsegmented(s, &s->smsg[off].msg_hdr, errno);
                } else {
                    /* One bad destination fails the call: skip it, go on. */
                    stats_add(&s->w->stats, AH_TR_UDP, s->svc, ST_DROPPED, 1);
                }
                off++;
                continue;
            }
            for (; off < n; off++)
                stats_add(&s->w->stats, AH_TR_UDP, s->svc, ST_DROPPED, s->nans[off]);
            return;
        }
        for (unsigned end = off + (unsigned)r; off < end; off++)
            stats_add(&s->w->stats, AH_TR_UDP, s->svc, ST_ANSWERS, s->nans[off]);
    }
}

/* Turns the answers in siov[0..na), answer i going to the peer of dst[i],
 * into outgoing messages and returns their count. A run of answers to one
 * peer (udp_gso_run) becomes one message with a UDP_SEGMENT control message:
 * the kernel then sends the same datagrams for the cost of about one. */
static unsigned mmsg_group(struct udp_sock *s, unsigned na)
{
    unsigned ns = 0;
    for (unsigned a = 0; a < na;) {
        unsigned k = s->gso ? udp_gso_run(s->siov + a, s->dst + a, na - a, s->gso_seg) : 1;
        struct msghdr *o = &s->smsg[ns].msg_hdr;
        o->msg_name = s->dst[a]->msg_name;
        o->msg_namelen = s->dst[a]->msg_namelen;
        o->msg_iov = &s->siov[a];
        o->msg_iovlen = k;
        o->msg_control = NULL;
        o->msg_controllen = 0;
        o->msg_flags = 0;
        if (k > 1)
            udp_gso_control(o, s->ctl + (size_t)ns * UDP_GSO_CTL_SPACE, s->siov[a].iov_len);
        s->nans[ns++] = k;
        a += k;
    }
    return ns;
}

/* Answers one request of len bytes from the peer of m into answer slot na
 * (siov, dst). Returns whether an answer is to be sent now. */
static bool mmsg_answer_one(struct udp_sock *s, struct msghdr *m, const uint8_t *req, size_t len,
                            unsigned na)
{
    uint8_t *ans = s->sbuf + (size_t)na * WORKER_UDP_ANSWER_MAX;
    int alen = worker_answer(s->w, AH_TR_UDP, s->svc, req, len, ans, WORKER_UDP_ANSWER_MAX);

    if (alen <= 0 || maybe_delay(s, m->msg_name, m->msg_namelen, ans, (size_t)alen))
        return false;
    s->siov[na].iov_base = ans;
    s->siov[na].iov_len = (size_t)alen;
    s->dst[na] = m;
    return true;
}

/* Answers rmsg[0..n) and sends the answers, grouped, each time batch of
 * them are ready and at the end. A buffer UDP GRO coalesced holds several
 * queries of the control message's size (the last may be shorter), each
 * answered as if it had come alone. */
static void mmsg_answer(struct udp_sock *s, unsigned n)
{
    struct worker *w = s->w;
    unsigned na = 0;
    for (unsigned i = 0; i < n; i++) {
        struct msghdr *m = &s->rmsg[i].msg_hdr;
        const uint8_t *buf = s->rbuf + (size_t)i * s->rslot;
        size_t len = s->rmsg[i].msg_len, seg = s->gro ? ah_udp_gro_size(m) : 0, off = 0;
        /* A cut control message could hide the segment size: the buffer
         * cannot be split and is dropped like a cut datagram. */
        if (m->msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
            stats_add(&w->stats, AH_TR_UDP, s->svc, ST_REQUESTS, 1);
            stats_add(&w->stats, AH_TR_UDP, s->svc, ST_DROPPED, 1);
            continue;
        }
        if (seg > 0 && seg < len)
            stats_add(&w->stats, AH_TR_UDP, s->svc, ST_COALESCED, (int64_t)((len + seg - 1) / seg));
        do {
            size_t ql = ah_udp_gro_next(len, seg, off);
            if (mmsg_answer_one(s, m, buf + off, ql, na) && ++na == s->batch) {
                mmsg_send(s, mmsg_group(s, na));
                na = 0;
            }
            off += ql;
        } while (off < len);
    }
    if (na > 0)
        mmsg_send(s, mmsg_group(s, na));
}

static void mmsg_on_poll(uv_poll_t *h, int status, int events)
{
    struct udp_sock *s = h->data;
    (void)events;

    if (status < 0)
        return;
    for (int round = 0; round < MMSG_ROUNDS; round++) {
        int n;
        mmsg_prepare_recv(s, s->batch);
        n = recvmmsg(s->fd, s->rmsg, s->batch, MSG_DONTWAIT, NULL);
        if (n <= 0)
            break; /* EAGAIN, or an error the next wake-up retries */
        mmsg_answer(s, (unsigned)n);
        if ((unsigned)n < s->batch)
            break;
    }
}

static int mmsg_alloc(struct udp_sock *s, unsigned batch)
{
    /* A kernel without UDP_GRO (before 5.0) refuses it: queries then come
     * one by one, as with --no-udp-gro. */
    s->gro = s->w->r->cfg->udp_gro && ah_udp_gro_enable(s->fd) == 0;
    s->rslot = s->gro ? AH_UDP_GRO_BUF : UDP_SLOT;
    s->batch = batch;
    s->rmsg = calloc(batch, sizeof *s->rmsg);
    s->smsg = calloc(batch, sizeof *s->smsg);
    s->riov = calloc(batch, sizeof *s->riov);
    s->siov = calloc(batch, sizeof *s->siov);
    s->peers = calloc(batch, sizeof *s->peers);
    s->rbuf = malloc((size_t)batch * s->rslot);
    s->rctl = s->gro ? calloc(batch, AH_UDP_GRO_CMSG_SPACE) : NULL;
    s->sbuf = malloc((size_t)batch * WORKER_UDP_ANSWER_MAX);
    s->dst = calloc(batch, sizeof *s->dst);
    s->nans = calloc(batch, sizeof *s->nans);
    s->ctl = calloc(batch, UDP_GSO_CTL_SPACE);
    if (!s->rmsg || !s->smsg || !s->riov || !s->siov || !s->peers || !s->rbuf || !s->sbuf ||
        !s->dst || !s->nans || !s->ctl || (s->gro && !s->rctl))
        return -ENOMEM;
    s->gso = s->w->r->cfg->udp_gso && udp_gso_supported(s->fd);
    s->gso_seg = UDP_GSO_MAX_SEG;
    for (unsigned i = 0; i < batch; i++) {
        s->riov[i].iov_base = s->rbuf + (size_t)i * s->rslot;
        s->riov[i].iov_len = s->rslot;
    }
    return 0;
}

int udp_sock_open(struct worker *w, int fd, enum ah_service svc, struct udp_sock **out)
{
    const struct responder_config *cfg = w->r->cfg;
    struct udp_sock *s = calloc(1, sizeof *s);
    int rc;

    if (s == NULL) {
        close(fd);
        return -ENOMEM;
    }
    s->w = w;
    s->svc = svc;
    s->fd = fd;
    s->sfd = fd;
    s->use_poll = cfg->udp_io != UDP_IO_UV;
    if (s->use_poll) {
        rc = mmsg_alloc(s, cfg->udp_batch);
        if (rc == 0)
            rc = uv_poll_init_socket(&w->loop, &s->h.poll, fd);
        if (rc < 0)
            goto fail;
        s->h.poll.data = s;
        rc = uv_poll_start(&s->h.poll, UV_READABLE, mmsg_on_poll);
    } else {
        s->uvbuf = malloc(UV_RECV_CHUNK * UV_RECV_SLOTS);
        rc = s->uvbuf ? uv_udp_init_ex(&w->loop, &s->h.udp, AF_UNSPEC | UV_UDP_RECVMMSG) : -ENOMEM;
        if (rc < 0)
            goto fail;
        s->h.udp.data = s;
        rc = uv_udp_open(&s->h.udp, fd);
        if (rc < 0) {
            /* The handle exists but does not own fd yet. */
            close(fd);
            s->use_poll = false;
            uv_close((uv_handle_t *)&s->h.udp, on_closed);
            return rc;
        }
        rc = uv_udp_recv_start(&s->h.udp, uv_alloc, uv_on_recv);
    }
    if (rc < 0) {
        udp_sock_close(s);
        return rc;
    }
    *out = s;
    return 0;

fail:
    close(fd);
    free_sock(s);
    return rc;
}

int udp_sock_add_sender(struct udp_sock *s, bool steer_first, unsigned nworkers, char *err,
                        size_t errlen)
{
    struct ah_addr a;
    int rc;

    if (!s->use_poll || s->w->r->cfg->udp_io != UDP_IO_MMSG)
        return 0;
    memset(&a, 0, sizeof a);
    a.len = sizeof a.ss;
    if (getsockname(s->fd, (struct sockaddr *)&a.ss, &a.len) < 0)
        return -errno;
    if (steer_first) {
        rc = listen_steer_udp(s->fd, a.ss.ss_family, nworkers);
        if (rc < 0) {
            snprintf(err, errlen, "SO_ATTACH_REUSEPORT_CBPF: %s", strerror(-rc));
            return rc;
        }
    }
    return listen_open_udp_sender(&a, ah_addr_port(&a), &s->sfd, err, errlen);
}

void udp_sock_close(struct udp_sock *s)
{
    uv_handle_t *h = (uv_handle_t *)&s->h;
    if (uv_is_closing(h))
        return;
    if (s->use_poll)
        uv_poll_stop(&s->h.poll);
    else
        uv_udp_recv_stop(&s->h.udp);
    uv_close(h, on_closed);
}
