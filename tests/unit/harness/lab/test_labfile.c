/* Unit tests for the lab file loader (harness/labfile*.c): the example labs
 * load into the model with the right values and defaults, and every bad
 * fixture under tests/labs/ gives exactly its "FILE:LINE:COL: message" list
 * with nothing built. Run from the repository root (tests/run.sh does). */
#include "harness/lab/lab.h"
#include "tests/unit/check_main.h"
#include "tests/unit/harness/lab/labfile_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ah/clock.h"

#define SEC  AH_NS_PER_S
#define MSEC AH_NS_PER_MS

START_TEST(quickstart)
{
    struct lab *lab = load_ok("labs/quickstart.yaml");
    ck_assert_str_eq(lab->name, "quickstart");
    ck_assert_str_eq(lab->path, "labs/quickstart.yaml");
    ck_assert_uint_eq(lab->nanycast, 2);
    addr_is(&lab->anycast[0], "198.51.100.53");
    addr_is(&lab->anycast[1], "2001:db8:53::53");
    ck_assert_int_eq(ah_addr_family(&lab->anycast[1]), AF_INET6);
    ck_assert_int_eq(lab->routing, LAB_ROUTING_STATIC);
    ck_assert_uint_eq(lab->duration_ns, 12 * SEC);
    ck_assert_uint_eq(lab->nnodes, 3);
    ck_assert_str_eq(lab->nodes[0].name, "ams");
    ck_assert_str_eq(lab->nodes[2].name, "sin");
    ck_assert_int_eq(lab->nodes[2].responder, LAB_RESPONDER_BUILTIN);
    ck_assert(!lab->nodes[0].healthcheck.enabled);
    ck_assert_uint_eq(lab->nvantages, 2);
    const struct lab_vantage *us = &lab->vantages[lab_vantage_index(lab, "us")];
    ck_assert_str_eq(us->name, "us");
    ck_assert_uint_eq(us->nprefer, 3);
    ck_assert_uint_eq(us->prefer[0], 1); /* nyc */
    ck_assert_uint_eq(us->prefer[1], 0); /* ams */
    ck_assert_uint_eq(us->prefer[2], 2); /* sin */
    ck_assert(lab->udp.enabled);
    ck_assert(lab->udp.service[AH_SVC_DNS]);
    ck_assert_uint_eq(lab->udp.rate, 500);
    ck_assert_uint_eq(lab->udp.flows, 8);
    ck_assert_uint_eq(lab->udp.timeout_ns, SEC);
    ck_assert(lab->tcp.enabled);
    ck_assert(lab->tcp.service[AH_SVC_ECHO]);
    ck_assert_uint_eq(lab->tcp.connections, 50);
    ck_assert_uint_eq(lab->tcp.interval_ns, 100 * MSEC);
    ck_assert_uint_eq(lab->ndrill, 5);
    ck_assert_int_eq(lab->drill[0].verb, AH_VERB_WITHDRAW);
    ck_assert_uint_eq(lab->drill[0].at_ns, 2 * SEC);
    ck_assert_uint_eq(lab->drill[0].node, 0);
    ck_assert_int_eq(lab->drill[2].verb, AH_VERB_STOP);
    ck_assert_uint_eq(lab->drill[2].node, 1);
    const struct lab_event *flap = &lab->drill[4];
    ck_assert_int_eq(flap->verb, AH_VERB_FLAP);
    ck_assert_uint_eq(flap->node, 2);
    ck_assert_uint_eq(flap->at_ns, 10 * SEC);
    ck_assert_uint_eq(flap->flap_count, 3);
    ck_assert_uint_eq(flap->flap_down_ns, 200 * MSEC);
    ck_assert_uint_eq(flap->flap_up_ns, 300 * MSEC);
    ck_assert_uint_eq(lab->nexpect, 2);
    ck_assert_str_eq(lab->expect[0].text, "eu udp after withdraw ams answered-by nyc");
    ck_assert_uint_eq(lab->expect[0].line, lab->drill[4].line + 2);
    ck_assert_uint_eq(lab->expect[0].col, 6); /* after `  - "` */
    lab_free(lab);
}
END_TEST

/* Every example lab of labs/ loads cleanly and is short enough for CI. */
START_TEST(example_labs)
{
    static const char *const files[] = {
        "labs/quickstart.yaml", "labs/ecmp.yaml",     "labs/ecmp-resilient.yaml",
        "labs/linkdown.yaml",   "labs/nsd-knot.yaml", "labs/tracked.yaml",
        "labs/bgp.yaml",        "labs/bgp-bfd.yaml"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct lab *lab = load_ok(files[i]);
        ck_assert_uint_le(lab->duration_ns, 15 * SEC);
        lab_free(lab);
    }
}
END_TEST

/* ecmp.yaml and ecmp-resilient.yaml differ in routing only. */
START_TEST(ecmp_pair)
{
    struct lab *a = load_ok("labs/ecmp.yaml"), *b = load_ok("labs/ecmp-resilient.yaml");
    ck_assert_int_eq(a->routing, LAB_ROUTING_ECMP);
    ck_assert_int_eq(b->routing, LAB_ROUTING_ECMP_RESILIENT);
    ck_assert_uint_eq(a->ndrill, b->ndrill);
    for (size_t i = 0; i < a->ndrill; i++) {
        ck_assert_int_eq(a->drill[i].verb, b->drill[i].verb);
        ck_assert_uint_eq(a->drill[i].at_ns, b->drill[i].at_ns);
        ck_assert_str_eq(a->nodes[a->drill[i].node].name, b->nodes[b->drill[i].node].name);
    }
    ck_assert_uint_eq(a->nnodes, b->nnodes);
    ck_assert_uint_eq(a->udp.rate, b->udp.rate);
    ck_assert_uint_eq(a->tcp.connections, b->tcp.connections);
    lab_free(a);
    lab_free(b);
}
END_TEST

START_TEST(nsd_knot)
{
    struct lab *lab = load_ok("labs/nsd-knot.yaml");
    ck_assert_int_eq(lab->nodes[lab_node_index(lab, "nsd1")].responder, LAB_RESPONDER_NSD);
    ck_assert_int_eq(lab->nodes[lab_node_index(lab, "knot1")].responder, LAB_RESPONDER_KNOT);
    ck_assert(lab->tcp.service[AH_SVC_DNS]);
    lab_free(lab);
}
END_TEST

START_TEST(minimal_defaults)
{
    struct lab *lab = load_ok("tests/labs/good-minimal.yaml");
    ck_assert_uint_eq(lab->nanycast, 1); /* a bare address instead of a list */
    addr_is(&lab->anycast[0], "198.51.100.1");
    ck_assert_int_eq(lab->routing, LAB_ROUTING_STATIC);
    ck_assert_int_eq(lab->nodes[0].responder, LAB_RESPONDER_BUILTIN);
    ck_assert_ptr_null(lab->nodes[0].command);
    ck_assert_uint_eq(lab->vantages[0].nprefer, 1);
    ck_assert_uint_eq(lab->vantages[0].prefer[0], 0);
    /* No probes section: UDP DNS and TCP echo with their defaults. */
    ck_assert(lab->udp.enabled);
    ck_assert(lab->udp.service[AH_SVC_DNS]);
    ck_assert_uint_eq(lab->udp.rate, 100);
    ck_assert_uint_eq(lab->udp.flows, 4);
    ck_assert_uint_eq(lab->udp.timeout_ns, SEC);
    ck_assert(lab->tcp.enabled);
    ck_assert(lab->tcp.service[AH_SVC_ECHO]);
    ck_assert_uint_eq(lab->tcp.connections, 10);
    ck_assert_uint_eq(lab->tcp.interval_ns, 100 * MSEC);
    ck_assert_uint_eq(lab->tcp.timeout_ns, SEC);
    ck_assert_uint_eq(lab->ndrill, 0);
    ck_assert_ptr_null(lab->drill);
    ck_assert_uint_eq(lab->nexpect, 0);
    lab_free(lab);
}
END_TEST

START_TEST(full_values)
{
    struct lab *lab = load_ok("tests/labs/good-full.yaml");
    ck_assert_str_eq(lab->name, "full_lab-1");
    ck_assert_uint_eq(lab->nanycast, 3);
    addr_is(&lab->anycast[2], "198.51.100.54");
    ck_assert_uint_eq(lab->duration_ns, 90 * SEC);
    const struct lab_node *nyc = &lab->nodes[1];
    ck_assert_int_eq(nyc->responder, LAB_RESPONDER_COMMAND);
    ck_assert_str_eq(nyc->command, "/usr/bin/my-server --id {node} --listen {addr}");
    ck_assert_uint_eq(nyc->line, 12);
    ck_assert_uint_eq(nyc->col, 5);
    ck_assert_int_eq(lab->nodes[2].responder, LAB_RESPONDER_NSD);
    ck_assert_int_eq(lab->nodes[3].responder, LAB_RESPONDER_KNOT);
    /* A subset in prefer, and the default (all nodes in file order). */
    const struct lab_vantage *eu = &lab->vantages[0], *us = &lab->vantages[1];
    ck_assert_uint_eq(eu->nprefer, 2);
    ck_assert_uint_eq(eu->prefer[0], 3);
    ck_assert_uint_eq(eu->prefer[1], 0);
    ck_assert_uint_eq(us->nprefer, 4);
    for (size_t i = 0; i < 4; i++)
        ck_assert_uint_eq(us->prefer[i], i);
    ck_assert_uint_eq(lab->udp.rate, 1000000);
    ck_assert_uint_eq(lab->udp.flows, 1024);
    ck_assert_uint_eq(lab->udp.timeout_ns, 250 * MSEC);
    ck_assert(lab->tcp.service[AH_SVC_DNS]);
    ck_assert_uint_eq(lab->tcp.connections, 100000);
    ck_assert_uint_eq(lab->tcp.interval_ns, MSEC);
    ck_assert_uint_eq(lab->tcp.timeout_ns, 60 * SEC);
    ck_assert_uint_eq(lab->ndrill, 11);
    static const enum ah_verb verbs[] = {AH_VERB_WITHDRAW,  AH_VERB_ANNOUNCE, AH_VERB_STOP,
                                         AH_VERB_START,     AH_VERB_PAUSE,    AH_VERB_RESUME,
                                         AH_VERB_LINK_DOWN, AH_VERB_LINK_UP,  AH_VERB_FLAP,
                                         AH_VERB_FLAP,      AH_VERB_WITHDRAW};
    for (size_t i = 0; i < 11; i++)
        ck_assert_int_eq(lab->drill[i].verb, verbs[i]);
    ck_assert_uint_eq(lab->drill[8].line, 34); /* a block mapping event */
    ck_assert_uint_eq(lab->drill[8].flap_count, 2);
    ck_assert_uint_eq(lab->drill[8].flap_down_ns, 100 * MSEC);
    ck_assert_uint_eq(lab->drill[8].flap_up_ns, 400 * MSEC);
    /* flap: NODE takes count 1, down 1s, up 1s. */
    ck_assert_uint_eq(lab->drill[9].node, 1);
    ck_assert_uint_eq(lab->drill[9].flap_count, 1);
    ck_assert_uint_eq(lab->drill[9].flap_down_ns, SEC);
    ck_assert_uint_eq(lab->drill[9].flap_up_ns, SEC);
    ck_assert_uint_eq(lab->nexpect, 3);
    ck_assert_str_eq(lab->expect[1].text, "eu tcp flips <= 3");
    ck_assert_uint_eq(lab->expect[1].col, 5); /* plain: no quote to skip */
    ck_assert_str_eq(lab->expect[2].text, "us * never-answered-by sin");
    ck_assert_uint_eq(lab->expect[2].col, 6);
    lab_free(lab);
}
END_TEST

/* routing: tracked and bgp with every key (docs/routing.md). */
START_TEST(tracked_and_bgp)
{
    struct lab *lab = load_ok("tests/labs/good-tracked.yaml");
    ck_assert_int_eq(lab->routing, LAB_ROUTING_TRACKED);
    ck_assert_int_eq(lab->track.service, AH_SVC_ECHO);
    ck_assert_uint_eq(lab->track.frequency_ns, SEC);
    ck_assert_uint_eq(lab->track.timeout_ns, 500 * MSEC);
    ck_assert_uint_eq(lab->track.down, 3);
    ck_assert_uint_eq(lab->track.up, 2);
    ck_assert_uint_eq(lab->track.delay_up_ns, 2 * SEC);
    lab_free(lab);
    lab = load_ok("tests/labs/good-bgp.yaml");
    ck_assert_int_eq(lab->routing, LAB_ROUTING_BGP);
    ck_assert_uint_eq(lab->bgp.hold_ns, 9 * SEC);
    ck_assert_uint_eq(lab->bgp.keepalive_ns, 3 * SEC);
    ck_assert(lab->bgp.bfd);
    ck_assert_uint_eq(lab->bgp.bfd_interval_ns, 100 * MSEC);
    ck_assert_uint_eq(lab->bgp.bfd_multiplier, 3);
    ck_assert(lab->bgp.multipath);
    ck_assert(lab->nodes[0].healthcheck.enabled);
    ck_assert_uint_eq(lab->nodes[0].healthcheck.rise, 3);
    ck_assert_uint_eq(lab->nodes[0].healthcheck.fall, 1);
    ck_assert_int_eq(lab->drill[2].verb, AH_VERB_KILL_BGP);
    lab_free(lab);
}
END_TEST

/* Anchors and aliases are YAML, so they work. */
START_TEST(aliases)
{
    char path[] = "/tmp/ah-test-labfile-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("name: alias\nanycast: [198.51.100.9]\nduration: 3s\n"
          "nodes: [{name: a, responder: &r nsd}, {name: b, responder: *r}]\n"
          "vantages: [{name: v, prefer: &p [b, a]}, {name: w, prefer: *p}]\n"
          "probes: {udp: {}}\n",
          f);
    fclose(f);
    struct lab *lab = NULL;
    int rc = lab_load(path, &lab, NULL);
    unlink(path);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(lab->nodes[1].responder, LAB_RESPONDER_NSD);
    ck_assert_uint_eq(lab->vantages[1].prefer[0], 1);
    ck_assert(lab->udp.enabled);
    ck_assert(!lab->tcp.enabled); /* a probes section without tcp */
    lab_free(lab);
}
END_TEST

/* The bad fixtures and every message each must give, in order. */
static const struct bad_case bad_cases[] = {
    {"bad-anycast.yaml",
     {":2:11: anycast: 192.0.2.1 is outside the lab's anycast ranges 198.51.100.0/24 and "
      "2001:db8:53::/48",
      ":2:36: anycast: 2001:db8::53 is outside the lab's anycast ranges 198.51.100.0/24 and "
      "2001:db8:53::/48",
      ":2:52: anycast: \"not-an-ip\" is not an IPv4 or IPv6 address",
      ":2:81: anycast: 198.51.101.1 is outside the lab's anycast ranges 198.51.100.0/24 and "
      "2001:db8:53::/48"}},
    {"bad-bounds.yaml",
     {":3:11: duration: 25h is out of range (1s..24h)",
      ":9:18: probes.udp.service: unknown value \"http\" (one of: dns, echo)",
      ":9:30: probes.udp.rate: 0 is out of range (1..1000000)",
      ":9:40: probes.udp.flows: 2000 is out of range (1..1024)",
      ":10:22: probes.tcp.connections: 100001 is out of range (0..100000)",
      ":10:40: probes.tcp.interval: 2m is out of range (1ms..1m)",
      ":12:37: flap.count: 0 is out of range (1..1000)"}},
    {"bad-deep-block.yaml", {":69:65: nested more than 64 lists or mappings deep"}},
    {"bad-deep-flow.yaml", {":5:71: nested more than 64 lists or mappings deep"}},
    {"bad-drill-time.yaml",
     {":11:10: drill: at 1s comes before the previous event (2s, line 10); list events in time "
      "order",
      ":13:14: drill: withdraw of b at 4s falls inside the flap of b (3s..7s, line 12)",
      ":15:14: drill: flap of a from 8s runs until 12s (count x (down + up)), past duration 10s",
      ":16:10: drill: at 10s is not before the end of the run (duration 10s)"}},
    {"bad-duplicate.yaml",
     {":2:26: anycast: 198.51.100.53 is listed twice (first at 2:11)",
      ":7:11: duplicate node name \"a\" (first at 5:5)",
      ":10:20: prefer: node \"a\" is listed twice (first at 10:14)",
      ":11:11: duplicate vantage name \"v\" (first at 9:5)",
      ":12:11: vantage name \"b\" is also a node name (node at 6:5); nodes and vantages need "
      "distinct names",
      ":13:1: duplicate key \"duration\" in the lab file (first at 3:1)"}},
    {"bad-duration.yaml",
     {":3:11: duration: bad duration \"12x\" (write e.g. 250ms, 2s, 1.5s, 1m)",
      ":9:18: probes.udp.timeout: bad duration \"-1s\" (write e.g. 250ms, 2s, 1.5s, 1m)",
      ":10:19: probes.tcp.interval: 0s is out of range (1ms..1m)",
      ":10:32: probes.tcp.timeout: 2m is out of range (1ms..1m)",
      ":12:10: drill.at: bad duration \"soon\" (write e.g. 250ms, 2s, 1.5s, 1m)",
      ":13:45: flap.up: bad duration \"1e3s\" (write e.g. 250ms, 2s, 1.5s, 1m)"}},
    {"bad-echo-nsd.yaml",
     {":5:5: node \"a\": responder nsd answers DNS only, but probes.tcp uses service echo; use "
      "service: dns"}},
    {"bad-empty.yaml", {":1:1: the lab file is empty"}},
    {"bad-enum.yaml",
     {":3:10: routing: unknown value \"ospf\" (one of: static, ecmp, ecmp-resilient, tracked, bgp)",
      ":7:16: responder: unknown value \"powerdns\" (one of: builtin, nsd, knot, bind, unbound, "
      "pdns)",
      ":9:16: responder: write a command as {command: \"...\"}",
      ":11:26: responder.command: is empty",
      ":15:18: probes.tcp.service: unknown value \"http\" (one of: dns, echo)"}},
    {"bad-missing.yaml",
     {":1:1: missing required key \"duration\" in the lab file",
      ":4:5: missing required key \"name\" in node",
      ":7:5: missing required key \"name\" in vantage",
      ":9:5: missing required key \"at\" in drill event",
      ":10:5: drill event needs a verb (withdraw, announce, flap, stop, start, pause, resume, "
      "link-down, link-up, kill-bgp, start-bgp, pause-bgp, resume-bgp, delay, run)",
      ":11:20: missing required key \"node\" in flap"}},
    {"bad-multidoc.yaml", {":7:1: only one YAML document per lab file"}},
    {"bad-names.yaml",
     {":1:7: name: bad name \"my lab\": use 1 to 31 letters, digits, '_' or '-' (namespace names "
      "are made from it)",
      ":5:11: node name: bad name \"a.b\": use 1 to 31 letters, digits, '_' or '-' (namespace "
      "names are made from it)",
      ":6:11: node name: bad name \"abcdefghijklmnopqrstuvwxyz0123456\": use 1 to 31 letters, "
      "digits, '_' or '-' (namespace names are made from it)",
      ":7:11: node name: bad name \"\": use 1 to 31 letters, digits, '_' or '-' (namespace names "
      "are made from it)"}},
    {"bad-root.yaml",
     {":1:1: a lab file is a mapping of keys (name, anycast, nodes, ...), got a list"}},
    {"bad-routing-keys.yaml",
     {":5:13: bgp.hold: 1500ms is out of range (3s..65535s)",
      ":5:52: bgp.bfd.interval: 0ms is out of range (1ms..10s)",
      ":5:69: bgp.bfd.multiplier: 300 is out of range (1..255)",
      ":5:86: bgp.multipath: unknown value \"maybe\" (one of: true, false, yes, no, on, off, True, "
      "False)",
      ":8:42: healthcheck.timeout 2s is longer than healthcheck.interval 1s",
      ":8:52: healthcheck.rise: 0 is out of range (1..100)"}},
    {"bad-routing-mode.yaml",
     {":5:1: track: only used with routing: tracked (routing is ecmp)",
      ":6:1: bgp: only used with routing: bgp (routing is ecmp)",
      ":9:5: healthcheck: only used with routing: bgp (routing is ecmp)",
      ":13:14: drill: kill-bgp needs routing: bgp (routing is ecmp)",
      ":14:14: drill: start-bgp needs routing: bgp (routing is ecmp)"}},
    {"bad-syntax.yaml",
     {":3:9: YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 2)\n"
      "    3 | duration: 5s\n"
      "      |         ^"}},
    {"bad-indent.yaml",
     {":7:4: YAML: did not find expected '-' indicator (while parsing a block collection at "
      "line 5) (check this line's indentation against the lines above it)\n"
      "    7 |    prefer: [a]\n"
      "      |    ^"}},
    {"bad-tracked.yaml",
     {":5:18: track.service: unknown value \"ping\" (one of: dns, echo)",
      ":5:48: track.timeout 2s is longer than track.frequency 1s",
      ":5:58: track.down: 0 is out of range (1..100)",
      ":5:71: track.delay-up: bad duration \"x\" (write e.g. 250ms, 2s, 1.5s, 1m)"}},
    {"bad-type.yaml",
     {":1:7: name: expected a single value, got a list",
      ":2:10: anycast: expected a list, got a mapping",
      ":5:3: nodes: expected a list, got a mapping", ":8:13: prefer: expected a list, got \"a\"",
      ":9:9: probes: expected a mapping (key: value), got a list",
      ":11:5: expect: expected a string, got a mapping (quote the expectation)"}},
    {"bad-unknown-key.yaml",
     {":3:1: unknown key \"duraton\" in the lab file: did you mean \"duration\"? (known: name, "
      "anycast, routing, duration, "
      "nodes, vantages, probes, drill, expect, track, bgp, tolerance, kind, on-failure, ssh, "
      "atlas, step-timeout)",
      ":7:5: unknown key \"respnder\" in node: did you mean \"responder\"? (known: name, "
      "responder, healthcheck, host, actions, "
      "ssh)",
      ":10:5: unknown key \"prefers\" in vantage: did you mean \"prefer\"? (known: name, prefer, "
      "host, probe, ssh, routing)",
      ":12:19: unknown key \"flow\" in probes.udp: did you mean \"flows\"? (known: service, rate, "
      "flows, timeout)",
      ":14:5: drill event needs a verb (withdraw, announce, flap, stop, start, pause, resume, "
      "link-down, link-up, kill-bgp, start-bgp, pause-bgp, resume-bgp, delay, run)",
      ":14:14: unknown key \"withdrw\" in drill event: did you mean \"withdraw\"? (known: at, "
      "withdraw, announce, flap, stop, "
      "start, pause, resume, link-down, link-up, kill-bgp, start-bgp, pause-bgp, resume-bgp, "
      "delay, run)",
      ":15:30: unknown key \"cnt\" in flap (known: node, count, down, up)"}},
    {"bad-unknown-node.yaml",
     {":9:19: unknown node \"lon\" in prefer (nodes: ams, nyc)",
      ":12:24: unknown node \"nyc2\" in drill: did you mean \"nyc\"? (nodes: ams, nyc)",
      ":13:27: unknown node \"sin\" in drill (nodes: ams, nyc)"}},
    {"bad-utf8.yaml", {":2:1: YAML: invalid leading UTF-8 octet"}},
    {"bad-verbs.yaml",
     {":10:27: drill event has two verbs, withdraw and stop: write one event per verb",
      ":11:5: drill event needs a verb (withdraw, announce, flap, stop, start, pause, resume, "
      "link-down, link-up, kill-bgp, start-bgp, pause-bgp, resume-bgp, delay, run)",
      ":12:5: drill event: expected a mapping (key: value), got a list"}},
    {"bad-probes.yaml",
     {":7:1: probes: nothing would be sent: give udp, or tcp with connections > 0 (leave probes "
      "out for both with their defaults)"}},
};

START_TEST(bad_files)
{
    check_bad(&bad_cases[_i]);
}
END_TEST

START_TEST(missing_file)
{
    struct lab *lab = NULL;
    struct lab_diag d = {0};
    ck_assert_int_eq(lab_load("/nonexistent/lab.yaml", &lab, &d), -ENOENT);
    ck_assert_ptr_null(lab);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.msgs[0], "/nonexistent/lab.yaml: cannot open: No such file or directory");
    lab_diag_free(&d);
}
END_TEST

/* Messages of several loads accumulate in one diag, each load's sorted. */
START_TEST(diag_appends)
{
    struct lab *lab = NULL;
    struct lab_diag d = {0};
    to_root();
    ck_assert_int_eq(lab_load("tests/labs/bad-root.yaml", &lab, &d), -EINVAL);
    ck_assert_int_eq(lab_load("tests/labs/bad-empty.yaml", &lab, &d), -EINVAL);
    ck_assert_int_eq(lab_load("tests/labs/bad-syntax.yaml", &lab, NULL), -EINVAL);
    ck_assert_uint_eq(d.n, 2);
    ck_assert_ptr_nonnull(strstr(d.msgs[0], "bad-root.yaml:1:1: "));
    ck_assert_ptr_nonnull(strstr(d.msgs[1], "bad-empty.yaml:1:1: "));
    lab_diag_free(&d);
}
END_TEST

/* Writes head, then nitems lines pre<i>post, to a new temporary file. */
/* A lab file in memory: no NUL at the end, its name in messages. */
START_TEST(from_buffer)
{
    static const char text[] = "name: mem\nanycast: [198.51.100.2]\nduration: 2s\n"
                               "nodes: [{name: a}]\nvantages: [{name: v}]\nrouting: ecmpX";
    struct lab *lab = NULL;
    struct lab_diag d = {0};
    /* Cut before the last character: "ecmp", valid. */
    ck_assert_int_eq(lab_load_buffer("<mem>", text, sizeof(text) - 2, &lab, &d), 0);
    ck_assert_int_eq(lab->routing, LAB_ROUTING_ECMP);
    ck_assert_str_eq(lab->path, "<mem>");
    lab_free(lab);
    ck_assert_int_eq(lab_load_buffer("<mem>", text, sizeof(text) - 1, &lab, &d), -EINVAL);
    ck_assert_ptr_null(lab);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.msgs[0], "<mem>:6:10: routing: unknown value \"ecmpX\" (one of: static, "
                                "ecmp, ecmp-resilient, tracked, bgp)");
    lab_diag_free(&d);
}
END_TEST

/* service: one word or a list of distinct services, per transport. */
#define SVC_HEAD                                                                                   \
    "name: s\nanycast: [198.51.100.2]\nduration: 2s\nnodes: [{name: a}]\n"                         \
    "vantages: [{name: v}]\n"

static void services_load(const char *probes, int want_rc, struct lab **lab, struct lab_diag *d)
{
    char text[512];
    snprintf(text, sizeof text, "%sprobes: %s\n", SVC_HEAD, probes);
    ck_assert_int_eq(lab_load_buffer("<mem>", text, strlen(text), lab, d), want_rc);
}

START_TEST(service_lists)
{
    struct lab *lab = NULL;
    struct lab_diag d = {0};
    char buf[32];
    services_load("{udp: {service: [dns, echo]}, tcp: {service: [echo], connections: 1}}", 0, &lab,
                  &d);
    ck_assert(lab->udp.service[AH_SVC_DNS] && lab->udp.service[AH_SVC_ECHO]);
    ck_assert(!lab->tcp.service[AH_SVC_DNS] && lab->tcp.service[AH_SVC_ECHO]);
    ck_assert_str_eq(lab_services_format(lab->udp.service, buf, sizeof buf), "dns, echo");
    ck_assert(lab_probes_split(lab));
    ck_assert(lab_probes_service(lab, AH_SVC_DNS));
    lab_free(lab);
    services_load("{udp: {service: [echo, dns]}, tcp: {service: [dns, echo], connections: 1}}", 0,
                  &lab, &d);
    ck_assert(!lab_probes_split(lab));
    ck_assert_int_eq(lab_services_first(lab->tcp.service), AH_SVC_DNS);
    lab_free(lab);
    services_load("{udp: {service: echo}}", 0, &lab, &d);
    ck_assert(!lab->udp.service[AH_SVC_DNS] && lab->udp.service[AH_SVC_ECHO]);
    ck_assert(!lab_probes_service(lab, AH_SVC_DNS));
    ck_assert_str_eq(lab_services_format(lab->udp.service, buf, sizeof buf), "echo");
    lab_free(lab);
    ck_assert_uint_eq(d.n, 0);
}
END_TEST

START_TEST(service_list_errors)
{
    struct lab *lab = NULL;
    struct lab_diag d = {0};
    services_load("{udp: {service: []}}", -EINVAL, &lab, &d);
    services_load("{udp: {service: [dns, echo, dns]}}", -EINVAL, &lab, &d);
    services_load("{tcp: {service: [dns, http, {x: 1}]}}", -EINVAL, &lab, &d);
    services_load("{udp: {service: {dns: 1}}}", -EINVAL, &lab, &d);
    ck_assert_ptr_null(lab);
    ck_assert_uint_eq(d.n, 5);
    ck_assert_str_eq(d.msgs[0], "<mem>:6:25: probes.udp.service: empty list: give at least one "
                                "service");
    ck_assert_str_eq(d.msgs[1], "<mem>:6:37: probes.udp.service: duplicate service dns (first "
                                "at 6:26)");
    ck_assert_str_eq(d.msgs[2], "<mem>:6:31: probes.tcp.service: unknown value \"http\" (one "
                                "of: dns, echo)");
    ck_assert_ptr_nonnull(strstr(d.msgs[3], "<mem>:6:37: probes.tcp.service: "));
    ck_assert_ptr_nonnull(strstr(d.msgs[4], "<mem>:6:25: probes.udp.service: "));
    lab_diag_free(&d);
}
END_TEST

START_TEST(diag_addf)
{
    struct lab_diag d = {0};
    ck_assert_int_eq(lab_diag_addf(&d, "x.yaml", 31, 7, "bad %s \"%d\"", "metric", 42), 0);
    ck_assert_int_eq(lab_diag_addf(&d, "x.yaml", 0, 0, "cannot open"), 0);
    ck_assert_uint_eq(d.n, 2);
    ck_assert_str_eq(d.msgs[0], "x.yaml:31:7: bad metric \"42\"");
    ck_assert_str_eq(d.msgs[1], "x.yaml: cannot open");
    lab_diag_free(&d);
}
END_TEST

static char *write_temp(const char *head, const char *pre, const char *post, int nitems)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/ah-test-labfile-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fputs(head, f);
    for (int i = 0; i < nitems; i++)
        fprintf(f, "%s%d%s", pre, i, post);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

/* Errors beyond LAB_DIAG_MAX are counted, not kept. */
START_TEST(error_cap)
{
    char *path = write_temp("name: many\nanycast: [198.51.100.1]\nduration: 5s\n"
                            "vantages: [{name: v}]\nnodes:\n",
                            "  - name: bad.", "\n", 150);
    struct lab *lab = NULL;
    struct lab_diag d = {0};
    ck_assert_int_eq(lab_load(path, &lab, &d), -EINVAL);
    unlink(path);
    ck_assert_ptr_null(lab);
    ck_assert_uint_eq(d.n, LAB_DIAG_MAX + 1);
    ck_assert_ptr_nonnull(strstr(d.msgs[0], ":6:11: node name: bad name \"bad.0\""));
    ck_assert_ptr_nonnull(strstr(d.msgs[LAB_DIAG_MAX], ": 50 more errors not shown"));
    lab_diag_free(&d);
}
END_TEST

/* The node limit, and a file too large to be a lab file. */
START_TEST(limits)
{
    char *path = write_temp("name: big\nanycast: [198.51.100.1]\nduration: 5s\n"
                            "vantages: [{name: v}]\nnodes:\n",
                            "  - name: n", "\n", LAB_NODES_MAX + 1);
    struct lab *lab = NULL;
    struct lab_diag d = {0};
    ck_assert_int_eq(lab_load(path, &lab, &d), -EINVAL);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_ptr_nonnull(strstr(d.msgs[0], ":6:3: nodes: 257 nodes, at most 256"));
    unlink(path);
    lab_diag_free(&d);

    path = write_temp("name: big\nanycast: [198.51.100.1]\nduration: 5s\n"
                      "vantages: [{name: v}]\nnodes:\n",
                      "  - name: n", "\n", LAB_NODES_MAX);
    ck_assert_int_eq(lab_load(path, &lab, &d), 0);
    ck_assert_uint_eq(lab->nnodes, LAB_NODES_MAX);
    ck_assert_uint_eq(lab->vantages[0].nprefer, LAB_NODES_MAX);
    lab_free(lab);
    unlink(path);

    path = write_temp("# padding\n", "# ", " ...................................................\n",
                      20000);
    ck_assert_int_eq(lab_load(path, &lab, &d), -EFBIG);
    ck_assert_ptr_null(lab);
    ck_assert_uint_eq(d.n, 1);
    unlink(path);
    lab_diag_free(&d);
}
END_TEST

START_TEST(names_and_lookups)
{
    static const char *const verbs[] = {
        "withdraw",  "announce", "flap",     "stop",      "start",     "pause",      "resume",
        "link-down", "link-up",  "kill-bgp", "start-bgp", "pause-bgp", "resume-bgp", "delay"};
    for (int v = AH_VERB_WITHDRAW; v <= AH_VERB_DELAY; v++)
        ck_assert_str_eq(ah_schema_verb_name((enum ah_verb)v), verbs[v]);
    ck_assert_str_eq(ah_schema_verb_name((enum ah_verb)99), "?");
    ck_assert_str_eq(lab_routing_name(LAB_ROUTING_STATIC), "static");
    ck_assert_str_eq(lab_routing_name(LAB_ROUTING_ECMP_RESILIENT), "ecmp-resilient");
    ck_assert_str_eq(lab_routing_name(LAB_ROUTING_BGP), "bgp");
    ck_assert_str_eq(ah_service_name(AH_SVC_ECHO), "echo");
    ck_assert_str_eq(ah_service_name((enum ah_service)7), "?");

    struct lab *lab = load_ok("labs/quickstart.yaml");
    ck_assert_int_eq(lab_node_index(lab, "nyc"), 1);
    ck_assert_int_eq(lab_node_index(lab, "lon"), -ENOENT);
    ck_assert_int_eq(lab_node_index(lab, "eu"), -ENOENT);
    ck_assert_int_eq(lab_vantage_index(lab, "eu"), 0);
    ck_assert_int_eq(lab_vantage_index(lab, "ams"), -ENOENT);
    lab_free(lab);
    lab_free(NULL);
    lab_diag_free(NULL);
}
END_TEST

/* Each drill verb written in a lab is read back as that verb (so the key
 * table of the drill parser follows enum ah_verb). */
START_TEST(every_verb)
{
    struct lab *lab = NULL;
    struct lab_diag d = {0};
    for (int v = AH_VERB_WITHDRAW; v <= AH_VERB_RESUME_BGP; v++) {
        char head[256];
        snprintf(head, sizeof(head),
                 "name: verb\nanycast: [198.51.100.1]\nduration: 5s\n"
                 "nodes: [{name: a}]\nvantages: [{name: v}]\ndrill:\n  - {at: 1s, %s: a}\n",
                 ah_schema_verb_name((enum ah_verb)v));
        char *path = write_temp(head, "", "", 0);
        int rc = lab_load(path, &lab, &d);
        unlink(path);
        if (v >= AH_VERB_KILL_BGP) {
            /* Only with routing: bgp. */
            ck_assert_int_eq(rc, -EINVAL);
            ck_assert_uint_eq(d.n, 1);
            ck_assert_ptr_nonnull(strstr(d.msgs[0], "needs routing: bgp (routing is static)"));
            lab_diag_free(&d);
            continue;
        }
        ck_assert_int_eq(rc, 0);
        ck_assert_uint_eq(lab->ndrill, 1);
        ck_assert_int_eq(lab->drill[0].verb, v);
        ck_assert_uint_eq(lab->drill[0].at_ns, SEC);
        lab_free(lab);
    }
}
END_TEST

/* delay: {node, ms} on a builtin responder; ms 0 ends the brown-out. */
START_TEST(delay_verb)
{
    static const char head[] = "name: dly\nanycast: [198.51.100.1]\nduration: 5s\n"
                               "nodes: [{name: a}, {name: b, responder: nsd}]\n"
                               "vantages: [{name: v}]\nprobes: {udp: {service: dns}}\ndrill:\n";
    char text[1024];
    struct lab *lab = NULL;
    struct lab_diag d = {0};
    snprintf(text, sizeof text, "%s%s", head,
             "  - {at: 1s, delay: {node: a, ms: 400}}\n"
             "  - {at: 2s, delay: {node: a, ms: 0}}\n");
    ck_assert_int_eq(lab_load_buffer("<mem>", text, strlen(text), &lab, &d), 0);
    ck_assert_uint_eq(lab->ndrill, 2);
    ck_assert_int_eq(lab->drill[0].verb, AH_VERB_DELAY);
    ck_assert_uint_eq(lab->drill[0].node, 0);
    ck_assert_uint_eq(lab->drill[0].delay_ms, 400);
    ck_assert_uint_eq(lab->drill[0].at_ns, SEC);
    ck_assert_int_eq(lab->drill[1].verb, AH_VERB_DELAY);
    ck_assert_uint_eq(lab->drill[1].delay_ms, 0);
    ck_assert_uint_eq(lab->drill[1].at_ns, 2 * SEC);
    lab_free(lab);

    /* Out of range, an unknown key, a missing ms, a scalar, and NSD (which
     * cannot hold its answers back): each with its FILE:LINE:COL. */
    snprintf(text, sizeof text, "%s%s", head,
             "  - {at: 1s, delay: {node: a, ms: 60001}}\n"
             "  - {at: 1s, delay: {node: a, ms: 5, msec: 5}}\n"
             "  - {at: 1s, delay: {node: a}}\n"
             "  - {at: 1s, delay: a}\n"
             "  - {at: 1s, delay: {node: b, ms: 100}}\n");
    ck_assert_int_eq(lab_load_buffer("<mem>", text, strlen(text), &lab, &d), -EINVAL);
    ck_assert_ptr_null(lab);
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "delay: %s\n", d.msgs[i]);
    ck_assert_uint_eq(d.n, 5);
    ck_assert_str_eq(d.msgs[0], "<mem>:8:35: delay.ms: 60001 is out of range (0..60000)");
    ck_assert_str_eq(d.msgs[1], "<mem>:9:38: unknown key \"msec\" in delay (known: node, ms)");
    ck_assert_str_eq(d.msgs[2], "<mem>:10:21: missing required key \"ms\" in delay");
    ck_assert_str_eq(d.msgs[3], "<mem>:11:21: delay: expected a mapping (key: value), got \"a\"");
    ck_assert_str_eq(d.msgs[4],
                     "<mem>:12:14: drill: delay needs the builtin responder (node b runs nsd)");
    lab_diag_free(&d);
}
END_TEST

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Nesting deeper than LAB_DEPTH_MAX: 1 MiB files of every style, which
 * libyaml alone would take minutes over (its scanner is quadratic in the
 * flow depth), are refused at the first level too deep with its position,
 * fast. The time bound is generous: the check itself takes milliseconds. */
START_TEST(deep_nesting)
{
    enum { SIZE = 1024 * 1024 };
    static const struct {
        const char *unit; /* repeated to fill the file */
        const char *where;
    } styles[] = {
        {"[", "<mem>:1:65: "},     /* flow lists, never closed */
        {"{a: ", "<mem>:1:257: "}, /* flow mappings */
        {"- ", "<mem>:1:129: "},   /* block lists on one line */
    };
    char *text = malloc(SIZE + 1);
    ck_assert_ptr_nonnull(text);
    for (size_t i = 0; i < sizeof(styles) / sizeof(styles[0]); i++) {
        size_t ul = strlen(styles[i].unit), n = 0;
        while (n + ul <= SIZE - 2) {
            memcpy(text + n, styles[i].unit, ul);
            n += ul;
        }
        text[n++] = 'x';
        text[n] = '\0';
        struct lab *lab = NULL;
        struct lab_diag d = {0};
        double t0 = mono_now();
        ck_assert_int_eq(lab_load_buffer("<mem>", text, n, &lab, &d), -EINVAL);
        double secs = mono_now() - t0;
        ck_assert_msg(secs < 5.0, "style %zu took %.2f s", i, secs);
        ck_assert_ptr_null(lab);
        ck_assert_uint_eq(d.n, 1);
        ck_assert_msg(strncmp(d.msgs[0], styles[i].where, strlen(styles[i].where)) == 0, "got %s",
                      d.msgs[0]);
        ck_assert_ptr_nonnull(strstr(d.msgs[0], "nested more than 64 lists or mappings deep"));
        lab_diag_free(&d);
    }

    /* Block mappings by indentation, one level a line, as far as 1 MiB goes
     * (about 1,400 levels). */
    size_t n = 0;
    for (int k = 0; n + (size_t)k + 16 < SIZE; k++)
        n += (size_t)snprintf(text + n, SIZE + 1 - n, "%*sk%d:\n", k, "", k);
    struct lab *lab = NULL;
    struct lab_diag d = {0};
    double t0 = mono_now();
    ck_assert_int_eq(lab_load_buffer("<mem>", text, n, &lab, &d), -EINVAL);
    ck_assert_msg(mono_now() - t0 < 5.0, "block mappings took too long");
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.msgs[0], "<mem>:65:65: nested more than 64 lists or mappings deep");
    lab_diag_free(&d);

    /* Exactly LAB_DEPTH_MAX levels are YAML this check lets through (the
     * lab file is then wrong for other reasons). */
    n = (size_t)snprintf(text, SIZE, "name: x\nnodes: ");
    for (int k = 0; k < LAB_DEPTH_MAX - 1; k++)
        text[n++] = '[';
    for (int k = 0; k < LAB_DEPTH_MAX - 1; k++)
        text[n++] = ']';
    text[n] = '\0';
    ck_assert_int_eq(lab_load_buffer("<mem>", text, n, &lab, &d), -EINVAL);
    for (size_t i = 0; i < d.n; i++)
        ck_assert_ptr_null(strstr(d.msgs[i], "nested"));
    lab_diag_free(&d);
    free(text);
}
END_TEST

static Suite *labfile_suite(void)
{
    Suite *s = suite_create("labfile");
    TCase *tc = tcase_create("load");
    tcase_add_test(tc, quickstart);
    tcase_add_test(tc, example_labs);
    tcase_add_test(tc, ecmp_pair);
    tcase_add_test(tc, nsd_knot);
    tcase_add_test(tc, minimal_defaults);
    tcase_add_test(tc, full_values);
    tcase_add_test(tc, aliases);
    tcase_add_test(tc, tracked_and_bgp);
    tcase_add_loop_test(tc, bad_files, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
    tcase_add_test(tc, missing_file);
    tcase_add_test(tc, diag_appends);
    tcase_add_test(tc, diag_addf);
    tcase_add_test(tc, from_buffer);
    tcase_add_test(tc, service_lists);
    tcase_add_test(tc, service_list_errors);
    tcase_add_test(tc, error_cap);
    tcase_add_test(tc, limits);
    tcase_add_test(tc, names_and_lookups);
    tcase_add_test(tc, every_verb);
    tcase_add_test(tc, delay_verb);
    tcase_add_test(tc, deep_nesting);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(labfile_suite)
