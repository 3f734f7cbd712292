/* Unit tests for the failover metrics (lib/metrics.c): hand-built record
 * sets whose right answers are worked out here from the definitions of
 * docs/formats.md, "Metrics". */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/lib/metrics_test.h"

static void cn(struct ah_metrics *m, uint64_t id, uint64_t opened_rel, uint64_t closed_rel,
               enum ah_reason reason, const char *node)
{
    struct ah_metrics_conn c = {
        .conn = id,
        .vantage = "eu",
        .service = AH_SVC_ECHO,
        .opened_ns = T0 + opened_rel,
        .closed_ns = closed_rel ? T0 + closed_rel : 0,
        .node = node,
        .reason = reason,
        .probes_ok = node ? 1 : 0,
    };
    ck_assert_int_eq(ah_metrics_add_conn(m, &c), 0);
}

/* The row of (event word, occurrence) for vantage/transport. */
static const struct ah_metrics_row *row(const struct ah_metrics *m, const char *event, unsigned occ,
                                        const char *vantage, enum ah_transport tr)
{
    for (size_t i = 0; i < ah_metrics_nrows(m); i++) {
        const struct ah_metrics_row *r = ah_metrics_row(m, i);
        if (strcmp(r->event, event) == 0 && r->occurrence == occ &&
            strcmp(r->vantage, vantage) == 0 && r->transport == tr)
            return r;
    }
    ck_abort_msg("no row %s#%u %s %s", event, occ, vantage, ah_transport_name(tr));
    return NULL;
}

START_TEST(outage_never_recovers)
{
    struct ah_metrics *m = metrics_mk(12 * S, false);
    metrics_event(m, 10 * S, "withdraw", "ams", "");
    /* One probe every 10 ms from 9 s: ams answers until 10 s, then nothing. */
    for (uint64_t t = 9 * S; t < 12 * S; t += 10 * MS)
        metrics_probe(m, t, "eu", AH_TR_UDP, 1, t < 10 * S ? "ams" : NULL);
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    const struct ah_metrics_row *r = row(m, "withdraw", 1, "eu", AH_TR_UDP);
    ck_assert_uint_eq(r->event_ts_ns, T0 + 10 * S);
    ck_assert_str_eq(r->before, "ams");
    ck_assert_str_eq(r->after, "");
    ck_assert_uint_eq(r->probes, 200); /* 10.00 .. 11.99 s */
    ck_assert_uint_eq(r->lost, 200);
    /* From the first failed probe (10.000 s) to the window's end (12 s). */
    ck_ms(r->outage_ms, 2000.0);
    ck_assert(isnan(r->switch_ms));
    ck_assert_uint_eq(r->flips, 0);
    ck_assert(!r->tcp);
    /* The run row covers everything: 300 probes, the same 200 lost. */
    const struct ah_metrics_row *run = row(m, "run", 1, "eu", AH_TR_UDP);
    ck_assert_uint_eq(run->probes, 300);
    ck_assert_uint_eq(run->lost, 200);
    ck_assert_str_eq(run->before, "");
    ck_ms(run->switch_ms, 9000.0); /* the first answer, 9 s after the start */
    /* Resolution: one probe every 10 ms (within the 6% bucket width). */
    ck_assert_msg(fabs(r->resolution_ms - 10.0) < 0.7, "resolution %f", r->resolution_ms);
    ah_metrics_free(m);
}
END_TEST

START_TEST(event_without_probes)
{
    struct ah_metrics *m = metrics_mk(8 * S, false);
    metrics_event(m, 6 * S, "stop", "nyc", "pid 1");
    for (uint64_t t = 0; t < 4 * S; t += 100 * MS)
        metrics_probe(m, t, "us", AH_TR_UDP, 9, "nyc");
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    const struct ah_metrics_row *r = row(m, "stop", 1, "us", AH_TR_UDP);
    ck_assert_uint_eq(r->probes, 0);
    ck_assert_uint_eq(r->lost, 0);
    ck_ms(r->outage_ms, 0.0);
    ck_assert(isnan(r->switch_ms));
    /* Nothing answered in the second before 6 s either. */
    ck_assert_str_eq(r->before, "");
    ck_assert_str_eq(r->after, "");
    ck_assert(isnan(r->detect_ms));
    double v;
    ck_assert_int_eq(ah_metrics_field(r, "switch_ms", &v), 0);
    ck_assert_int_eq(ah_metrics_field(r, "probes", &v), 1);
    ck_ms(v, 0.0);
    ck_assert_int_eq(ah_metrics_field(r, "nonsense", &v), -ENOENT);
    ah_metrics_free(m);
}
END_TEST

START_TEST(flips_one_flow)
{
    struct ah_metrics *m = metrics_mk(10 * S, false);
    /* Flow 7: a b a b -> 3 flips; a failure between two answers does not
     * hide a flip: b, timeout, a -> 1 more. Flow 8 always a: none, though
     * it interleaves with flow 7 (flips are per flow). */
    static const char *const f7[] = {"a", "b", "a", "b", NULL, "a"};
    uint64_t t = 1 * S;
    for (size_t i = 0; i < 6; i++) {
        metrics_probe(m, t, "eu", AH_TR_UDP, 7, f7[i]);
        metrics_probe(m, t + MS, "eu", AH_TR_UDP, 8, "a");
        t += 100 * MS;
    }
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    const struct ah_metrics_row *r = row(m, "run", 1, "eu", AH_TR_UDP);
    ck_assert_uint_eq(r->flips, 4);
    ck_assert_uint_eq(r->probes, 12);
    ck_assert_uint_eq(r->lost, 1);
    /* The failure at 1.4 s ended with flow 8's ok answer 1 ms later. */
    ck_ms(r->outage_ms, 1.0);
    ck_assert_uint_eq(ah_metrics_row_answers(m, r, "a"), 9);
    ck_assert_uint_eq(ah_metrics_row_answers(m, r, "b"), 2);
    ck_assert_uint_eq(ah_metrics_row_answers(m, r, "zzz"), 0);
    ah_metrics_free(m);
}
END_TEST

START_TEST(two_events_10ms_apart)
{
    struct ah_metrics *m = metrics_mk(3 * S, false);
    metrics_event(m, 2 * S + 10 * MS, "announce", "ams", "");
    metrics_event(m, 2 * S, "withdraw", "ams", ""); /* out of order on purpose */
    /* A probe every ms: ams until 2.000, nyc from 2.000 to 2.012, then ams. */
    for (uint64_t t = 1 * S; t < 3 * S; t += MS) {
        const char *n = t < 2 * S ? "ams" : t < 2 * S + 12 * MS ? "nyc" : "ams";
        metrics_probe(m, t, "eu", AH_TR_UDP, 1 + t / MS % 4, n);
    }
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    const struct ah_metrics_row *w = row(m, "withdraw", 1, "eu", AH_TR_UDP);
    const struct ah_metrics_row *a = row(m, "announce", 1, "eu", AH_TR_UDP);
    ck_assert_uint_eq(w->event_ts_ns, T0 + 2 * S);
    ck_assert_uint_eq(a->event_ts_ns, T0 + 2 * S + 10 * MS);
    ck_assert_uint_eq(w->probes, 10); /* 2.000 .. 2.009 */
    ck_assert_uint_eq(a->probes, 990);
    ck_assert_str_eq(w->before, "ams");
    ck_assert_str_eq(w->after, "nyc");
    ck_ms(w->switch_ms, 0.0);
    /* The second before 2.010 s holds 990 answers from ams and 10 from nyc,
     * but each of the four flows' last answer (2.006 .. 2.009 s) is nyc:
     * that is what answered just before the announce. */
    ck_assert_str_eq(a->before, "nyc");
    ck_assert_str_eq(a->after, "ams");
    /* The first answer not from nyc after 2.010 is ams at 2.012. */
    ck_ms(a->switch_ms, 2.0);
    /* Four flows, each moved ams -> nyc and back: 2 flips each, the first
     * in the withdraw window, the second in the announce window. */
    ck_assert_uint_eq(w->flips, 4);
    ck_assert_uint_eq(a->flips, 4);
    ck_assert_uint_eq(row(m, "run", 1, "eu", AH_TR_UDP)->flips, 8);
    ah_metrics_free(m);
}
END_TEST

START_TEST(connections_before_after)
{
    struct ah_metrics_cfg cfg = {.start_ns = T0, .end_ns = T0 + 10 * S, .tcp_connections = 3};
    struct ah_metrics *m = NULL;
    ck_assert_int_eq(ah_metrics_new(&m, &cfg), 0);
    metrics_event(m, 5 * S, "withdraw", "ams", "");
    metrics_event(m, 8 * S, "announce", "ams", "");
    for (uint64_t t = 1 * S; t < 10 * S; t += 50 * MS)
        metrics_probe(m, t, "eu", AH_TR_TCP, 2, "ams");
    cn(m, 1, 1 * S, 4 * S, AH_REASON_RESET, "ams");            /* broke before the event */
    cn(m, 2, 1 * S, 5 * S + 200 * MS, AH_REASON_RESET, "ams"); /* broke 200 ms after */
    cn(m, 3, 1 * S, 0, AH_REASON_END, "ams");                  /* still open at the end */
    cn(m, 4, 1 * S, 9 * S, AH_REASON_RESET, "ams");            /* broke after the next event */
    cn(m, 5, 5 * S + 100 * MS, 5 * S + 101 * MS, AH_REASON_REFUSED, NULL); /* never opened */
    cn(m, 6, 5 * S + 300 * MS, 7 * S, AH_REASON_RESET, "nyc");             /* the replacement ... */
    cn(m, 7, 7 * S + 200 * MS, 0, AH_REASON_END, "nyc");                   /* ... and its own */
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    const struct ah_metrics_row *r = row(m, "withdraw", 1, "eu", AH_TR_TCP);
    ck_assert(r->tcp);
    ck_assert_uint_eq(r->conns_at_event, 3); /* 2, 3, 4 */
    ck_assert_uint_eq(r->conns_broken, 1);   /* 2 (4 broke in the next window) */
    ck_ms(r->break_ms_p50, 200.0);
    ck_ms(r->break_ms_max, 200.0);
    /* 3 held at 5 s, 2 after 5.2 s, 3 again when 6 opened at 5.3 s; that
     * the replacement broke at 7 s (2 again until 7.2 s) does not count:
     * the time is to the recovery after the last break of a connection
     * held at the event. */
    ck_ms(r->reconnect_ms, 300.0);
    const struct ah_metrics_row *a = row(m, "announce", 1, "eu", AH_TR_TCP);
    ck_assert_uint_eq(a->conns_at_event, 3); /* 3, 4, 7 */
    ck_assert_uint_eq(a->conns_broken, 1);
    ck_ms(a->break_ms_max, 1000.0);
    /* 4 never came back: the prober holds 2 of 3 until the end. */
    ck_assert(isnan(a->reconnect_ms));
    /* Run level: 6 connections were established, 4 of them broke. */
    const struct ah_metrics_row *run = row(m, "run", 1, "eu", AH_TR_TCP);
    ck_assert_uint_eq(run->conns_at_event, 6);
    ck_assert_uint_eq(run->conns_broken, 4);
    ck_ms(run->break_ms_max, 8000.0); /* connection 4 lived 1 s .. 9 s */
    ah_metrics_free(m);
}
END_TEST

static void switch_run(bool direct, double *sw, double *gt, double *det, double *route)
{
    struct ah_metrics *m = metrics_mk(4 * S, direct);
    metrics_event(m, 2 * S, "withdraw", "ams", "");
    metrics_event(m, 2 * S + 100000, "route", "nyc", "router=eu nexthop=nyc");
    metrics_event(m, 2 * S + 50000, "route", "sin", "router=us nexthop=sin");
    metrics_event(m, 2 * S + 60000, "exit", "sin", "responder pid 3 killed");
    /* A router's initial route is no change, even inside the window: the
     * ground truth stays the change to nyc. */
    metrics_event(m, 2 * S + 10000, "route", "ams", "initial router=eu nexthop=ams");
    /* A probe every ms; nyc answers from 2.002 s (the probe at 2.001 s was
     * still answered by ams). */
    for (uint64_t t = 1 * S; t < 4 * S; t += MS)
        metrics_probe(m, t, "eu", AH_TR_UDP, 1, t < 2 * S + 2 * MS ? "ams" : "nyc");
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    const struct ah_metrics_row *r = row(m, "withdraw", 1, "eu", AH_TR_UDP);
    ck_assert_str_eq(r->route_nexthop, "nyc");
    ck_assert_uint_eq(r->route_ts_ns, T0 + 2 * S + 100000);
    ck_assert_uint_eq(ah_metrics_nrows(m), 2); /* run + withdraw: exit is no window */
    *sw = r->switch_ms;
    *gt = r->gt_answer_ms;
    *det = r->detect_ms;
    *route = r->route_ms;
    ah_metrics_free(m);
}

START_TEST(switch_and_ground_truth)
{
    double sw, gt, det, route;
    switch_run(false, &sw, &gt, &det, &route);
    ck_ms(sw, 2.0);
    ck_ms(route, 0.1);
    ck_ms(gt, 1.9); /* route change at 2.0001 s, first nyc answer at 2.002 s */
    ck_ms(det, 0.1);
    /* When withdraw itself moves the route, detect_ms stays empty. */
    switch_run(true, &sw, &gt, &det, &route);
    ck_ms(sw, 2.0);
    ck_assert(isnan(det));
}
END_TEST

START_TEST(events_after_probes_rejected)
{
    struct ah_metrics *m = metrics_mk(4 * S, false);
    metrics_probe(m, 1 * S, "eu", AH_TR_UDP, 1, "ams");
    struct ah_metrics_event e = {T0 + 2 * S, "withdraw", "ams", ""};
    ck_assert_int_eq(ah_metrics_add_event(m, &e), -EINVAL);
    /* A late probe is still counted, and reported. */
    metrics_probe(m, 500 * MS, "eu", AH_TR_UDP, 1, "ams");
    ck_assert_uint_eq(ah_metrics_late(m), 1);
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    ck_assert_uint_eq(row(m, "run", 1, "eu", AH_TR_UDP)->probes, 2);
    ah_metrics_free(m);
}
END_TEST

START_TEST(words)
{
    enum ah_transport t;
    enum ah_service s;
    enum ah_reason r;
    ck_assert_int_eq(ah_transport_parse("tcp", &t), 0);
    ck_assert_int_eq(t, AH_TR_TCP);
    ck_assert_int_eq(ah_transport_parse("sctp", &t), -EINVAL);
    ck_assert_int_eq(ah_service_parse("echo", &s), 0);
    ck_assert_int_eq(s, AH_SVC_ECHO);
    ck_assert_int_eq(ah_reason_parse("unreachable", &r), 0);
    ck_assert_int_eq(r, AH_REASON_UNREACHABLE);
    ck_assert_int_eq(ah_reason_parse("gone", &r), -EINVAL);
    ck_assert_int_eq(ah_event_kind_of("route"), AH_EV_ROUTE);
    ck_assert_int_eq(ah_event_kind_of("track-down"), AH_EV_OBSERVATION);
    ck_assert_int_eq(ah_event_kind_of("health-down"), AH_EV_OBSERVATION);
    ck_assert_int_eq(ah_event_kind_of("flap"), AH_EV_DRILL);
}
END_TEST

/* An ok UDP probe of eu with an RTT; rtt_us 0: a timeout. */
static void rtt_probe(struct ah_metrics *m, uint64_t rel, uint64_t rtt_us)
{
    struct ah_metrics_probe p = {
        .ts_ns = T0 + rel,
        .vantage = "eu",
        .transport = AH_TR_UDP,
        .service = AH_SVC_DNS,
        .conn = 1,
        .result = rtt_us ? AH_RES_OK : AH_RES_TIMEOUT,
        .node = rtt_us ? "ams" : NULL,
        .has_rtt = rtt_us != 0,
        .rtt_us = rtt_us,
    };
    ck_assert_int_eq(ah_metrics_add_probe(m, &p), 0);
}

/* A brown-out at 2 s, a probe every 100 ms. Before 1 s: 5 ms. The
 * baseline, [1 s, 2 s): 0.1, 0.2, ... 1.0 ms, exact: p50 is the 5th of 10
 * (0.5), p99 the 10th (1.0). The window, [2 s, 4 s): 19 answers of 300 ms,
 * one of 310 ms, a timeout. p50, the 10th of 20, is the middle of the
 * histogram bucket of 300 ms: 2^18 us + 2 x 2^14 + 2^13 = 303104 us (1% off);
 * p99, the 20th, is the exact max. */
START_TEST(rtt_window_and_baseline)
{
    struct ah_metrics *m = metrics_mk(4 * S, false);
    metrics_event(m, 2 * S, "delay", "ams", "");
    for (uint64_t k = 0; k < 10; k++)
        rtt_probe(m, k * 100 * MS, 5000);
    for (uint64_t k = 0; k < 10; k++)
        rtt_probe(m, S + k * 100 * MS, 100 * (k + 1));
    for (uint64_t k = 0; k < 20; k++)
        rtt_probe(m, 2 * S + k * 100 * MS, k == 7 ? 310000 : 300000);
    rtt_probe(m, 2 * S + 50 * MS, 0);
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    const struct ah_metrics_row *r = row(m, "delay", 1, "eu", AH_TR_UDP);
    ck_ms(r->base_rtt_ms_p50, 0.5);
    ck_ms(r->base_rtt_ms_p99, 1.0);
    ck_ms(r->base_rtt_ms_max, 1.0);
    ck_ms(r->rtt_ms_p50, 303.104);
    ck_ms(r->rtt_ms_p99, 310.0);
    ck_ms(r->rtt_ms_max, 310.0);
    double v;
    ck_assert_int_eq(ah_metrics_field(r, "rtt_ms_max", &v), 1);
    ck_ms(v, 310.0);
    ck_assert_int_eq(ah_metrics_field(r, "base_rtt_ms_p50", &v), 1);
    ck_ms(v, 0.5);
    /* The run: the 20th of 40 is a 5 ms answer, in the bucket 2^12 + 3 x
     * 2^8 (4864 us), reported as its middle 4992 us; no baseline. */
    r = row(m, "run", 1, "eu", AH_TR_UDP);
    ck_ms(r->rtt_ms_p50, 4.992);
    ck_ms(r->rtt_ms_max, 310.0);
    ck_assert(isnan(r->base_rtt_ms_p50));
    ck_assert_int_eq(ah_metrics_field(r, "base_rtt_ms_p99", &v), 0);
    ah_metrics_free(m);
}
END_TEST

/* Below 16 us every value has a bucket of its own: exact. A window of
 * timeouts only has no RTT, and an event with nothing in the second before
 * it no baseline. */
START_TEST(rtt_small_and_empty)
{
    struct ah_metrics *m = metrics_mk(3 * S, false);
    metrics_event(m, S, "delay", "ams", "");
    metrics_event(m, 2 * S, "delay", "ams", "");
    rtt_probe(m, 1 * S + 1, 3);
    rtt_probe(m, 1 * S + 2, 12);
    rtt_probe(m, 1 * S + 3, 7);
    rtt_probe(m, 2 * S + 1, 0);
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    const struct ah_metrics_row *r = row(m, "delay", 1, "eu", AH_TR_UDP);
    ck_ms(r->rtt_ms_p50, 0.007);
    ck_ms(r->rtt_ms_p99, 0.012);
    ck_assert(isnan(r->base_rtt_ms_p50) && isnan(r->base_rtt_ms_max));
    r = row(m, "delay", 2, "eu", AH_TR_UDP);
    ck_assert(isnan(r->rtt_ms_p50) && isnan(r->rtt_ms_max));
    ck_ms(r->base_rtt_ms_p50, 0.007);
    ck_ms(r->base_rtt_ms_max, 0.012);
    ah_metrics_free(m);
}
END_TEST

/* A flap of 200 ms steps (docs/formats.md, "Worked example: a flap of 200
 * ms steps"): iad is withdrawn at 2.0 s, announced at 2.2, withdrawn at 2.4
 * and announced at 2.6 s; each change reaches the traffic 5 ms after the
 * event. Four flows, flow f probed at k * 10 ms + f ms. */
static const char *flap_node(uint64_t t)
{
    bool iad = t < 2 * S + 5 * MS || (t >= 2200 * MS + 5 * MS && t < 2400 * MS + 5 * MS) ||
               t >= 2600 * MS + 5 * MS;
    return iad ? "iad" : "fra";
}

START_TEST(flap_200ms_steps)
{
    struct ah_metrics *m = metrics_mk(3 * S, true);
    metrics_event(m, 2000 * MS, "withdraw", "iad", "flap 1/4");
    metrics_event(m, 2200 * MS, "announce", "iad", "flap 2/4");
    metrics_event(m, 2400 * MS, "withdraw", "iad", "flap 3/4");
    metrics_event(m, 2600 * MS, "announce", "iad", "flap 4/4");
    for (uint64_t t = 1 * S; t < 3 * S; t += 10 * MS)
        for (uint64_t f = 1; f <= 4; f++)
            metrics_probe(m, t + f * MS, "eu", AH_TR_UDP, f, flap_node(t + f * MS));
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    const char *word[] = {"withdraw", "announce", "withdraw", "announce"};
    const char *from[] = {"iad", "fra", "iad", "fra"};
    const char *to[] = {"fra", "iad", "fra", "iad"};
    for (unsigned i = 0; i < 4; i++) {
        const struct ah_metrics_row *r = row(m, word[i], i / 2 + 1, "eu", AH_TR_UDP);
        /* The four flows' last answers before the step (at step + 1 .. 4 ms
         * - 10 ms) all came from the node the previous step sent them to. */
        ck_assert_str_eq(r->before, from[i]);
        ck_assert_str_eq(r->after, to[i]);
        /* step + 1 .. 4 ms still reach `before`; step + 11 ms is the first
         * answer from the other node. */
        ck_ms(r->switch_ms, 11.0);
        /* 20 per flow in 200 ms; the last window runs to the end, 3 s. */
        ck_assert_uint_eq(r->probes, i < 3 ? 80 : 160);
        ck_assert_uint_eq(r->flips, 4);
        /* Every flow moved off or onto iad, the event's node: none is
         * collateral. */
        ck_assert(r->collateral);
        ck_assert_uint_eq(r->flows_moved_collateral, 0);
    }
    ah_metrics_free(m);
}
END_TEST

/* The same flap seen over TCP: three connections to iad are reset by the
 * withdraw at 2.0 s (their probes at 2.01 .. 2.03 s fail), two new ones to
 * fra are answered from 2.05 s. Before the announce at 2.2 s the broken
 * connections' last probes failed: they say nothing, and the two live ones
 * say fra. (Counting each flow's last ok answer instead would give iad, 3
 * flows to 2.) */
START_TEST(flap_tcp_broken_flows)
{
    struct ah_metrics *m = metrics_mk(3 * S, true);
    metrics_event(m, 2000 * MS, "withdraw", "iad", "flap 1/2");
    metrics_event(m, 2200 * MS, "announce", "iad", "flap 2/2");
    for (uint64_t t = 1 * S; t < 2 * S; t += 100 * MS)
        for (uint64_t c = 1; c <= 3; c++)
            metrics_probe(m, t + c * 10 * MS, "eu", AH_TR_TCP, c, "iad");
    for (uint64_t c = 1; c <= 3; c++)
        metrics_probe(m, 2 * S + c * 10 * MS, "eu", AH_TR_TCP, c, NULL);
    for (uint64_t t = 2050 * MS; t < 2200 * MS; t += 100 * MS)
        for (uint64_t c = 4; c <= 5; c++)
            metrics_probe(m, t + (c - 4) * 10 * MS, "eu", AH_TR_TCP, c, "fra");
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    const struct ah_metrics_row *w = row(m, "withdraw", 1, "eu", AH_TR_TCP);
    ck_assert_str_eq(w->before, "iad");
    ck_assert_str_eq(w->after, "fra");
    const struct ah_metrics_row *a = row(m, "announce", 1, "eu", AH_TR_TCP);
    ck_assert_str_eq(a->before, "fra");
    ah_metrics_free(m);
}
END_TEST

/* Flows moved to the withdrawn node's replacement vs flows moved between
 * two surviving nodes (docs/formats.md, "Worked example: collateral
 * damage"). n1, n2, n3 share the vantage's flows (ECMP); n1 is withdrawn at
 * 2 s. Flow f is probed at k * 10 ms + f ms. */
static const char *ecmp_node(uint64_t f, bool after)
{
    static const char *const before_n[] = {"n1", "n1", "n2", "n2", "n3", "n3"};
    static const char *const after_n[] = {"n2", "n3", "n3", "n2", "n2", "n3"};
    return after ? after_n[f - 1] : before_n[f - 1];
}

START_TEST(collateral_damage)
{
    struct ah_metrics *m = metrics_mk(4 * S, true);
    metrics_event(m, 2 * S, "withdraw", "n1", "");
    for (uint64_t t = 1 * S; t < 4 * S; t += 10 * MS)
        for (uint64_t f = 1; f <= 6; f++)
            metrics_probe(m, t + f * MS, "eu", AH_TR_UDP, f, ecmp_node(f, t >= 2 * S));
    cn(m, 1, 1 * S, 2 * S + 10 * MS, AH_REASON_RESET, "n1"); /* the withdrawn node's own */
    cn(m, 2, 1 * S, 2 * S + 20 * MS, AH_REASON_RESET, "n2"); /* collateral */
    cn(m, 3, 1 * S, 0, AH_REASON_END, "n3");                 /* untouched */
    cn(m, 4, 1 * S, 1500 * MS, AH_REASON_RESET, "n3");       /* broke before the event */
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    const struct ah_metrics_row *r = row(m, "withdraw", 1, "eu", AH_TR_UDP);
    /* Two flows each end on n1, n2, n3: the tie goes to the node of the
     * newest last answer, flow 6's at 1.996 s (n3). */
    ck_assert_str_eq(r->before, "n3");
    ck_ms(r->switch_ms, 1.0);       /* flow 1, answered by n2 at 2.001 s */
    ck_assert_uint_eq(r->flips, 4); /* flows 1, 2, 3, 5 */
    /* Flows 1 and 2 left n1 (the event's node): not collateral. Flow 3 went
     * n2 -> n3 and flow 5 n3 -> n2: collateral. Flows 4 and 6 stayed. */
    ck_assert_uint_eq(r->flows_moved_collateral, 2);
    double v;
    ck_assert_int_eq(ah_metrics_field(r, "flows_moved_collateral", &v), 1);
    ck_ms(v, 2.0);
    ck_assert_int_eq(ah_metrics_field(r, "conns_broken_collateral", &v), 0);
    ck_assert(!ah_metrics_field_applies(r, "conns_broken_collateral"));
    const struct ah_metrics_row *t = row(m, "withdraw", 1, "eu", AH_TR_TCP);
    ck_assert_uint_eq(t->conns_at_event, 3);          /* 1, 2, 3 */
    ck_assert_uint_eq(t->conns_broken, 2);            /* 1, 2 */
    ck_assert_uint_eq(t->conns_broken_collateral, 1); /* 2, on n2 */
    ck_assert_int_eq(ah_metrics_field(t, "conns_broken_collateral", &v), 1);
    ck_ms(v, 1.0);
    ck_assert_int_eq(ah_metrics_field(t, "flows_moved_collateral", &v), 0);
    /* Run rows have no event node: empty, and no expectation judges them. */
    const struct ah_metrics_row *run = row(m, "run", 1, "eu", AH_TR_UDP);
    ck_assert_int_eq(ah_metrics_field(run, "flows_moved_collateral", &v), 0);
    ck_assert(!ah_metrics_field_applies(run, "flows_moved_collateral"));
    ah_metrics_free(m);
}
END_TEST

/* A connection the prober saw close less than a probe interval before an
 * action on its node was closed by that action (the lab reads the action's
 * acknowledgement after it took effect); other closes stay where they fall
 * (docs/formats.md, `conns_broken`). */
START_TEST(close_before_ack)
{
    struct ah_metrics *m = metrics_mk(5 * S, false);
    metrics_event(m, 2 * S, "withdraw", "ams", "");
    metrics_event(m, 4 * S, "stop", "nyc", "pid 7 SIGKILL");
    for (uint64_t t = 1 * S; t < 5 * S; t += 100 * MS) /* the interval: 100 ms */
        metrics_probe(m, t, "eu", AH_TR_TCP, 99, "nyc");
    cn(m, 1, 1 * S, 3950 * MS, AH_REASON_RESET, "nyc"); /* 50 ms before stop nyc */
    cn(m, 2, 1 * S, 3500 * MS, AH_REASON_RESET, "nyc"); /* 500 ms before: stays */
    cn(m, 3, 1 * S, 3950 * MS, AH_REASON_RESET, "ams"); /* not the stop's node */
    cn(m, 4, 1 * S, 4020 * MS, AH_REASON_RESET, "nyc"); /* after stop nyc */
    /* 150 ms before stop nyc, but probed every 150 ms itself (19 ok probes
     * over its 2.85 s): within its own interval. */
    struct ah_metrics_conn c5 = {
        5, "eu", AH_SVC_ECHO, T0 + 1 * S, T0 + 3850 * MS, "nyc", AH_REASON_RESET, 19, AH_FAM_IPV4};
    ck_assert_int_eq(ah_metrics_add_conn(m, &c5), 0);
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    const struct ah_metrics_row *w = row(m, "withdraw", 1, "eu", AH_TR_TCP);
    ck_assert_uint_eq(w->conns_at_event, 5);
    ck_assert_uint_eq(w->conns_broken, 2);            /* 2, 3 */
    ck_assert_uint_eq(w->conns_broken_collateral, 1); /* 2, on nyc */
    const struct ah_metrics_row *s = row(m, "stop", 1, "eu", AH_TR_TCP);
    ck_assert_uint_eq(s->conns_at_event, 3); /* 1 and 5 (held until the stop), 4 */
    ck_assert_uint_eq(s->conns_broken, 3);
    ck_assert_uint_eq(s->conns_broken_collateral, 0);
    ck_assert_msg(s->break_ms_p50 < 0.001, "break_ms_p50 %f", s->break_ms_p50); /* at the stop */
    ck_ms(s->break_ms_max, 20.0);
    ah_metrics_free(m);
}
END_TEST

/* Probes a rate limiter answered count in lost and in ratelimited; other
 * losses only in lost; windows and the run row alike. */
START_TEST(ratelimited_counted_apart)
{
    struct ah_metrics *m = metrics_mk(4 * S, false);
    metrics_event(m, 2 * S, "withdraw", "ams", "");
    for (uint64_t t = 0; t < 4 * S; t += 100 * MS) {
        unsigned k = (unsigned)(t / (100 * MS)) % 4;
        struct ah_metrics_probe p = {
            .ts_ns = T0 + t,
            .vantage = "eu",
            .transport = AH_TR_UDP,
            .service = AH_SVC_DNS,
            .conn = 1,
            .result = k == 0   ? AH_RES_RATELIMITED
                      : k == 1 ? AH_RES_TIMEOUT
                               : AH_RES_OK,
            .node = k >= 2 ? "ams" : NULL,
        };
        ck_assert_int_eq(ah_metrics_add_probe(m, &p), 0);
    }
    ck_assert_int_eq(ah_metrics_finish(m), 0);
    const struct ah_metrics_row *w = row(m, "withdraw", 1, "eu", AH_TR_UDP);
    ck_assert_uint_eq(w->probes, 20);
    ck_assert_uint_eq(w->lost, 10);
    ck_assert_uint_eq(w->ratelimited, 5);
    double v;
    ck_assert_int_eq(ah_metrics_field(w, "ratelimited", &v), 1);
    ck_assert(v == 5.0);
    const struct ah_metrics_row *run = row(m, "run", 1, "eu", AH_TR_UDP);
    ck_assert_uint_eq(run->ratelimited, 10);
    ah_metrics_free(m);
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, outage_never_recovers);
    tcase_add_test(tc, ratelimited_counted_apart);
    tcase_add_test(tc, event_without_probes);
    tcase_add_test(tc, flips_one_flow);
    tcase_add_test(tc, two_events_10ms_apart);
    tcase_add_test(tc, connections_before_after);
    tcase_add_test(tc, switch_and_ground_truth);
    tcase_add_test(tc, events_after_probes_rejected);
    tcase_add_test(tc, words);
    tcase_add_test(tc, rtt_window_and_baseline);
    tcase_add_test(tc, rtt_small_and_empty);
    tcase_add_test(tc, flap_200ms_steps);
    tcase_add_test(tc, flap_tcp_broken_flows);
    tcase_add_test(tc, collateral_damage);
    tcase_add_test(tc, close_before_ack);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(metrics_suite)
