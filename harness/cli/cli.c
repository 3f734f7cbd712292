/* Command-line pieces shared by anycast-lab's main() and its subcommands
 * (see cli.h): parsing a command's options, the common ones, and loading a
 * lab file for a command. */
#include "cli.h"

#include <errno.h>

#include "ah/log.h"
#include "harness/lab/expect.h"

int cli_parse(const struct ah_opt_cmd *cmd, void *base, int argc, char **argv, int *operand)
{
    int rc = ah_opt_parse(cmd, base, argc, argv, operand);
    if (rc < 0)
        return 2;
    return rc > 0 ? 0 : -1;
}

int cli_opt_quiet(const struct ah_opt *opt, void *base, const char *val, char *err, size_t errlen)
{
    (void)opt;
    (void)base;
    (void)val;
    (void)err;
    (void)errlen;
    ah_log_set_level(AH_LOG_ERROR);
    return 0;
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
