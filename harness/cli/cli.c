/* Command-line pieces shared by anycast-lab's main() and its subcommands
 * (see cli.h): parsing a command's options, the common ones, and loading a
 * lab file for a command. */
#include "cli.h"

#include <errno.h>

#include "ah/log.h"

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

int cli_load_lab(const char *path, struct lab **out)
{
    return lab_load_checked(path, out);
}
