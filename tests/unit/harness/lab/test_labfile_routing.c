/* Unit tests for a vantage's own routing: key (harness/lab/labfile_routing.c):
 * it overrides the lab's mode for static, ecmp and ecmp-resilient, a mode
 * that cannot be mixed is an error at its FILE:LINE:COL, and the model's
 * lookups fall back to the lab's mode. Run from the repository root
 * (tests/run.sh does). */
#include "harness/lab/lab.h"
#include "tests/unit/check_main.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A lab of nodes a and b and vantages va, vb, vc; routing is the lab's
 * line (empty for the default), va, vb and vc each their own routing line
 * or "". The vantages start on line 7. */
static char yaml[2048];
static const char *lab_text(const char *routing, const char *va, const char *vb, const char *vc)
{
    snprintf(yaml, sizeof yaml,
             "name: mix\n"
             "anycast: [198.51.100.53]\n"
             "duration: 4s\n"
             "nodes: [{name: a}, {name: b}]\n"
             "%s\n"
             "vantages:\n"
             "  - {name: va, prefer: [a, b]%s}\n"
             "  - {name: vb, prefer: [b, a]%s}\n"
             "  - {name: vc%s}\n",
             routing, va, vb, vc);
    return yaml;
}

static struct lab *load_text(const char *text, struct lab_diag *d)
{
    struct lab *lab = NULL;
    int rc = lab_load_buffer("mix.yaml", text, strlen(text), &lab, d);
    for (size_t i = 0; rc == 0 && i < d->n; i++)
        fprintf(stderr, "unexpected: %s\n", d->msgs[i]);
    return rc == 0 ? lab : NULL;
}

/* Loading text fails with exactly one message, msg. */
static void load_err(const char *text, const char *msg)
{
    struct lab_diag d = {0};
    struct lab *lab = load_text(text, &d);
    ck_assert_ptr_null(lab);
    for (size_t i = 0; i < d.n; i++)
        if (d.n != 1 || strcmp(d.msgs[i], msg) != 0)
            fprintf(stderr, "got: %s\n", d.msgs[i]);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.msgs[0], msg);
    lab_diag_free(&d);
}

START_TEST(mixed_modes)
{
    struct lab_diag d = {0};
    struct lab *lab = load_text(
        lab_text("routing: static", ", routing: ecmp", ", routing: ecmp-resilient", ""), &d);
    ck_assert_ptr_nonnull(lab);
    ck_assert_int_eq(lab->routing, LAB_ROUTING_STATIC);
    ck_assert_int_eq(lab_vantage_routing(lab, 0), LAB_ROUTING_ECMP);
    ck_assert_int_eq(lab_vantage_routing(lab, 1), LAB_ROUTING_ECMP_RESILIENT);
    ck_assert_int_eq(lab_vantage_routing(lab, 2), LAB_ROUTING_STATIC);
    ck_assert(!lab->vantages[2].own_routing);
    ck_assert(lab_routing_mixed(lab));
    ck_assert(lab_routing_hashes(lab, 0));
    ck_assert(lab_routing_hashes(lab, 1));
    ck_assert(!lab_routing_hashes(lab, 2));
    lab_free(lab);
    lab_diag_free(&d);

    /* An ecmp lab with one static vantage. */
    lab = load_text(lab_text("routing: ecmp", "", ", routing: static", ""), &d);
    ck_assert_ptr_nonnull(lab);
    ck_assert_int_eq(lab_vantage_routing(lab, 0), LAB_ROUTING_ECMP);
    ck_assert_int_eq(lab_vantage_routing(lab, 1), LAB_ROUTING_STATIC);
    ck_assert_int_eq(lab_vantage_routing(lab, 2), LAB_ROUTING_ECMP);
    ck_assert(lab_routing_mixed(lab));
    ck_assert(!lab_routing_hashes(lab, 1));
    ck_assert(lab_routing_hashes(lab, 2));
    lab_free(lab);
    lab_diag_free(&d);
}
END_TEST

/* A vantage repeating the lab's mode changes nothing, also for the modes
 * that cannot be mixed. */
START_TEST(same_as_lab)
{
    static const char *const modes[] = {"static", "ecmp", "ecmp-resilient", "tracked", "bgp"};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        char top[64], own[64];
        snprintf(top, sizeof top, "routing: %s", modes[m]);
        snprintf(own, sizeof own, ", routing: %s", modes[m]);
        struct lab_diag d = {0};
        struct lab *lab = load_text(lab_text(top, own, "", own), &d);
        ck_assert_msg(lab != NULL, "%s", modes[m]);
        ck_assert_int_eq(lab->routing, (int)m);
        for (size_t v = 0; v < lab->nvantages; v++)
            ck_assert_int_eq(lab_vantage_routing(lab, v), (int)m);
        ck_assert(!lab_routing_mixed(lab));
        lab_free(lab);
        lab_diag_free(&d);
    }
}
END_TEST

#define LAB_WIDE                                                                                   \
    " applies to the whole lab, not one vantage; a vantage's routing may be static, ecmp or "      \
    "ecmp-resilient"
#define NOT_MIXABLE                                                                                \
    " at a vantage needs the lab's routing to be static, ecmp or ecmp-resilient (routing is "
#define ONE_OF "(one of: static, ecmp, ecmp-resilient, tracked, bgp)"

/* The lab's routing line, va's, vb's and vc's own, and the one message. */
static const struct {
    const char *lab, *va, *vb, *vc, *msg;
} bad[] = {
    {"routing: static", ", routing: tracked", "", "", "mix.yaml:7:41: routing: tracked" LAB_WIDE},
    {"", "", "", ", routing: bgp", "mix.yaml:9:25: routing: bgp" LAB_WIDE},
    {"routing: bgp", "", ", routing: ecmp", "",
     "mix.yaml:8:41: routing: ecmp" NOT_MIXABLE "bgp); only those modes may be mixed"},
    {"routing: tracked", ", routing: static", "", "",
     "mix.yaml:7:41: routing: static" NOT_MIXABLE "tracked); only those modes may be mixed"},
    {"", ", routing: ospf", "", "", "mix.yaml:7:41: routing: unknown value \"ospf\" " ONE_OF},
    /* A bad lab mode is reported once, not again at the vantage. */
    {"routing: rip", ", routing: ecmp", "", "",
     "mix.yaml:5:10: routing: unknown value \"rip\" " ONE_OF},
};

START_TEST(errors)
{
    load_err(lab_text(bad[_i].lab, bad[_i].va, bad[_i].vb, bad[_i].vc), bad[_i].msg);
}
END_TEST

/* In a deployment the hosts route: no routing at a vantage either. */
START_TEST(deployment)
{
    static const char text[] = "kind: deployment\n"
                               "name: dep\n"
                               "anycast: [192.0.2.53]\n"
                               "duration: 4s\n"
                               "nodes: [{name: a, host: a.example.net}]\n"
                               "vantages:\n"
                               "  - {name: va, host: va.example.net, routing: ecmp}\n";
    load_err(text, "mix.yaml:7:38: routing: only in kind: lab (this file is kind: deployment)");
}
END_TEST

/* A model made by hand (zeroed vantages) follows the lab's mode; bgp with
 * multipath hashes flows too. */
START_TEST(fallback)
{
    struct lab_vantage v[2] = {0};
    struct lab lab = {.routing = LAB_ROUTING_ECMP_RESILIENT, .vantages = v, .nvantages = 2};
    ck_assert_int_eq(lab_vantage_routing(&lab, 1), LAB_ROUTING_ECMP_RESILIENT);
    ck_assert_int_eq(lab_vantage_routing(&lab, 5), LAB_ROUTING_ECMP_RESILIENT);
    ck_assert(!lab_routing_mixed(&lab));
    v[1].own_routing = true;
    v[1].routing = LAB_ROUTING_STATIC;
    ck_assert(lab_routing_mixed(&lab));
    ck_assert(!lab_routing_hashes(&lab, 1));
    lab.routing = LAB_ROUTING_BGP;
    ck_assert(!lab_routing_hashes(&lab, 0));
    lab.bgp.multipath = true;
    ck_assert(lab_routing_hashes(&lab, 0));
    ck_assert(lab_routing_mixable(LAB_ROUTING_ECMP));
    ck_assert(!lab_routing_mixable(LAB_ROUTING_TRACKED));
    ck_assert(!lab_routing_mixable(LAB_ROUTING_BGP));
}
END_TEST

START_TEST(example_lab)
{
    /* tests/run.sh exports AH_ROOT; the example's path is relative to it. */
    const char *root = getenv("AH_ROOT");
    if (root != NULL)
        ck_assert_int_eq(chdir(root), 0);
    struct lab *lab = NULL;
    struct lab_diag d = {0};
    ck_assert_int_eq(lab_load("labs/mixed-routing.yaml", &lab, &d), 0);
    ck_assert_uint_eq(d.n, 0);
    int eu = lab_vantage_index(lab, "eu"), us = lab_vantage_index(lab, "us");
    ck_assert_int_ge(eu, 0);
    ck_assert_int_ge(us, 0);
    ck_assert_int_eq(lab->routing, LAB_ROUTING_STATIC);
    ck_assert_int_eq(lab_vantage_routing(lab, (size_t)eu), LAB_ROUTING_ECMP);
    ck_assert_int_eq(lab_vantage_routing(lab, (size_t)us), LAB_ROUTING_STATIC);
    lab_free(lab);
}
END_TEST

static Suite *labfile_routing_suite(void)
{
    Suite *s = suite_create("labfile_routing");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, mixed_modes);
    tcase_add_test(tc, same_as_lab);
    tcase_add_loop_test(tc, errors, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, deployment);
    tcase_add_test(tc, fallback);
    tcase_add_test(tc, example_lab);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(labfile_routing_suite)
