/* Unit tests for probes.vantages-per-process (harness/lab): the key's
 * values and errors, that it alone keeps both transports' defaults, and
 * lab_probe_group's automatic group sizes (one process per vantage up to 16
 * vantages, then groups of at most 64, as equal as they come). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "harness/lab/lab.h"
#include "tests/unit/check_main.h"

/* A lab of two nodes, NV vantages and the probes section PROBES. */
static int load(size_t nv, const char *probes, struct lab **lab, struct lab_diag *d)
{
    static char buf[65536];
    int n = snprintf(buf, sizeof buf,
                     "name: g\nanycast: [198.51.100.1]\nduration: 4s\nnodes:\n  - name: ams\n"
                     "  - name: nyc\n%s\nvantages:\n",
                     probes);
    for (size_t i = 1; i <= nv; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "  - name: v%zu\n", i);
    *lab = NULL;
    return lab_load_buffer("g.yaml", buf, (size_t)n, lab, d);
}

static uint32_t group_of(size_t nv, const char *probes)
{
    struct lab *lab;
    struct lab_diag d = {0};
    ck_assert_int_eq(load(nv, probes, &lab, &d), 0);
    uint32_t g = lab_probe_group(lab);
    lab_free(lab);
    lab_diag_free(&d);
    return g;
}

START_TEST(values)
{
    struct lab *lab;
    struct lab_diag d = {0};
    ck_assert_int_eq(load(3, "probes: {vantages-per-process: 2}", &lab, &d), 0);
    ck_assert_uint_eq(lab->probe_group, 2);
    /* Only this key: both transports with their defaults. */
    ck_assert(lab->udp.enabled && lab->tcp.enabled);
    ck_assert_uint_eq(lab->udp.rate, 100);
    lab_free(lab);
    ck_assert_int_eq(load(3, "probes: {vantages-per-process: auto, udp: {rate: 5}}", &lab, &d), 0);
    ck_assert_uint_eq(lab->probe_group, 0);
    ck_assert(lab->udp.enabled && !lab->tcp.enabled);
    lab_free(lab);
    lab_diag_free(&d);
}
END_TEST

START_TEST(automatic)
{
    ck_assert_uint_eq(group_of(1, ""), 1);
    ck_assert_uint_eq(group_of(16, ""), 1);
    ck_assert_uint_eq(group_of(17, ""), 17);
    ck_assert_uint_eq(group_of(64, ""), 64);
    ck_assert_uint_eq(group_of(65, ""), 33);
    ck_assert_uint_eq(group_of(300, ""), 60);
    ck_assert_uint_eq(group_of(1024, ""), 64);
    ck_assert_uint_eq(group_of(1000, ""), 63);
    /* A number holds whatever the lab's size. */
    ck_assert_uint_eq(group_of(300, "probes: {vantages-per-process: 1}"), 1);
    ck_assert_uint_eq(group_of(3, "probes: {vantages-per-process: 100}"), 100);
}
END_TEST

START_TEST(errors)
{
    struct lab *lab;
    struct lab_diag d = {0};
    ck_assert_int_eq(load(2, "probes: {vantages-per-process: 0}", &lab, &d), -EINVAL);
    ck_assert_int_eq(load(2, "probes: {vantages-per-process: 1025}", &lab, &d), -EINVAL);
    ck_assert_int_eq(load(2, "probes: {vantages-per-process: many}", &lab, &d), -EINVAL);
    ck_assert_ptr_null(lab);
    ck_assert_uint_eq(d.n, 3);
    for (size_t i = 0; i < d.n; i++)
        ck_assert_msg(strncmp(d.msgs[i], "g.yaml:7:32: probes.vantages-per-process", 40) == 0, "%s",
                      d.msgs[i]);
    lab_diag_free(&d);
}
END_TEST

static Suite *group_suite(void)
{
    Suite *s = suite_create("probe_group");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, values);
    tcase_add_test(tc, automatic);
    tcase_add_test(tc, errors);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(group_suite)
