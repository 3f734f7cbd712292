/* Command-line pieces of anycast-lab's subcommands (harness/cli/main.c and
 * cli_report.c): parsing a subcommand's option table, the options they spell
 * alike, and loading a lab file with its expectations checked and every
 * diagnostic on stderr. */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>

#include "ah/opt.h"
#include "harness/lab/lab.h"

/* ah_opt_parse for a command of anycast-lab. Returns -1 when the command
 * goes on (*operand: its first operand), else its exit status: 0 after
 * --help or --version, 2 after a usage error. */
int cli_parse(const struct ah_opt_cmd *cmd, void *base, int argc, char **argv, int *operand);

/* -q, --quiet: errors only. */
int cli_opt_quiet(const struct ah_opt *opt, void *base, const char *val, char *err, size_t errlen);

/* Loads the lab file at path and validates its expect: strings against it,
 * printing every diagnostic to stderr. Returns 0 with *out set (lab_free()
 * it) or a negative errno (lab_load_exit() gives the exit status). */
int cli_load_lab(const char *path, struct lab **out);

/* `anycast-lab report ARGS`: argv[0] is "report". Returns the exit status. */
int cli_report_main(int argc, char **argv);

/* `anycast-lab diff ARGS`: argv[0] is "diff". */
int cli_diff_main(int argc, char **argv);

/* `anycast-lab drill NAME VERB NODE [MS]`: argv[0] is "drill". */
int cli_drill_main(int argc, char **argv);

/* `anycast-lab atlas import|spec ARGS`: argv[0] is "atlas". */
int cli_atlas_main(int argc, char **argv);

#endif
