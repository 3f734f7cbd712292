/* What anycast-probe's record path costs: writes N probes.csv rows shaped
 * like real ones (19-digit ts_ns, vantage, target, port, seq, node, rtt)
 * through the shared CSV writer, with and without the per-group statistics
 * update, and prints rows/s and bytes per row.
 * Usage: probe_csv FILE [ROWS]. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "ah/clock.h"
#include "ah/csv.h"
#include "ah/schema.h"
#include "ah/stats.h"

static int write_rows(const char *path, unsigned long rows, struct ah_group_stats *g, double *secs)
{
    static const char *const nodes[] = {"ams", "nyc", "sin"};
    struct ah_csv *w;
    uint64_t t0 = ah_clock_mono_ns(), ts = ah_clock_realtime_ns();
    int rc = ah_csv_open(&w, path, ah_schema_probes_cols, AH_SCHEMA_PROBES_COLS);

    if (rc < 0)
        return rc;
    for (unsigned long i = 0; i < rows; i++) {
        uint64_t rtt = 40000 + (i * 7919) % 200000;
        const char *node = nodes[(i / 1000) % 3];
        ah_csv_u64(w, ts + i * 10000);
        ah_csv_str(w, "vantage-eu");
        ah_csv_str(w, "198.51.100.53");
        ah_csv_str(w, ah_transport_name(AH_TR_UDP));
        ah_csv_str(w, ah_service_name(AH_SVC_DNS));
        ah_csv_u64(w, 40000 + i % 8);
        ah_csv_u64(w, i / 8 + 1);
        ah_csv_str(w, ah_result_name(AH_RES_OK));
        ah_csv_str(w, node);
        ah_csv_u64(w, rtt / 1000);
        ah_csv_empty(w);
        if ((rc = ah_csv_end_row(w)) < 0)
            break;
        if (g != NULL)
            ah_group_stats_add(g, AH_RES_OK, node, 40000 + i % 8, rtt);
    }
    int rc2 = ah_csv_close(w);
    *secs = (double)(ah_clock_mono_ns() - t0) / 1e9;
    return rc < 0 ? rc : rc2;
}

int main(int argc, char **argv)
{
    unsigned long rows = argc > 2 ? strtoul(argv[2], NULL, 10) : 2000000;
    struct ah_group_stats *g = malloc(sizeof(*g));
    struct stat st;
    double s1, s2;

    if (argc < 2 || rows == 0 || g == NULL) {
        fprintf(stderr, "usage: probe_csv FILE [ROWS]\n");
        return 2;
    }
    ah_group_stats_init(g);
    if (write_rows(argv[1], rows, NULL, &s1) < 0 || write_rows(argv[1], rows, g, &s2) < 0 ||
        stat(argv[1], &st) < 0) {
        perror(argv[1]);
        return 1;
    }
    printf("csv_rows %lu\ncsv_bytes_per_row %.1f\ncsv_rows_per_s %.0f\n"
           "csv_stats_rows_per_s %.0f\n",
           rows, (double)st.st_size / (double)(rows + 1), (double)rows / s1, (double)rows / s2);
    ah_group_stats_free(g);
    free(g);
    return 0;
}
