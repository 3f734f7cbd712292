/* `anycast-probe --metrics`: a libmicrohttpd server on its own thread that
 * answers GET /metrics with the text the probe's loop last published (see
 * prom_http.h). Connections are bounded in number and time. */
#include "prom_http.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A scraper or two, and room for someone's curl: more connections wait. */
#define PROM_HTTP_CONNS_MAX 16
#define PROM_HTTP_TIMEOUT_S 10

struct prom_http {
    struct MHD_Daemon *d;
    pthread_mutex_t lock;
    char *text; /* NULL until the first publish */
    size_t len;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             char *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_len, void **state)
{
    struct prom_http *h = cls;
    (void)version;
    (void)upload;
    (void)state;
    static const char plain[] = "text/plain; charset=utf-8";
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, plain, strdup("GET /metrics only\n"), 18);
    if (*upload_len != 0)
        return MHD_NO;
    if (strcmp(url, "/metrics") != 0)
        return reply(c, MHD_HTTP_NOT_FOUND, plain, strdup("GET /metrics\n"), 13);
    pthread_mutex_lock(&h->lock);
    char *copy = h->text ? malloc(h->len ? h->len : 1) : NULL;
    size_t len = h->len;
    if (copy)
        memcpy(copy, h->text, len);
    bool ready = h->text != NULL;
    pthread_mutex_unlock(&h->lock);
    if (!ready)
        return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, plain, strdup("not probing yet\n"), 16);
    if (!copy)
        return MHD_NO;
    return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", copy, len);
}

int prom_http_start(struct prom_http **out, const struct ah_addr *addr, char *err, size_t errlen)
{
    struct prom_http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    pthread_mutex_init(&h->lock, NULL);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_INTERNAL_THREAD;
    if (addr->ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
                            (const struct sockaddr *)&addr->ss, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned)PROM_HTTP_CONNS_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)PROM_HTTP_TIMEOUT_S, MHD_OPTION_END);
    if (!h->d) {
        int e = errno ? errno : EADDRNOTAVAIL;
        snprintf(err, errlen, "cannot listen: %s", strerror(e));
        pthread_mutex_destroy(&h->lock);
        free(h);
        return -e;
    }
    *out = h;
    return 0;
}

void prom_http_publish(struct prom_http *h, char *text, size_t len)
{
    pthread_mutex_lock(&h->lock);
    char *old = h->text;
    h->text = text;
    h->len = len;
    pthread_mutex_unlock(&h->lock);
    free(old);
}

void prom_http_stop(struct prom_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    pthread_mutex_destroy(&h->lock);
    free(h->text);
    free(h);
}
