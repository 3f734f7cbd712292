/* The expectation language (docs/expect.md): a tokenizer that keeps word
 * offsets so that errors point at the word, the parser, the check of names
 * against a lab, and the evaluation against summary rows. */
#include "expect.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ah/dur.h"
#include "drill.h"

#define MAX_TOKENS 16

struct tok {
    char s[EXPECT_WORD_MAX];
    unsigned off;
};

static const char *const op_names[] = {"<", "<=", ">", ">=", "==", "!="};

const char *expect_op_name(enum expect_op op)
{
    return (unsigned)op < 6 ? op_names[op] : "?";
}

static void copy_word(char *dst, const char *src)
{
    size_t n = strnlen(src, EXPECT_WORD_MAX - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static bool is_metric(const char *s)
{
    for (size_t i = 0; i < AH_METRICS_NFIELDS; i++)
        if (strcmp(s, ah_metrics_fields[i]) == 0)
            return true;
    return false;
}

static int fail(char *err, size_t errlen, unsigned *erroff, unsigned off, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(char *err, size_t errlen, unsigned *erroff, unsigned off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    *erroff = off;
    return -EINVAL;
}

/* Parses "run" or "VERB NODE[#N]" starting at token i; advances *i. */
static int parse_ref(const struct tok *t, size_t n, size_t *i, struct expect_ref *ref, char *err,
                     size_t errlen, unsigned *erroff, unsigned endoff)
{
    memset(ref, 0, sizeof *ref);
    if (*i >= n)
        return fail(err, errlen, erroff, endoff, "expected an event (`run` or VERB NODE)");
    ref->off = t[*i].off;
    if (strcmp(t[*i].s, ah_schema_event_name(AH_EVENT_RUN)) == 0) {
        ref->run = true;
        (*i)++;
        return 0;
    }
    if (*i + 1 >= n)
        return fail(err, errlen, erroff, t[*i].off,
                    "event `%s` needs a node: VERB NODE (e.g. `withdraw ams`)", t[*i].s);
    copy_word(ref->verb, t[*i].s);
    const char *node = t[*i + 1].s;
    const char *hash = strchr(node, '#');
    ref->occ = 1;
    if (hash) {
        char *end;
        unsigned long occ = strtoul(hash + 1, &end, 10);
        if (hash[1] < '0' || hash[1] > '9' || *end || occ == 0 || occ > 100000)
            return fail(err, errlen, erroff, t[*i + 1].off + (unsigned)(hash - node),
                        "bad occurrence `%s`: write NODE#N with N >= 1", hash);
        ref->occ = (unsigned)occ;
        snprintf(ref->node, sizeof ref->node, "%.*s", (int)(hash - node), node);
    } else {
        snprintf(ref->node, sizeof ref->node, "%s", node);
    }
    if (!ref->node[0])
        return fail(err, errlen, erroff, t[*i + 1].off, "missing node before `#`");
    *i += 2;
    return 0;
}

static int parse_op(const char *s, enum expect_op *op)
{
    for (unsigned i = 0; i < 6; i++) {
        if (strcmp(s, op_names[i]) == 0) {
            *op = (enum expect_op)i;
            return 0;
        }
    }
    if (strcmp(s, "=") == 0) {
        *op = EXPECT_EQ;
        return 0;
    }
    return -EINVAL;
}

/* An expectation being parsed: its words, the next one, and where errors
 * go. */
struct ep {
    struct tok t[MAX_TOKENS];
    size_t n, i;
    unsigned endoff; /* the end of the text, where "missing ..." points */
    char *err;
    size_t errlen;
    unsigned *erroff;
};

/* Splits text into words at blanks, keeping each word's offset. */
static int tokenize(struct ep *p, const char *text)
{
    const char *s = text;
    while (*s) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        size_t len = strcspn(s, " \t");
        unsigned off = (unsigned)(s - text);
        if (p->n == MAX_TOKENS)
            return fail(p->err, p->errlen, p->erroff, off, "too many words");
        if (len >= EXPECT_WORD_MAX)
            return fail(p->err, p->errlen, p->erroff, off, "word too long");
        memcpy(p->t[p->n].s, s, len);
        p->t[p->n].s[len] = '\0';
        p->t[p->n].off = off;
        p->n++;
        s += len;
    }
    p->endoff = (unsigned)strlen(text);
    return 0;
}

/* The scope: VANTAGE TRANSPORT [SERVICE] [FAMILY]. */
static int parse_scope(struct ep *p, struct expect *out)
{
    const struct tok *t = p->t;
    copy_word(out->vantage, t[p->i].s);
    out->off_vantage = t[p->i++].off;
    enum ah_transport tr;
    out->off_transport = t[p->i].off;
    if (strcmp(t[p->i].s, "*") == 0)
        out->transport = -1;
    else if (ah_transport_parse(t[p->i].s, &tr) == 0)
        out->transport = (int)tr;
    else
        return fail(p->err, p->errlen, p->erroff, t[p->i].off,
                    "unknown transport `%s` (udp, tcp or *)", t[p->i].s);
    p->i++;
    enum ah_service svc;
    out->service = -1;
    out->off_service = t[p->i].off;
    if (ah_service_parse(t[p->i].s, &svc) == 0) {
        out->service = (int)svc;
        p->i++;
    } else if (strcmp(t[p->i].s, "*") == 0) {
        p->i++;
    }
    enum ah_family fam;
    out->family = -1;
    if (p->i < p->n && ah_family_parse(t[p->i].s, &fam) == 0) {
        out->family = (int)fam;
        out->off_family = t[p->i++].off;
    }
    if (p->i >= p->n)
        return fail(p->err, p->errlen, p->erroff, p->endoff, "missing claim after the scope");
    return 0;
}

static int parse_event(struct ep *p, struct expect_ref *ref)
{
    return parse_ref(p->t, p->n, &p->i, ref, p->err, p->errlen, p->erroff, p->endoff);
}

/* The node a claim names, after the word `after`. */
static int parse_node(struct ep *p, struct expect *out, const char *after)
{
    if (p->i >= p->n)
        return fail(p->err, p->errlen, p->erroff, p->endoff, "expected a node after `%s`", after);
    copy_word(out->node, p->t[p->i].s);
    out->off_node = p->t[p->i++].off;
    return 0;
}

/* The optional `at VERB NODE` of a claim that is about the whole run
 * without it. */
static int parse_at(struct ep *p, struct expect *out)
{
    out->at.run = true;
    if (p->i < p->n && strcmp(p->t[p->i].s, "at") == 0) {
        p->i++;
        return parse_event(p, &out->at);
    }
    return 0;
}

/* after|before VERB NODE answered-by NODE */
static int parse_answered(struct ep *p, struct expect *out)
{
    const char *w = p->t[p->i].s;
    out->kind = w[0] == 'a' ? EXPECT_AFTER_ANSWERED_BY : EXPECT_BEFORE_ANSWERED_BY;
    p->i++;
    int rc = parse_event(p, &out->at);
    if (rc < 0)
        return rc;
    if (out->at.run)
        return fail(p->err, p->errlen, p->erroff, out->at.off,
                    "`%s run` has no meaning: name a drill event (VERB NODE)", w);
    if (p->i >= p->n || strcmp(p->t[p->i].s, "answered-by") != 0)
        return fail(p->err, p->errlen, p->erroff, p->i < p->n ? p->t[p->i].off : p->endoff,
                    "expected `answered-by NODE` after the event");
    p->i++;
    return parse_node(p, out, "answered-by");
}

/* never-answered-by NODE [at VERB NODE] */
static int parse_never(struct ep *p, struct expect *out)
{
    out->kind = EXPECT_NEVER_ANSWERED_BY;
    p->i++;
    int rc = parse_node(p, out, "never-answered-by");
    return rc < 0 ? rc : parse_at(p, out);
}

/* After the number of a metric claim (at offset numoff): `x baseline` (or
 * NUMBERx, given in xsuffix) makes it relative to the row's base_ figure of
 * the metric; `x baseline-run` to the same row of the --baseline run. */
static int parse_relative(struct ep *p, struct expect *out, bool xsuffix, unsigned numoff)
{
    const struct tok *t = p->t;
    if (!xsuffix && (p->i >= p->n || strcmp(t[p->i].s, "x") != 0))
        return 0;
    if (!xsuffix)
        p->i++;
    if (p->i < p->n && strcmp(t[p->i].s, EXPECT_BASELINE_RUN) == 0) {
        out->baseline_run = true;
        out->factor = out->value;
        out->value = 0;
        p->i++;
        return 0;
    }
    char base[EXPECT_WORD_MAX + 8];
    snprintf(base, sizeof base, "base_%s", out->metric);
    if (!is_metric(base))
        return fail(p->err, p->errlen, p->erroff, numoff,
                    "`%s` has no baseline: only rtt_ms_p50, rtt_ms_p99 and rtt_ms_max do "
                    "(`x baseline-run` compares with the --baseline run)",
                    out->metric);
    if (p->i >= p->n || strcmp(t[p->i].s, "baseline") != 0)
        return fail(p->err, p->errlen, p->erroff, p->i < p->n ? t[p->i].off : p->endoff,
                    "expected `baseline` or `baseline-run` after the factor");
    out->relative = true;
    p->i++;
    return 0;
}

/* A number word that must be whole (no x suffix) into *v. */
static int parse_number(struct ep *p, double *v)
{
    if (p->i >= p->n)
        return fail(p->err, p->errlen, p->erroff, p->endoff, "expected a number");
    char *end;
    errno = 0;
    *v = strtod(p->t[p->i].s, &end);
    if (*end || end == p->t[p->i].s || errno || !isfinite(*v))
        return fail(p->err, p->errlen, p->erroff, p->t[p->i].off, "bad number `%s`", p->t[p->i].s);
    p->i++;
    return 0;
}

/* `baseline-run [+|- NUMBER]` in place of the number: the same row of the
 * --baseline run, plus or minus a margin. */
static int parse_baseline_run(struct ep *p, struct expect *out)
{
    out->baseline_run = true;
    out->factor = 1;
    out->value = 0;
    p->i++;
    if (p->i < p->n && (strcmp(p->t[p->i].s, "+") == 0 || strcmp(p->t[p->i].s, "-") == 0)) {
        bool minus = p->t[p->i].s[0] == '-';
        p->i++;
        int rc = parse_number(p, &out->value);
        if (rc < 0)
            return rc;
        if (minus)
            out->value = -out->value;
    }
    return parse_at(p, out);
}

/* METRIC OP NUMBER[x baseline|baseline-run] [at VERB NODE], or
 * METRIC OP baseline-run [+|- NUMBER] [at VERB NODE] */
static int parse_metric(struct ep *p, struct expect *out)
{
    const struct tok *t = p->t;
    out->kind = EXPECT_METRIC;
    copy_word(out->metric, t[p->i].s);
    out->off_metric = t[p->i++].off;
    if (p->i >= p->n || parse_op(t[p->i].s, &out->op) < 0)
        return fail(p->err, p->errlen, p->erroff, p->i < p->n ? t[p->i].off : p->endoff,
                    "expected a comparison (<, <=, >, >=, ==, !=) after the metric");
    p->i++;
    if (p->i >= p->n)
        return fail(p->err, p->errlen, p->erroff, p->endoff, "expected a number");
    if (strcmp(t[p->i].s, EXPECT_BASELINE_RUN) == 0)
        return parse_baseline_run(p, out);
    char *end;
    errno = 0;
    out->value = strtod(t[p->i].s, &end);
    bool xsuffix = *end == 'x' && end[1] == '\0' && end != t[p->i].s;
    if ((*end && !xsuffix) || end == t[p->i].s || errno || !isfinite(out->value))
        return fail(p->err, p->errlen, p->erroff, t[p->i].off, "bad number `%s`", t[p->i].s);
    p->i++;
    int rc = parse_relative(p, out, xsuffix, t[p->i - 1].off);
    return rc < 0 ? rc : parse_at(p, out);
}

int expect_parse(const char *text, struct expect *out, char *err, size_t errlen, unsigned *erroff)
{
    struct ep p = {.err = err, .errlen = errlen, .erroff = erroff};
    memset(out, 0, sizeof *out);
    *erroff = 0;
    err[0] = '\0';
    int rc = tokenize(&p, text);
    if (rc < 0)
        return rc;
    if (p.n < 3)
        return fail(err, errlen, erroff, p.n ? p.t[p.n - 1].off : 0,
                    "too short: write VANTAGE TRANSPORT [SERVICE] [FAMILY] CLAIM (see "
                    "docs/expect.md)");
    if ((rc = parse_scope(&p, out)) < 0)
        return rc;
    const char *w = p.t[p.i].s;
    if (strcmp(w, "after") == 0 || strcmp(w, "before") == 0)
        rc = parse_answered(&p, out);
    else if (strcmp(w, "never-answered-by") == 0)
        rc = parse_never(&p, out);
    else if (is_metric(w))
        rc = parse_metric(&p, out);
    else
        rc = fail(err, errlen, erroff, p.t[p.i].off,
                  "unknown claim `%s`: after, before, never-answered-by or a metric (probes, "
                  "lost, outage_ms, switch_ms, flips, conns_at_event, conns_broken, "
                  "break_ms_p50, break_ms_max, reconnect_ms, detect_ms, rtt_ms_p50, "
                  "rtt_ms_p99, rtt_ms_max, base_rtt_ms_p50, base_rtt_ms_p99, base_rtt_ms_max, "
                  "flows_moved_collateral, conns_broken_collateral, ratelimited)",
                  w);
    if (rc < 0)
        return rc;
    if (p.i < p.n)
        return fail(err, errlen, erroff, p.t[p.i].off, "unexpected `%s` at the end", p.t[p.i].s);
    return 0;
}

/* ---- validation against a lab ---- */

static int diag(struct lab_diag *d, const struct lab *lab, const struct lab_expect *le,
                unsigned off, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int diag(struct lab_diag *d, const struct lab *lab, const struct lab_expect *le,
                unsigned off, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int rc = lab_diag_addf(d, lab->path ? lab->path : "lab", le->line, le->col + off, "%s", msg);
    return rc < 0 ? rc : -EINVAL;
}

/* The scope's transport, service and family against what the lab probes. */
static int check_scope(const struct lab *lab, const struct lab_expect *le, const struct expect *e,
                       struct lab_diag *d)
{
    int rc = 0, r;
    if (e->transport == AH_TR_UDP && !lab->udp.enabled) {
        r = diag(d, lab, le, e->off_transport, "expect: the lab sends no udp probes");
        rc = rc ? rc : r;
    }
    if (e->transport == AH_TR_TCP && !lab->tcp.enabled) {
        r = diag(d, lab, le, e->off_transport, "expect: the lab sends no tcp probes");
        rc = rc ? rc : r;
    }
    if (e->service >= 0) {
        bool udp_ok = lab->udp.enabled && lab->udp.service[e->service] && e->transport != AH_TR_TCP;
        bool tcp_ok = lab->tcp.enabled && lab->tcp.service[e->service] && e->transport != AH_TR_UDP;
        if (!udp_ok && !tcp_ok) {
            r = diag(d, lab, le, e->off_service, "expect: no %s probes of service %s in this lab",
                     e->transport < 0 ? "udp or tcp"
                                      : ah_transport_name((enum ah_transport)e->transport),
                     ah_service_name((enum ah_service)e->service));
            rc = rc ? rc : r;
        }
    }
    if (e->family >= 0 && !lab->probe_family[e->family]) {
        r = diag(d, lab, le, e->off_family, "expect: the lab probes no %s address",
                 ah_family_name((enum ah_family)e->family));
        rc = rc ? rc : r;
    }
    return rc;
}

static int check_one(const struct lab *lab, const struct lab_expect *le, const struct expect *e,
                     const struct drill *dr, struct lab_diag *d)
{
    int rc = 0, r;
    char hint[300];
    if (strcmp(e->vantage, "*") != 0 && lab_vantage_index(lab, e->vantage) < 0) {
        lab_unknown_hint(lab, true, e->vantage, hint, sizeof hint);
        r = diag(d, lab, le, e->off_vantage, "expect: unknown vantage \"%s\"%s", e->vantage, hint);
        rc = rc ? rc : r;
    }
    if ((r = check_scope(lab, le, e, d)) < 0)
        rc = rc ? rc : r;
    if (e->kind == EXPECT_METRIC && e->transport == AH_TR_UDP &&
        (strncmp(e->metric, "conns_", 6) == 0 || strncmp(e->metric, "break_", 6) == 0 ||
         strcmp(e->metric, "reconnect_ms") == 0)) {
        r = diag(d, lab, le, e->off_metric, "expect: %s applies to tcp only", e->metric);
        rc = rc ? rc : r;
    }
    if (e->kind == EXPECT_METRIC && e->transport == AH_TR_TCP &&
        strcmp(e->metric, "flows_moved_collateral") == 0) {
        r = diag(d, lab, le, e->off_metric, "expect: %s applies to udp only", e->metric);
        rc = rc ? rc : r;
    }
    /* The run rows have no event node, so no collateral figure: the claim
     * would never have data. */
    if (e->kind == EXPECT_METRIC && e->at.run && strstr(e->metric, "_collateral")) {
        r = diag(d, lab, le, e->off_metric, "expect: %s needs `at EVENT` (the run has none)",
                 e->metric);
        rc = rc ? rc : r;
    }
    if (e->kind != EXPECT_METRIC && lab_node_index(lab, e->node) < 0) {
        lab_unknown_hint(lab, false, e->node, hint, sizeof hint);
        r = diag(d, lab, le, e->off_node, "expect: unknown node \"%s\"%s", e->node, hint);
        rc = rc ? rc : r;
    }
    if (!e->at.run) {
        if (lab_node_index(lab, e->at.node) < 0) {
            lab_unknown_hint(lab, false, e->at.node, hint, sizeof hint);
            r = diag(d, lab, le, e->at.off, "expect: unknown node \"%s\" in the event%s",
                     e->at.node, hint);
            return rc ? rc : r;
        }
        if (strcmp(e->at.verb, ah_schema_verb_name(AH_VERB_FLAP)) == 0) {
            r = diag(d, lab, le, e->at.off,
                     "expect: a flap is played as withdraw/announce steps: name one, e.g. "
                     "`withdraw %s#2`",
                     e->at.node);
            return rc ? rc : r;
        }
        unsigned count = 0;
        for (size_t i = 0; i < dr->n; i++)
            count += strcmp(drill_step_event(&dr->steps[i]), e->at.verb) == 0 &&
                     strcmp(lab->nodes[dr->steps[i].node].name, e->at.node) == 0;
        if (count == 0) {
            r = diag(d, lab, le, e->at.off, "expect: the drill has no event \"%s %s\"", e->at.verb,
                     e->at.node);
            rc = rc ? rc : r;
        } else if (e->at.occ > count) {
            char n[32];
            snprintf(n, sizeof n, "%u", count);
            r = diag(d, lab, le, e->at.off, "expect: the drill has only %s such event%s", n,
                     count == 1 ? "" : "s");
            rc = rc ? rc : r;
        }
    }
    return rc;
}

int expect_validate_lab(const struct lab *lab, struct lab_diag *d)
{
    struct drill dr;
    int rc = drill_expand(lab, &dr);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < lab->nexpect; i++) {
        const struct lab_expect *le = &lab->expect[i];
        struct expect e;
        char err[300];
        unsigned off;
        int r = expect_parse(le->text, &e, err, sizeof err, &off);
        if (r < 0) {
            r = lab_diag_addf(d, lab->path ? lab->path : "lab", le->line, le->col + off,
                              "expect: %s", err);
            r = r < 0 ? r : -EINVAL;
        } else {
            r = check_one(lab, le, &e, &dr, d);
        }
        if (r == -ENOMEM) {
            rc = r;
            break;
        }
        if (r < 0)
            rc = -EINVAL;
    }
    drill_free(&dr);
    return rc;
}

/* ---- evaluation ---- */

static bool row_matches(const struct expect *e, const struct ah_metrics_row *r)
{
    if (strcmp(e->vantage, "*") != 0 && strcmp(e->vantage, r->vantage) != 0)
        return false;
    if (e->transport >= 0 && (int)r->transport != e->transport)
        return false;
    if (e->service >= 0 && (int)r->service != e->service)
        return false;
    if (e->family >= 0 && (int)r->family != e->family)
        return false;
    if (e->at.run)
        return strcmp(r->event, ah_schema_event_name(AH_EVENT_RUN)) == 0;
    return strcmp(r->event, e->at.verb) == 0 && strcmp(r->node, e->at.node) == 0 &&
           r->occurrence == (e->at.occ ? e->at.occ : 1);
}

static bool compare(double v, enum expect_op op, double x)
{
    switch (op) {
    case EXPECT_LT:
        return v < x;
    case EXPECT_LE:
        return v <= x;
    case EXPECT_GT:
        return v > x;
    case EXPECT_GE:
        return v >= x;
    case EXPECT_EQ:
        return v == x;
    case EXPECT_NE:
        return v != x;
    }
    return false;
}

/* The row as a scope: "eu udp dns", with the family when the data has
 * more than one ("eu udp dns ipv6"), then the event. */
static void where(const struct ah_metrics_row *r, bool family, char *buf, size_t len)
{
    char scope[EXPECT_WORD_MAX + 32];
    snprintf(scope, sizeof scope, "%.63s %s %s%s%s", r->vantage, ah_transport_name(r->transport),
             ah_service_name(r->service), family ? " " : "",
             family ? ah_family_name(r->family) : "");
    if (strcmp(r->event, ah_schema_event_name(AH_EVENT_RUN)) == 0)
        snprintf(buf, len, "%s over the run", scope);
    else if (r->occurrence > 1)
        snprintf(buf, len, "%s at %s %s#%u", scope, r->event, r->node, r->occurrence);
    else
        snprintf(buf, len, "%s at %s %s", scope, r->event, r->node);
}

static void fmt_value(double v, char *buf, size_t len)
{
    if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, len, "%.0f", v);
    else
        snprintf(buf, len, "%.3f", v);
}

/* How close a passing value came to failing: larger is closer. */
static double closeness(double v, enum expect_op op)
{
    return op == EXPECT_GT || op == EXPECT_GE ? -v : v;
}

/* A relative claim on a row whose metric is x: against value times the
 * row's baseline, which must exist. */
static bool judge_relative(const struct expect *e, const struct ah_metrics_row *r, double x,
                           char *val, size_t len)
{
    char base[EXPECT_WORD_MAX + 8], xs[32], bs[32];
    double b;
    snprintf(base, sizeof base, "base_%s", e->metric);
    fmt_value(x, xs, sizeof xs);
    if (ah_metrics_field(r, base, &b) != 1) {
        snprintf(val, len, "%.20s, no baseline", xs);
        return false;
    }
    fmt_value(b, bs, sizeof bs);
    snprintf(val, len, "%.20s, baseline %.20s", xs, bs);
    return compare(x, e->op, e->value * b);
}

/* A claim against the baseline run on a row whose metric is x: against
 * factor times the baseline run's value plus the margin. Returns 1 when it
 * holds, 0 when not, -ENOENT when the baseline run has no such row or no
 * value there (the expectation is then not measured, the reason in val). */
static int judge_baseline_run(const struct expect *e, const struct ah_metrics_row *r, double x,
                              const struct expect_baseline *bl, char *val, size_t len)
{
    char xs[32], bs[32];
    double b;
    int rc = bl && bl->fn ? bl->fn(bl->arg, r, e->metric, &b) : -ENOENT;
    if (rc != 1) {
        snprintf(val, len, "%s",
                 !bl || !bl->fn ? "no --baseline run given"
                 : rc == 0      ? "empty in the baseline run"
                                : "no such row in the baseline run");
        return -ENOENT;
    }
    fmt_value(x, xs, sizeof xs);
    fmt_value(b, bs, sizeof bs);
    snprintf(val, len, "%.20s, baseline-run %.20s", xs, bs);
    return compare(x, e->op, e->factor * b + e->value) ? 1 : 0;
}

void expect_eval(const struct expect *e, const struct ah_metrics *m, struct expect_verdict *v)
{
    expect_eval_baseline(e, m, NULL, v);
}

void expect_eval_baseline(const struct expect *e, const struct ah_metrics *m,
                          const struct expect_baseline *bl, struct expect_verdict *v)
{
    size_t matched = 0;
    double best = -INFINITY; /* closeness of the passing value kept */
    unsigned fams = ah_metrics_families(m);
    bool family = (fams & (fams - 1)) != 0; /* more than one */
    memset(v, 0, sizeof *v);
    v->pass = true;
    v->row = SIZE_MAX;
    for (size_t i = 0; i < ah_metrics_nrows(m); i++) {
        const struct ah_metrics_row *r = ah_metrics_row(m, i);
        if (!row_matches(e, r))
            continue;
        if (e->kind == EXPECT_METRIC && !ah_metrics_field_applies(r, e->metric))
            continue;
        matched++;
        bool ok;
        double close = -INFINITY; /* only the first passing row unless a metric says more */
        char val[64];
        if (e->kind == EXPECT_AFTER_ANSWERED_BY || e->kind == EXPECT_BEFORE_ANSWERED_BY) {
            const char *got = e->kind == EXPECT_AFTER_ANSWERED_BY ? r->after : r->before;
            ok = strcmp(got, e->node) == 0;
            snprintf(val, sizeof val, "%s", got[0] ? got : "none");
        } else if (e->kind == EXPECT_NEVER_ANSWERED_BY) {
            uint64_t c = ah_metrics_row_answers(m, r, e->node);
            ok = c == 0;
            snprintf(val, sizeof val, "%llu answers", (unsigned long long)c);
        } else {
            double x;
            if (ah_metrics_field(r, e->metric, &x) == 0) {
                /* Break times of no broken connection fulfil any bound. */
                ok = strncmp(e->metric, "break_", 6) == 0 && r->conns_broken == 0;
                snprintf(val, sizeof val, "%s", ok ? "none broken" : "none");
            } else if (e->baseline_run) {
                int rc = judge_baseline_run(e, r, x, bl, val, sizeof val);
                if (rc < 0) {
                    memset(v, 0, sizeof *v);
                    v->not_measured = true;
                    snprintf(v->measured, sizeof v->measured, "not measured");
                    where(r, family, v->where, sizeof v->where);
                    size_t n = strlen(v->where);
                    snprintf(v->where + n, sizeof v->where - n, ": %s", val);
                    return;
                }
                ok = rc == 1;
                close = closeness(x, e->op);
            } else if (e->relative) {
                ok = judge_relative(e, r, x, val, sizeof val);
                close = closeness(x, e->op);
            } else {
                ok = compare(x, e->op, e->value);
                fmt_value(x, val, sizeof val);
                close = closeness(x, e->op);
            }
        }
        if (!ok) {
            v->pass = false;
            snprintf(v->measured, sizeof v->measured, "%s", val);
            where(r, family, v->where, sizeof v->where);
            v->row = i;
            break;
        }
        /* Among passing rows, report the one nearest to failing. */
        if (matched == 1 || close > best) {
            best = close;
            snprintf(v->measured, sizeof v->measured, "%s", val);
            where(r, family, v->where, sizeof v->where);
            v->row = i;
        }
    }
    if (matched == 0) {
        v->pass = false;
        snprintf(v->measured, sizeof v->measured, "no data");
        snprintf(v->where, sizeof v->where, "no summary row matches");
    }
}

/* ---- steps that ran late ---- */

int expect_step_ref(const struct expect *e, char *buf, size_t len)
{
    if (e->at.run)
        return -ENOENT;
    int n = e->at.occ > 1 ? snprintf(buf, len, "%s %s#%u", e->at.verb, e->at.node, e->at.occ)
                          : snprintf(buf, len, "%s %s", e->at.verb, e->at.node);
    return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

void expect_not_measured(struct expect_verdict *v, const char *ref, uint64_t late_ns,
                         uint64_t tol_ns)
{
    char tol[32];
    memset(v, 0, sizeof *v);
    v->not_measured = true;
    snprintf(v->measured, sizeof v->measured, "not measured");
    if (ah_dur_format(tol_ns, tol, sizeof tol) < 0)
        snprintf(tol, sizeof tol, "?");
    if (late_ns != UINT64_MAX)
        snprintf(v->where, sizeof v->where, "%s started %.3f ms late (tolerance %s)", ref,
                 (double)late_ns / 1e6, tol);
    else
        snprintf(v->where, sizeof v->where, "%s started later than the tolerance (%s)", ref, tol);
}

void expect_not_reached(struct expect_verdict *v, const char *ref)
{
    memset(v, 0, sizeof *v);
    v->not_measured = true;
    v->not_reached = true;
    snprintf(v->measured, sizeof v->measured, "not reached");
    snprintf(v->where, sizeof v->where, "%s never ran: the run ended before it", ref);
}

const char *expect_verdict_name(const struct expect_verdict *v)
{
    return v->not_reached    ? "not reached"
           : v->not_measured ? "not measured"
           : v->pass         ? "pass"
                             : "fail";
}

long expect_lab_baseline_run(const struct lab *lab)
{
    for (size_t i = 0; lab && i < lab->nexpect; i++) {
        struct expect e;
        char err[256];
        unsigned off;
        if (expect_parse(lab->expect[i].text, &e, err, sizeof err, &off) == 0 && e.baseline_run)
            return (long)i;
    }
    return -1;
}
