/* Command-line pieces shared by anycast-lab's main() and its subcommands
 * (see cli.h): the common options and loading a lab file for a command. */
#include "cli.h"

#include <errno.h>

#include "ah/log.h"

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

int cli_load_lab(const char *path, struct lab **out)
{
    return lab_load_checked(path, out);
}
