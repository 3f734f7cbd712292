/* Command-line pieces of anycast-lab's subcommands (harness/cli/main.c and
 * cli_report.c): the options they spell alike, and
 * loading a lab file with its expectations checked and every diagnostic on
 * stderr. */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>

#include "harness/lab/lab.h"

/* Handles an option that is none of the caller's own: -q (errors only),
 * -h (usage on stdout), -V (the version) or an unknown one (usage on
 * stderr). Returns 0 when parsing goes on, 1 when the command is done (help
 * or version printed: exit 0), -EINVAL for an unknown option (exit 2). */
int cli_common_opt(int c, void (*usage)(FILE *f));

/* Loads the lab file at path and validates its expect: strings against it,
 * printing every diagnostic to stderr. Returns 0 with *out set (lab_free()
 * it), -EINVAL for a mistake in the file (exit 2) or another negative errno
 * (exit 1). */
int cli_load_lab(const char *path, struct lab **out);

/* `anycast-lab report ARGS`: argv[0] is "report". Returns the exit status. */
int cli_report_main(int argc, char **argv);

#endif
