/* Command-line options from one declarative table: each entry names a long
 * option, its short letter, the kind of value it takes and where the value
 * goes; getopt_long's arguments, the checks, the error messages and --help
 * are all made from the table, so an option is described in one place. */
#ifndef AH_OPT_H
#define AH_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum ah_opt_kind {
    AH_OPT_FLAG,     /* no value: the bool at off becomes true */
    AH_OPT_FLAG_OFF, /* no value: the bool at off becomes false */
    AH_OPT_STRING,   /* the const char * at off points at the argument; max: its longest length */
    AH_OPT_UINT,     /* decimal digits only, min..max, stored in the unsigned integer at off */
    AH_OPT_DUR,      /* ah_dur_parse, min..max ns, stored divided by unit at off */
    AH_OPT_SIZE,     /* ah_size_parse, min..max bytes, stored at off */
    AH_OPT_ADDR,     /* ah_addr_parse_ip into the struct ah_addr at off */
    AH_OPT_CHOICE,   /* one of choices' names: its value, stored at off */
    AH_OPT_CALL,     /* fn is called, with the argument when metavar is set */
    AH_OPT_HELP,     /* prints the help on stdout: parsing ends, ah_opt_parse returns 1 */
    AH_OPT_VERSION,  /* prints "PROGRAM VERSION" on stdout: likewise */
};

struct ah_opt;

/* A callback. base is the pointer given to ah_opt_parse, val the argument (or
 * NULL for an option without one). To refuse it, write what is wrong into err
 * (the message goes on after "--name: "; say the value yourself, e.g.
 * "\"x\" is not ...") and return a negative errno. */
typedef int (*ah_opt_fn)(const struct ah_opt *opt, void *base, const char *val, char *err,
                         size_t errlen);

struct ah_opt_choice {
    const char *name;
    long long value;
};

struct ah_opt {
    const char *name; /* long name without "--" */
    char letter;      /* short option, or 0 */
    enum ah_opt_kind kind;
    size_t off;        /* destination: offset in the struct at base */
    size_t size;       /* sizeof the destination (UINT, DUR, SIZE, CHOICE) */
    uint64_t min, max; /* accepted range; max 0: the largest the destination holds */
    uint64_t unit;     /* AH_OPT_DUR: the stored value is ns / unit (0: ns) */
    const struct ah_opt_choice *choices; /* AH_OPT_CHOICE: ends with a NULL name */
    ah_opt_fn fn;                        /* AH_OPT_CALL */
    const char *metavar; /* the value's name in --help; NULL for options without one */
    const char *help;    /* one paragraph, wrapped by ah_opt_help */
    /* What follows "--name: \"VALUE\"" when a value is refused, with its own
     * separator (" is not ..." or ": expected ..."); NULL: made from the kind
     * and range. why_range, when set, is used instead for a well-formed value
     * out of range. */
    const char *why;
    const char *why_range;
    const char *section; /* --help heading of this and the next entries; NULL: the same */
};

/* The destination of an entry: a member of the struct ah_opt_parse's base
 * points at. */
#define AH_OPT_AT(type, member) .off = offsetof(type, member), .size = sizeof(((type *)0)->member)

enum {
    AH_OPT_PERMUTE = 0,        /* options and operands mix, as getopt_long does by default */
    AH_OPT_STOP_AT_OPERAND = 1 /* the first operand ends the options (a subcommand follows) */
};

/* One program or subcommand: its table and the text around it in --help. */
struct ah_opt_cmd {
    const char *program; /* "anycast-lab": --version and the start of every message */
    const char *command; /* "report", or NULL for the program itself */
    const char *version; /* printed after the program name by AH_OPT_VERSION */
    const char *usage;   /* the help text before the options ("Usage: ...\n" and more) */
    const char *footer;  /* after the options, or NULL */
    const struct ah_opt *opts;
    size_t nopts;
    unsigned flags; /* AH_OPT_PERMUTE or AH_OPT_STOP_AT_OPERAND */
};

/* At most this many entries in a table. */
#define AH_OPT_MAX 64

/* Parses argv[1..argc) by cmd's table into the struct at base (argv[0] is
 * the program or subcommand name and is skipped). Returns 0 with *operand set
 * to the index of the first operand (options are moved before the operands
 * unless AH_OPT_STOP_AT_OPERAND), 1 when --help or --version was printed
 * (exit 0), or -EINVAL after printing a usage error to stderr ("PROGRAM
 * COMMAND: --rate: \"x\" is not a number", then "Try ... --help"). Never exits. */
int ah_opt_parse(const struct ah_opt_cmd *cmd, void *base, int argc, char **argv, int *operand);

/* Prints cmd's help to f: the usage text, "Options:" and one line per option
 * (short and long name, metavar) with its help wrapped at 79 columns under a
 * column of its own, each section under its heading, then the footer. */
void ah_opt_help(const struct ah_opt_cmd *cmd, FILE *f);

/* Prints a usage error in the parser's words: "PROGRAM[ COMMAND]: message"
 * and, when the table has a help entry, "Try 'PROGRAM[ COMMAND] --help' for
 * more information.". Returns -EINVAL. */
int ah_opt_error(const struct ah_opt_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
