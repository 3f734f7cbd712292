/* Expansion of the lab's drill into single timed steps, and the executor that
 * plays due steps through an action table. Pure apart from the actions it is
 * given, so the schedule is tested without namespaces. */
#include "drill.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ah/dur.h"

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
        n += lab->drill[i].verb == AH_VERB_FLAP ? 2 * (size_t)lab->drill[i].flap_count : 1;
    if (n == 0)
        return 0;
    struct drill_step *s = calloc(n, sizeof *s);
    if (!s)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < lab->ndrill; i++) {
        const struct lab_event *e = &lab->drill[i];
        if (e->verb != AH_VERB_FLAP) {
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
                                       .verb = AH_VERB_WITHDRAW,
                                       .node = e->node,
                                       .event = i,
                                       .flap_i = 2 * c + 1,
                                       .flap_n = 2 * e->flap_count};
            s[k + 1] = s[k];
            s[k + 1].at_ns = t + e->flap_down_ns;
            s[k + 1].verb = AH_VERB_ANNOUNCE;
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
    return ah_schema_verb_name(s->verb);
}

size_t drill_run_due(struct drill *d, uint64_t now_ns, const struct drill_ops *ops)
{
    size_t done = 0;
    while (d->next < d->n && d->steps[d->next].at_ns <= now_ns) {
        struct drill_step *s = &d->steps[d->next];
        uint64_t t = ops->now ? ops->now(ops->arg) : now_ns;
        s->late_ns = t > s->at_ns ? t - s->at_ns : 0;
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

bool drill_step_late(const struct drill_step *s, uint64_t tol_ns)
{
    return s->done && s->late_ns > tol_ns;
}

size_t drill_late_count(const struct drill *d, uint64_t tol_ns, size_t *worst)
{
    size_t n = 0, w = SIZE_MAX;
    for (size_t i = 0; i < d->n; i++) {
        if (!drill_step_late(&d->steps[i], tol_ns))
            continue;
        n++;
        if (w == SIZE_MAX || d->steps[i].late_ns > d->steps[w].late_ns)
            w = i;
    }
    if (worst)
        *worst = w;
    return n;
}

int drill_step_ref(const struct drill *d, const struct lab *lab, size_t i, char *buf, size_t len)
{
    if (i >= d->n || d->steps[i].node >= lab->nnodes)
        return -EINVAL;
    const struct drill_step *s = &d->steps[i];
    unsigned occ = 0;
    for (size_t j = 0; j <= i; j++)
        occ += d->steps[j].verb == s->verb && d->steps[j].node == s->node;
    int n = occ > 1
                ? snprintf(buf, len, "%s %s#%u", drill_step_event(s), lab->nodes[s->node].name, occ)
                : snprintf(buf, len, "%s %s", drill_step_event(s), lab->nodes[s->node].name);
    return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int drill_late_message(const struct drill *d, const struct lab *lab, uint64_t tol_ns, size_t nprocs,
                       long ncpus, char *buf, size_t len)
{
    size_t w;
    size_t n = drill_late_count(d, tol_ns, &w);
    char ref[LAB_NAME_MAX + 32], more[48] = "";
    if (n == 0)
        return -ENOENT;
    if (drill_step_ref(d, lab, w, ref, sizeof ref) < 0)
        snprintf(ref, sizeof ref, "step %zu", w + 1);
    if (n > 1)
        snprintf(more, sizeof more, " (%zu steps late in all)", n);
    const struct drill_step *s = &d->steps[w];
    char tol[32];
    if (ah_dur_format(tol_ns, tol, sizeof tol) < 0)
        snprintf(tol, sizeof tol, "%lluns", (unsigned long long)tol_ns);
    /* Waking up for a step takes tens of microseconds even on an idle
     * machine: a tolerance below a millisecond asks for more than that. */
    char cause[128];
    if (tol_ns < 1000000)
        snprintf(cause, sizeof cause,
                 "the tolerance is below what the scheduler keeps (about a millisecond)");
    else
        snprintf(cause, sizeof cause,
                 "the machine is overloaded (%zu processes on %ld cores): run fewer vantages, "
                 "nodes or probes per second",
                 nprocs, ncpus);
    int k = snprintf(buf, len,
                     "drill step %s at %.3fs started %.3f ms late, over the %s tolerance%s; "
                     "likely cause: %s",
                     ref, (double)s->at_ns / 1e9, (double)s->late_ns / 1e6, tol, more, cause);
    return k < 0 || (size_t)k >= len ? -ENOSPC : 0;
}
