/* Command-line pieces that anycast-lab (harness/main.c) and its report
 * subcommand (harness/report.c) share: the options they spell alike, and
 * loading a lab file with its expectations checked and every diagnostic on
 * stderr. */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>

#include "lab.h"

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

#endif
