/* Unit tests for the deployment part of the lab file loader
 * (harness/lab/labfile_deploy.c): kind: deployment files load into the
 * model with their hosts, merged ssh settings, absolute paths, actions and
 * run: steps; the atlas: block of both kinds; and every bad fixture gives
 * exactly its "FILE:LINE:COL: message" list. Run from the repository root
 * (tests/run.sh does). */
#include "harness/lab/lab.h"
#include "tests/unit/check_main.h"
#include "tests/unit/harness/lab/labfile_test.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ah/clock.h"

#define SEC AH_NS_PER_S

/* The working directory joined with rel, as the loader makes paths absolute. */
static const char *from_cwd(const char *rel)
{
    static char buf[PATH_MAX + 256];
    char cwd[PATH_MAX];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    snprintf(buf, sizeof buf, "%s/%s", cwd, rel);
    return buf;
}

START_TEST(full)
{
    struct lab *lab = load_ok("tests/labs/deploy-full.yaml");
    ck_assert_int_eq(lab->kind, LAB_KIND_DEPLOYMENT);
    ck_assert_str_eq(lab->name, "staging-drill");
    /* Any unicast address: no lab range check. */
    ck_assert_uint_eq(lab->nanycast, 3);
    addr_is(&lab->anycast[1], "2001:db8::53");
    addr_is(&lab->anycast[2], "198.18.0.53");
    ck_assert_uint_eq(lab->duration_ns, 600 * SEC);
    ck_assert_uint_eq(lab->tolerance_ns, 200 * AH_NS_PER_MS);
    ck_assert(lab->on_failure_stop);
    ck_assert_uint_eq(lab->step_timeout_ns, 90 * SEC);
    /* The file's ssh: relative paths from the file's directory. */
    ck_assert_str_eq(lab->ssh.config, from_cwd("tests/labs/keys/ssh_config"));
    ck_assert_str_eq(lab->ssh.user, "drill");
    ck_assert_str_eq(lab->ssh.identity, "/etc/anycast/drill_ed25519");
    ck_assert_uint_eq(lab->ssh.noptions, 3);
    ck_assert_str_eq(lab->ssh.options[0], "StrictHostKeyChecking=yes");
    char want[PATH_MAX + 300];
    snprintf(want, sizeof want, "UserKnownHostsFile=%s", from_cwd("tests/labs/keys/known_hosts"));
    ck_assert_str_eq(lab->ssh.options[1], want);
    ck_assert_str_eq(lab->ssh.options[2], "ConnectTimeout=5");

    const struct lab_node *fra = &lab->nodes[0], *ams = &lab->nodes[1];
    ck_assert_str_eq(fra->host.dest, "fra1.example.net");
    /* A host without ssh: has the file's settings. */
    ck_assert_str_eq(fra->host.ssh.user, "drill");
    ck_assert_str_eq(fra->host.ssh.config, lab->ssh.config);
    ck_assert_uint_eq(fra->host.ssh.noptions, 3);
    ck_assert_str_eq(fra->actions[AH_VERB_WITHDRAW], "sudo birdc disable anycast4");
    ck_assert_str_eq(fra->actions[AH_VERB_START], "sudo systemctl start knot");
    ck_assert_str_eq(fra->actions[AH_VERB_KILL_BGP], "sudo systemctl kill bird");
    ck_assert_ptr_null(fra->actions[AH_VERB_PAUSE]);
    ck_assert_ptr_null(fra->actions[AH_VERB_RUN]);
    /* The host's own ssh: its scalars win, its options come after. */
    ck_assert_str_eq(ams->host.dest, "ops@ams1.example.net");
    ck_assert_str_eq(ams->host.ssh.user, "ops");
    ck_assert_str_eq(ams->host.ssh.identity, from_cwd("tests/labs/keys/ams_ed25519"));
    ck_assert_str_eq(ams->host.ssh.config, lab->ssh.config);
    ck_assert_uint_eq(ams->host.ssh.noptions, 5);
    ck_assert_str_eq(ams->host.ssh.options[0], "StrictHostKeyChecking=yes");
    ck_assert_str_eq(ams->host.ssh.options[3], "IdentityFile=none");
    ck_assert_str_eq(ams->host.ssh.options[4], "ServerAliveInterval=5");

    const struct lab_vantage *eu = &lab->vantages[0], *us = &lab->vantages[1];
    ck_assert_str_eq(eu->host.dest, "probe@203.0.113.10");
    ck_assert_str_eq(eu->probe, "/usr/local/bin/anycast-probe");
    ck_assert_str_eq(us->host.dest, "[2001:db8::10]:2222");
    ck_assert_str_eq(us->probe, "anycast-probe");
    ck_assert_str_eq(us->host.ssh.config, "/etc/ssh/drill_config");
    ck_assert_str_eq(us->host.ssh.user, "drill");

    ck_assert_uint_eq(lab->ndrill, 6);
    ck_assert_int_eq(lab->drill[2].verb, AH_VERB_RUN);
    ck_assert_uint_eq(lab->drill[2].node, 0);
    ck_assert_uint_eq(lab->drill[2].at_ns, 120 * SEC);
    ck_assert_str_eq(lab->drill[2].command, "sudo tc qdisc add dev eth0 root netem delay 80ms");
    ck_assert_ptr_null(lab->drill[0].command);
    /* delay and the bgp verbs are the names of actions here. */
    ck_assert_int_eq(lab->drill[3].verb, AH_VERB_DELAY);
    ck_assert_int_eq(lab->drill[4].verb, AH_VERB_KILL_BGP);
    ck_assert_int_eq(lab->drill[5].verb, AH_VERB_FLAP);
    ck_assert_uint_eq(lab->drill[5].node, 1);
    ck_assert_uint_eq(lab->drill[5].flap_count, 2);

    ck_assert(lab->atlas.given);
    ck_assert_uint_eq(lab->atlas.probes, 50000);
    ck_assert_str_eq(lab->atlas.area, "North-East");
    ck_assert_uint_eq(lab->atlas.interval_ns, 60 * SEC);
    ck_assert_int_eq(lab->atlas.start, 1796292000);
    ck_assert_int_eq(lab->atlas.stop, 1796299200); /* 2026-12-03T12:00:00Z */
    lab_free(lab);
}
END_TEST

START_TEST(minimal_defaults)
{
    struct lab *lab = load_ok("tests/labs/deploy-minimal.yaml");
    ck_assert_int_eq(lab->kind, LAB_KIND_DEPLOYMENT);
    addr_is(&lab->anycast[0], "203.0.113.53");
    ck_assert(!lab->on_failure_stop);
    ck_assert_uint_eq(lab->step_timeout_ns, 60 * SEC);
    ck_assert(!lab->atlas.given);
    ck_assert_ptr_null(lab->ssh.config);
    ck_assert_ptr_null(lab->ssh.user);
    ck_assert_uint_eq(lab->ssh.noptions, 0);
    ck_assert_str_eq(lab->nodes[0].host.dest, "a.example.net");
    ck_assert_ptr_null(lab->nodes[0].host.ssh.user);
    ck_assert_ptr_null(lab->nodes[0].host.ssh.options);
    for (int v = 0; v < AH_VERB_COUNT; v++)
        ck_assert_ptr_null(lab->nodes[0].actions[v]);
    ck_assert_str_eq(lab->vantages[0].probe, "anycast-probe");
    ck_assert_uint_eq(lab->tolerance_ns, LAB_TOLERANCE_DEFAULT_NS);
    lab_free(lab);
    /* A lab file is kind: lab, with no hosts. */
    lab = load_ok("labs/quickstart.yaml");
    ck_assert_int_eq(lab->kind, LAB_KIND_LAB);
    ck_assert_ptr_null(lab->nodes[0].host.dest);
    ck_assert_ptr_null(lab->vantages[0].probe);
    ck_assert(!lab->atlas.given);
    lab_free(lab);
}
END_TEST

/* The example in labs/ loads (anycast-lab check runs it in CI too). */
START_TEST(example)
{
    struct lab *lab = load_ok("labs/deployment.yaml");
    ck_assert_int_eq(lab->kind, LAB_KIND_DEPLOYMENT);
    ck_assert_uint_eq(lab->nnodes, 2);
    ck_assert_str_eq(lab->nodes[1].host.ssh.user, "ops");
    ck_assert(lab->atlas.given);
    lab_free(lab);
}
END_TEST

static int load_text(const char *name, const char *text, struct lab **lab, struct lab_diag *d)
{
    return lab_load_buffer(name, text, strlen(text), lab, d);
}

/* atlas: in a lab file, with its defaults; and the file's directory for a
 * name with and without a slash. */
START_TEST(atlas_defaults_and_dirs)
{
    struct lab *lab = NULL;
    to_root();
    ck_assert_int_eq(load_text("<mem>",
                               "name: a\nanycast: 198.51.100.1\nduration: 5s\n"
                               "nodes: [{name: a}]\nvantages: [{name: v}]\natlas: {}\n",
                               &lab, NULL),
                     0);
    ck_assert(lab->atlas.given);
    ck_assert_uint_eq(lab->atlas.probes, 500);
    ck_assert_str_eq(lab->atlas.area, "WW");
    ck_assert_uint_eq(lab->atlas.interval_ns, 240 * SEC);
    ck_assert_int_eq(lab->atlas.start, 0);
    ck_assert_int_eq(lab->atlas.stop, 0);
    lab_free(lab);
    static const char dep[] = "name: d\nkind: deployment\nanycast: 198.51.100.1\nduration: 5s\n"
                              "ssh: {identity: id, config: ./c/cfg}\n"
                              "nodes: [{name: a, host: a}]\nvantages: [{name: v, host: v}]\n";
    ck_assert_int_eq(load_text("<mem>", dep, &lab, NULL), 0);
    ck_assert_str_eq(lab->ssh.identity, from_cwd("id"));
    ck_assert_str_eq(lab->ssh.config, from_cwd("./c/cfg"));
    lab_free(lab);
    ck_assert_int_eq(load_text("runs/x/deploy.yaml", dep, &lab, NULL), 0);
    ck_assert_str_eq(lab->ssh.identity, from_cwd("runs/x/id"));
    lab_free(lab);
    ck_assert_int_eq(load_text("/srv/deploy.yaml", dep, &lab, NULL), 0);
    ck_assert_str_eq(lab->ssh.identity, "/srv/id");
    ck_assert_str_eq(lab->nodes[0].host.ssh.identity, "/srv/id");
    lab_free(lab);
}
END_TEST

/* Bounds: ssh options (the file's and a host's together), command length. */
START_TEST(bounds)
{
    char *text = NULL, opts[64 * 8] = "", big[LAB_COMMAND_MAX + 16];
    struct lab *lab = NULL;
    struct lab_diag d = {0};
    for (int i = 0; i < 20; i++)
        snprintf(opts + strlen(opts), sizeof opts - strlen(opts), "%sO%d=1", i ? ", " : "", i);
    ck_assert_int_ge(asprintf(&text,
                              "name: d\nkind: deployment\nanycast: 198.51.100.1\nduration: 5s\n"
                              "ssh: {options: [%s]}\n"
                              "nodes: [{name: a, host: a, ssh: {options: [%s]}}]\n"
                              "vantages: [{name: v, host: v, ssh: {options: [%s]}}]\n",
                              opts, opts, "X=1"),
                     0);
    ck_assert_int_eq(load_text("<mem>", text, &lab, &d), -EINVAL);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.msgs[0], "<mem>:6:33: ssh.options: 40 with the file's 20, at most 32");
    lab_diag_free(&d);
    free(text);
    memset(big, 'x', LAB_COMMAND_MAX);
    big[LAB_COMMAND_MAX] = '\0';
    ck_assert_int_ge(asprintf(&text,
                              "name: d\nkind: deployment\nanycast: 198.51.100.1\nduration: 5s\n"
                              "nodes: [{name: a, host: a, actions: {stop: %s, start: %.*s}}]\n"
                              "vantages: [{name: v, host: v}]\n",
                              big, LAB_COMMAND_MAX - 1, big),
                     0);
    ck_assert_int_eq(load_text("<mem>", text, &lab, &d), -EINVAL);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.msgs[0], "<mem>:5:44: actions.stop: 4096 bytes, at most 4095");
    lab_diag_free(&d);
    free(text);
}
END_TEST

/* The bad fixtures and every message each must give, in order. */
static const struct bad_case bad_cases[] = {
    {"bad-kind.yaml", {":2:7: kind: unknown value \"cloud\" (one of: lab, deployment)"}},
    {"bad-deploy-lab-keys.yaml",
     {":5:1: routing: only in kind: lab (this file is kind: deployment)",
      ":6:1: track: only in kind: lab (this file is kind: deployment)",
      ":7:1: bgp: only in kind: lab (this file is kind: deployment)",
      ":11:5: responder: only in kind: lab (this file is kind: deployment)",
      ":12:5: healthcheck: only in kind: lab (this file is kind: deployment)",
      ":13:5: missing required key \"host\" in node",
      ":15:5: missing required key \"host\" in vantage",
      ":16:5: prefer: only in kind: lab (this file is kind: deployment)"}},
    {"bad-deploy-in-lab.yaml",
     {":4:1: ssh: only in kind: deployment (this file is kind: lab)",
      ":5:1: on-failure: only in kind: deployment (this file is kind: lab)",
      ":8:5: host: only in kind: deployment (this file is kind: lab)",
      ":9:5: actions: only in kind: deployment (this file is kind: lab)",
      ":10:5: ssh: only in kind: deployment (this file is kind: lab)",
      ":13:5: host: only in kind: deployment (this file is kind: lab)",
      ":14:5: probe: only in kind: deployment (this file is kind: lab)",
      ":16:14: run: only in kind: deployment (this file is kind: lab)"}},
    {"bad-deploy-values.yaml",
     {":3:11: anycast: 224.0.0.1 cannot be an anycast service address (multicast)",
      ":3:22: anycast: 127.0.0.1 cannot be an anycast service address (loopback)",
      ":3:33: anycast: :: cannot be an anycast service address (the unspecified address)",
      ":3:39: anycast: fe80::1 cannot be an anycast service address (link-local)",
      ":3:50: anycast: ff02::1 cannot be an anycast service address (multicast)",
      ":3:61: anycast: 0.1.2.3 cannot be an anycast service address (\"this network\", 0.0.0.0/8)",
      ":3:70: anycast: 255.255.255.255 cannot be an anycast service address (reserved, 240.0.0.0/4 "
      "with the broadcast address)",
      ":3:87: anycast: ::ffff:203.0.113.1 cannot be an anycast service address (IPv4-mapped: write "
      "the IPv4 address)",
      ":5:13: on-failure: unknown value \"maybe\" (one of: continue, stop)",
      ":7:9: ssh.user: \"drill ops\" contains a blank",
      ":8:13: ssh.identity: \"~/.ssh/id_ed25519\": '~' is not expanded; write the full path or one "
      "relative to the run file",
      ":9:13: ssh.options: \"StrictHostKeyChecking\" is not Key=Value (e.g. "
      "StrictHostKeyChecking=yes)",
      ":9:36: ssh.options: \"Port 22\" is not Key=Value (e.g. StrictHostKeyChecking=yes)",
      ":9:47: ssh.options: \"-oProxyCommand=x\" is not Key=Value (e.g. StrictHostKeyChecking=yes)",
      ":9:67: ssh.options: \"=x\" is not Key=Value (e.g. StrictHostKeyChecking=yes)",
      ":12:11: node host: \"-oProxyCommand=sh\" starts with '-' (ssh would read it as an option)",
      ":14:7: actions: run is not an action: a drill's run: step carries its own command",
      ":15:7: actions: flap is not an action: a flap runs the node's withdraw and announce actions",
      ":16:7: unknown action \"withdrw\" in actions (known: withdraw, announce, stop, start, "
      "pause, resume, link-down, link-up, kill-bgp, start-bgp, pause-bgp, resume-bgp, delay)",
      ":17:13: actions.stop: is empty",
      ":18:14: actions.start: contains a control character (byte 0x0a at 2)",
      ":19:14: actions.pause: expected a single value, got a list",
      ":21:11: node host: \"@b.example.net\" has an empty user before '@'",
      ":23:11: node host: \"[2001:db8::1\" is not [IPv6]:port (e.g. [2001:db8::10]:2222)",
      ":25:11: node host: \"[2001:db8::1]:0\" is not [IPv6]:port (e.g. [2001:db8::10]:2222)",
      ":28:11: vantage host: \"user@\" has no host after '@'",
      ":29:12: probe: is empty"}},
    {"bad-deploy-drill.yaml",
     {":16:14: drill: node \"a\" has no \"announce\" action (its actions: withdraw)",
      ":17:14: drill: node \"b\" has no \"stop\" action (its actions: none)",
      ":18:14: drill: flap of node \"a\" needs its withdraw and announce actions (its actions: "
      "withdraw)",
      ":19:19: missing required key \"command\" in run",
      ":20:26: unknown node \"x\" in drill (nodes: a, b)",
      ":21:46: unknown key \"extra\" in run (known: node, command)",
      ":22:19: run: expected a mapping (key: value), got \"b\"",
      ":23:21: delay: in kind: deployment takes a node name: it runs the node's delay action",
      /* The last event broken, with its command: nothing leaks (make asan). */
      ":24:26: unknown node \"y\" in drill (nodes: a, b)"}},
    {"bad-atlas.yaml",
     {":6:17: atlas.probes: 50001 is out of range (1..50000)",
      ":6:30: atlas.area: unknown value \"Mars\" (one of: WW, West, North-Central, South-Central, "
      "North-East, South-East)",
      ":6:46: atlas.interval: 90.5s is not a whole number of seconds (Atlas counts in seconds)",
      ":6:60: atlas.start: bad time \"2026-12-03 10:00:00\" (write unix seconds or a UTC time like "
      "2026-12-03T10:00:00Z)",
      ":6:89: atlas.stop: bad time \"0\" (write unix seconds or a UTC time like "
      "2026-12-03T10:00:00Z)",
      ":6:92: unknown key \"when\" in atlas (known: probes, interval, area, start, stop)"}},
    {"bad-atlas-order.yaml",
     {":7:11: atlas.probes: 0 is out of range (1..50000)",
      ":8:13: atlas.interval: 30s is out of range (1m..24h)",
      ":10:9: atlas.stop: 2026-12-03T10:00:00Z is not after atlas.start 2026-12-03T12:00:00Z"}},
};

START_TEST(bad_files)
{
    check_bad(&bad_cases[_i]);
}
END_TEST

/* step-timeout: a duration from 1 s to 1 h, deployment only. */
START_TEST(step_timeout)
{
    static const struct {
        const char *kind, *value, *msg;
        uint64_t ns;
    } cases[] = {
        {"deployment", "1500ms", NULL, 1500 * AH_NS_PER_MS},
        {"deployment", "1h", NULL, 3600 * SEC},
        {"deployment", "500ms", "<mem>:5:15: step-timeout: 500ms is out of range (1s..1h)", 0},
        {"deployment", "2h", "<mem>:5:15: step-timeout: 2h is out of range (1s..1h)", 0},
        {"deployment", "soon",
         "<mem>:5:15: step-timeout: bad duration \"soon\" (write e.g. 250ms, 2s, 1.5s, 1m)", 0},
        {"lab", "5s", "<mem>:5:1: step-timeout: only in kind: deployment (this file is kind: lab)",
         0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        bool dep = strcmp(cases[i].kind, "deployment") == 0;
        snprintf(text, sizeof text,
                 "name: st\nkind: %s\nanycast: %s\nduration: 1m\nstep-timeout: %s\n"
                 "nodes:\n  - name: a\n%s"
                 "vantages:\n  - name: v\n%s",
                 cases[i].kind, dep ? "203.0.113.53" : "198.51.100.53", cases[i].value,
                 dep ? "    host: a.example.net\n" : "", dep ? "    host: v.example.net\n" : "");
        struct lab *lab = NULL;
        struct lab_diag d = {0};
        int rc = lab_load_buffer("<mem>", text, strlen(text), &lab, &d);
        if (cases[i].msg == NULL) {
            ck_assert_msg(rc == 0, "%s: %s", cases[i].value, d.n ? d.msgs[0] : "");
            ck_assert_uint_eq(lab->step_timeout_ns, cases[i].ns);
            lab_free(lab);
        } else {
            ck_assert_int_eq(rc, -EINVAL);
            ck_assert_uint_eq(d.n, 1);
            ck_assert_str_eq(d.msgs[0], cases[i].msg);
        }
        lab_diag_free(&d);
    }
}
END_TEST

static Suite *labfile_deploy_suite(void)
{
    Suite *s = suite_create("labfile_deploy");
    TCase *tc = tcase_create("load");
    tcase_add_test(tc, full);
    tcase_add_test(tc, minimal_defaults);
    tcase_add_test(tc, example);
    tcase_add_test(tc, atlas_defaults_and_dirs);
    tcase_add_test(tc, bounds);
    tcase_add_test(tc, step_timeout);
    tcase_add_loop_test(tc, bad_files, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(labfile_deploy_suite)
