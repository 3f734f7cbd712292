/* Expansion of the lab's drill into single timed steps, and the executor that
 * plays due steps through an action table. Pure apart from the actions it is
 * given, so the schedule is tested without namespaces. */
#include "drill.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int step_cmp(const void *a, const void *b)
{
    const struct drill_step *x = a, *y = b;
    if (x->at_ns != y->at_ns)
        return x->at_ns < y->at_ns ? -1 : 1;
    if (x->event != y->event)
        return x->event < y->event ? -1 : 1;
    return x->flap_i < y->flap_i ? -1 : x->flap_i > y->flap_i;
}

int drill_expand(const struct lab *lab, struct drill *out)
{
    size_t n = 0;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < lab->ndrill; i++)
        n += lab->drill[i].verb == LAB_VERB_FLAP ? 2 * (size_t)lab->drill[i].flap_count : 1;
    if (n == 0)
        return 0;
    struct drill_step *s = calloc(n, sizeof *s);
    if (!s)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < lab->ndrill; i++) {
        const struct lab_event *e = &lab->drill[i];
        if (e->verb != LAB_VERB_FLAP) {
            s[k].at_ns = e->at_ns;
            s[k].verb = e->verb;
            s[k].node = e->node;
            s[k].event = i;
            k++;
            continue;
        }
        uint64_t period = e->flap_down_ns + e->flap_up_ns;
        for (unsigned c = 0; c < e->flap_count; c++) {
            uint64_t t = e->at_ns + (uint64_t)c * period;
            s[k] = (struct drill_step){.at_ns = t,
                                       .verb = LAB_VERB_WITHDRAW,
                                       .node = e->node,
                                       .event = i,
                                       .flap_i = 2 * c + 1,
                                       .flap_n = 2 * e->flap_count};
            s[k + 1] = s[k];
            s[k + 1].at_ns = t + e->flap_down_ns;
            s[k + 1].verb = LAB_VERB_ANNOUNCE;
            s[k + 1].flap_i = 2 * c + 2;
            k += 2;
        }
    }
    /* qsort is not stable, but (at, event, flap step) is a total order. */
    qsort(s, n, sizeof *s, step_cmp);
    out->steps = s;
    out->n = n;
    return 0;
}

void drill_free(struct drill *d)
{
    free(d->steps);
    memset(d, 0, sizeof *d);
}

const char *drill_step_event(const struct drill_step *s)
{
    return lab_verb_name(s->verb);
}

size_t drill_run_due(struct drill *d, uint64_t now_ns, const struct drill_ops *ops)
{
    size_t done = 0;
    while (d->next < d->n && d->steps[d->next].at_ns <= now_ns) {
        struct drill_step *s = &d->steps[d->next];
        s->late_ns = now_ns - s->at_ns;
        s->detail[0] = '\0';
        s->ack_ns = 0;
        s->rc = ops->action(ops->arg, s, &s->ack_ns, s->detail, sizeof s->detail);
        s->done = 1;
        d->next++;
        done++;
    }
    return done;
}

uint64_t drill_next_at(const struct drill *d)
{
    return d->next < d->n ? d->steps[d->next].at_ns : UINT64_MAX;
}
