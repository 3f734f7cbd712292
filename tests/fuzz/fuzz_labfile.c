/* libFuzzer target for the lab file loader: any bytes as a lab file.
 * Checks: no crash or leak; a load either succeeds with no message and a
 * model whose indexes and times are in range, or fails with at least one
 * message, each of the form "NAME:LINE:COL: ..." or "NAME: ...", and
 * nothing built. The target links the lab layer's archive, built with the
 * fuzzer's instrumentation. */
#include "harness/lab/lab.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lab *lab = (struct lab *)&size; /* must come back NULL on error */
    struct lab_diag d = {0};
    int rc = lab_load_buffer("f.yaml", (const char *)data, size, &lab, &d);
    if (rc == 0) {
        if (lab == NULL || d.n != 0 || lab->nnodes == 0 || lab->nvantages == 0)
            abort();
        for (size_t i = 0; i < lab->nvantages; i++) {
            if (lab->vantages[i].nprefer == 0)
                abort();
            for (size_t j = 0; j < lab->vantages[i].nprefer; j++)
                if (lab->vantages[i].prefer[j] >= lab->nnodes)
                    abort();
        }
        for (size_t i = 0; i < lab->ndrill; i++) {
            const struct lab_event *e = &lab->drill[i];
            if (e->node >= lab->nnodes || e->at_ns >= lab->duration_ns)
                abort();
            if (i > 0 && e->at_ns < lab->drill[i - 1].at_ns)
                abort();
        }
    } else {
        if (lab != NULL || d.n == 0 || d.n > LAB_DIAG_MAX + 1)
            abort();
        for (size_t i = 0; i < d.n; i++)
            if (strncmp(d.msgs[i], "f.yaml:", 7) != 0)
                abort();
    }
    lab_free(lab);
    lab_diag_free(&d);
    return 0;
}
