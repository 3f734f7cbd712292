/* `anycast-lab drill NAME|RUNID VERB NODE [MS]`: the command line of a drill
 * verb applied to a lab that is up; the step itself is run_drill_up()
 * (harness/run/run_drill_cmd.c). */
#include <stdio.h>
#include <unistd.h>

#include "ah/log.h"
#include "cli.h"
#include "harness/run/run.h"

static const struct ah_opt drill_opts[] = {
    {"help", 'h', AH_OPT_HELP, .help = "this text"},
};

static const struct ah_opt_cmd drill_cmd = {
    .program = "anycast-lab",
    .command = "drill",
    .version = AH_VERSION,
    .usage = "Usage: anycast-lab drill NAME|RUNID VERB NODE [MS]\n"
             "\n"
             "Applies one drill verb to a lab started with `anycast-lab up` (root), as a\n"
             "scripted drill does: withdraw, announce, link-down, link-up, stop, start,\n"
             "pause, resume, or delay MS (0 ends it). A flap is withdraw then announce.\n"
             "Prints the events.csv rows it wrote (ts_ns,event,node,detail: the verb's\n"
             "row with the kernel's acknowledgement time, then one `route` row per router\n"
             "whose route changed) and appends them to the lab's events.csv in its state\n"
             "directory; `down` keeps that file in the results. With routing: tracked or\n"
             "bgp, withdraw and announce need the lab's own process (use them in `run`).\n"
             "\n"
             "Verbs: withdraw, announce, link-down, link-up, stop, start, pause, resume, delay\n",
    .footer = "Exit status: 0 done, 1 the kernel or the responder refused, 2 bad usage\n"
              "(unknown lab, node or verb, or a verb the lab cannot do).\n",
    .opts = drill_opts,
    .nopts = sizeof drill_opts / sizeof drill_opts[0],
};

int cli_drill_main(int argc, char **argv)
{
    int op, rc = cli_parse(&drill_cmd, NULL, argc, argv, &op);
    if (rc >= 0)
        return rc;
    int n = argc - op;
    if (n != 3 && n != 4) {
        ah_log_error("usage: anycast-lab drill NAME|RUNID VERB NODE [MS]");
        return 2;
    }
    if (geteuid() != 0) {
        ah_log_error("drill needs root (labs left up exist only for root)");
        return 1;
    }
    return run_drill_up(argv[op], argv[op + 1], argv[op + 2], n == 4 ? argv[op + 3] : NULL);
}
