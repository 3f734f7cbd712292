/* Unit tests for clients/prom.c: the Prometheus exposition of crafted
 * statistics, label escaping of hostile identities, and the RTT histogram's
 * cumulative buckets. */
#include "clients/prom.h"
#include "tests/unit/check_main.h"

#include <stdlib.h>
#include <string.h>

static char *render(const struct prom_input *in)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(prom_write(f, in), 0);
    fclose(f);
    return text;
}

START_TEST(counts_and_labels)
{
    struct ah_group_stats g;
    ah_group_stats_init(&g);
    ck_assert_int_eq(ah_group_stats_add(&g, AH_RES_OK, "ams", 1, 150000), 0);
    ck_assert_int_eq(ah_group_stats_add(&g, AH_RES_OK, "nyc", 1, 2000000), 0);
    ck_assert_int_eq(ah_group_stats_add(&g, AH_RES_TIMEOUT, NULL, 1, 0), 0);
    struct prom_input in = {.vantage = "eu", .target = "198.51.100.53"};
    in.group[AH_TR_UDP][AH_SVC_DNS] = &g;
    char *t = render(&in);
    /* Each sample of the udp dns group: family, extra label, value. */
    static const char *const want[][3] = {
        {"anycast_probe_probes_total", ",result=\"ok\"", "2"},
        {"anycast_probe_probes_total", ",result=\"timeout\"", "1"},
        {"anycast_probe_answers_total", ",node=\"nyc\"", "1"},
        {"anycast_probe_lost_total", "", "1"},
        /* The flow went ams -> nyc: one flip. */
        {"anycast_probe_flips_total", "", "1"},
        /* 150 us is not under 100 us but under 250 us; 2 ms under 2.5 ms. */
        {"anycast_probe_rtt_seconds_bucket", ",le=\"0.0001\"", "0"},
        {"anycast_probe_rtt_seconds_bucket", ",le=\"0.00025\"", "1"},
        {"anycast_probe_rtt_seconds_bucket", ",le=\"0.0025\"", "2"},
        {"anycast_probe_rtt_seconds_count", "", "2"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char line[512];
        snprintf(line, sizeof line,
                 "%s{vantage=\"eu\",target=\"198.51.100.53\",transport=\"udp\",service=\"dns\"%s} "
                 "%s\n",
                 want[i][0], want[i][1], want[i][2]);
        ck_assert_msg(strstr(t, line) != NULL, "missing: %s", line);
    }
    /* No tcp group: no connection samples, only their HELP and TYPE. */
    ck_assert_ptr_null(strstr(t, "anycast_probe_connections_opened_total{"));
    ck_assert_ptr_nonnull(strstr(t, "# TYPE anycast_probe_connections_opened_total counter\n"));
    free(t);
    ah_group_stats_free(&g);
}
END_TEST

START_TEST(hostile_identity_escaped)
{
    struct ah_group_stats g;
    ah_group_stats_init(&g);
    ah_group_stats_add(&g, AH_RES_OK, "a\"b\\c\nd\xff", 1, 1000);
    struct prom_input in = {.vantage = "v", .target = "t"};
    in.group[AH_TR_TCP][AH_SVC_ECHO] = &g;
    char *t = render(&in);
    ck_assert_ptr_nonnull(strstr(t, ",node=\"a\\\"b\\\\c\\nd\xef\xbf\xbd\"} 1\n"));
    /* Every line is a comment or a sample: nothing the identity did split one. */
    for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n"))
        ck_assert(line[0] == '#' || strncmp(line, "anycast_probe_", 14) == 0);
    free(t);
    ah_group_stats_free(&g);
}
END_TEST

static Suite *prom_suite(void)
{
    Suite *s = suite_create("prom");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, counts_and_labels);
    tcase_add_test(tc, hostile_identity_escaped);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(prom_suite)
