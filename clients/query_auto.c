/* --query auto and rate-limit naming (see query_auto.h): the tally of one
 * burst per candidate query and the choice among them, and the rate-limit
 * pattern test on a group's counts. No I/O here: query_pick.c sends the
 * bursts. */
#include "query_auto.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const specs[QAUTO_NCAND] = {"hostname.bind", "nsid:./SOA", "id.server"};

const char *qauto_spec(size_t i)
{
    return i < QAUTO_NCAND ? specs[i] : "";
}

int qauto_init(struct qauto *a)
{
    memset(a, 0, sizeof(*a));
    for (size_t i = 0; i < QAUTO_NCAND; i++) {
        if (ah_ident_query_parse(specs[i], &a->cand[i]) < 0)
            return -EINVAL;
    }
    return 0;
}

const struct ah_ident_query *qauto_query(const struct qauto *a)
{
    return &a->cand[a->done ? a->chosen : a->cur];
}

void qauto_reply(struct qauto *a, const uint8_t *buf, size_t len)
{
    struct ah_ident_reply rep;

    if (a->done)
        return;
    /* A message that does not parse as the answer to this question is
     * someone else's: it says nothing about the candidate. */
    if (ah_ident_reply_parse(&a->cand[a->cur], buf, len, &rep) < 0)
        return;
    if (rep.has_identity)
        a->ident[a->cur]++;
    else if (rep.tc)
        a->tc[a->cur]++;
    else
        a->other[a->cur]++;
}

/* Why candidate i was set aside, appended to a->why. */
static void note_candidate(struct qauto *a, size_t i)
{
    size_t used = strlen(a->why);
    unsigned lost = a->sent[i] - a->ident[i] - a->tc[i] - a->other[i];

    snprintf(a->why + used, sizeof(a->why) - used, "%s%s %u/%u", used ? ", " : "", specs[i],
             a->ident[i], a->sent[i]);
    used = strlen(a->why);
    if (a->tc[i])
        snprintf(a->why + used, sizeof(a->why) - used, " %u tc", a->tc[i]);
    used = strlen(a->why);
    if (a->ident[i] > 0 && (lost > 0 || a->tc[i] > 0))
        snprintf(a->why + used, sizeof(a->why) - used, " (rate-limited)");
}

bool qauto_burst_done(struct qauto *a, unsigned sent)
{
    if (a->done)
        return true;
    a->sent[a->cur] = sent;
    /* Late or duplicated answers must not count for more than was sent. */
    if (a->ident[a->cur] + a->tc[a->cur] + a->other[a->cur] > sent) {
        a->ident[a->cur] = a->ident[a->cur] > sent ? sent : a->ident[a->cur];
        a->tc[a->cur] = 0;
        a->other[a->cur] = sent - a->ident[a->cur];
    }
    note_candidate(a, a->cur);
    if (sent > 0 && a->ident[a->cur] == sent) {
        a->chosen = a->cur;
        a->done = true;
        return true;
    }
    if (a->cur + 1 < QAUTO_NCAND) {
        a->cur++;
        return false;
    }
    a->chosen = 0;
    for (size_t i = 1; i < QAUTO_NCAND; i++) {
        if (a->ident[i] > a->ident[a->chosen])
            a->chosen = i;
    }
    a->done = true;
    return true;
}

bool qauto_ratelimited(const struct qauto_rl_input *in, double *per_s)
{
    uint64_t lost = in->timeouts + in->tc;

    *per_s = in->window_ns ? (double)in->ok * 1e9 / (double)in->window_ns : 0.0;
    if (in->probes < 20 || in->ok == 0 || in->ok + lost != in->probes)
        return false;
    return lost * 5 >= in->probes;
}
