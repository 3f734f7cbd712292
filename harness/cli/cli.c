/* Command-line pieces shared by anycast-lab's main() and its subcommands
 * (see cli.h): the common options and loading a lab file for a command. */
#include "cli.h"

#include <errno.h>

#include "ah/log.h"
#include "harness/lab/expect.h"

int cli_common_opt(int c, void (*usage)(FILE *f))
{
    switch (c) {
    case 'q':
        ah_log_set_level(AH_LOG_ERROR);
        return 0;
    case 'h':
        usage(stdout);
        return 1;
    case 'V':
        printf("anycast-lab %s\n", AH_VERSION);
        return 1;
    default:
        usage(stderr);
        return -EINVAL;
    }
}

static void print_diags(struct lab_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        fprintf(stderr, "%s\n", d->msgs[i]);
    lab_diag_free(d);
}

int cli_load_lab(const char *path, struct lab **out)
{
    struct lab *lab = NULL;
    struct lab_diag d = {0};
    int rc = lab_load(path, &lab, &d);
    print_diags(&d);
    if (rc < 0)
        return rc;
    /* The expect: strings are checked here too, so that a typo in one is a
     * lab-file error before anything is built or computed. */
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
