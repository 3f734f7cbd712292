/* Loading a lab file for a command that is about to use it: the file is
 * loaded, its expect: strings are checked against it, and every diagnostic
 * is printed, so `run`, `up`, `check` and `report` refuse the same files
 * with the same messages. */
#include "lab.h"

#include <errno.h>
#include <stdio.h>

#include "expect.h"

/* The messages are "FILE:LINE:COL: message" lines, printed as they are,
 * the form editors jump to. */
static void print_diags(struct lab_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        fprintf(stderr, "%s\n", d->msgs[i]);
    lab_diag_free(d);
}

int lab_load_checked(const char *path, struct lab **out)
{
    struct lab *lab = NULL;
    struct lab_diag d = {0};
    int rc = lab_load(path, &lab, &d);
    print_diags(&d);
    if (rc < 0)
        return rc;
    /* A mistake in an expectation is a lab-file error, found before
     * anything is built or computed (docs/expect.md). */
    d = (struct lab_diag){0};
    rc = expect_validate_lab(lab, &d);
    print_diags(&d);
    if (rc < 0) {
        lab_free(lab);
        return rc;
    }
    *out = lab;
    return 0;
}

int lab_load_exit(int rc)
{
    return rc == -ENOMEM ? 1 : 2;
}
