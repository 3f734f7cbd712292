/* Table-driven command-line parsing (see ah/opt.h): getopt_long's short
 * string and struct option array are built from the table, each value is
 * checked and stored by its kind, and --help is formatted from the same
 * entries. */
#include "ah/opt.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ah/addr.h"
#include "ah/dur.h"
#include "ah/size.h"

/* --help: the column the option texts start at, and the line width. */
#define HELP_COL   31
#define HELP_WIDTH 79

/* getopt_long's value for an entry without a short letter: above any char. */
#define LONG_ONLY_BASE 256

static bool takes_arg(const struct ah_opt *o)
{
    switch (o->kind) {
    case AH_OPT_FLAG:
    case AH_OPT_FLAG_OFF:
    case AH_OPT_HELP:
    case AH_OPT_VERSION:
        return false;
    case AH_OPT_CALL:
        return o->metavar != NULL;
    default:
        return true;
    }
}

static void cmd_name(const struct ah_opt_cmd *cmd, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s", cmd->program, cmd->command ? " " : "",
             cmd->command ? cmd->command : "");
}

static bool has_help(const struct ah_opt_cmd *cmd)
{
    for (size_t i = 0; i < cmd->nopts; i++)
        if (cmd->opts[i].kind == AH_OPT_HELP)
            return true;
    return false;
}

static void verror(const struct ah_opt_cmd *cmd, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void verror(const struct ah_opt_cmd *cmd, const char *fmt, va_list ap)
{
    char name[128], msg[768];
    cmd_name(cmd, name, sizeof name);
    vsnprintf(msg, sizeof msg, fmt, ap);
    fprintf(stderr, "%s: %s\n", name, msg);
    if (has_help(cmd))
        fprintf(stderr, "Try '%s --help' for more information.\n", name);
}

int ah_opt_error(const struct ah_opt_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(cmd, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* The largest value a destination of size bytes holds. */
static uint64_t size_max(size_t size)
{
    return size >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * size)) - 1;
}

/* The largest accepted value, in the option's own unit (ns for DUR). */
static uint64_t opt_max(const struct ah_opt *o)
{
    uint64_t m, unit = o->unit > 1 ? o->unit : 1;
    if (o->max != 0)
        return o->max;
    m = size_max(o->size);
    if (o->kind == AH_OPT_DUR && unit > 1)
        return m > (UINT64_MAX - (unit - 1)) / unit ? UINT64_MAX : m * unit + unit - 1;
    return m;
}

static void store(void *p, size_t size, uint64_t v)
{
    switch (size) {
    case 1: {
        uint8_t x = (uint8_t)v;
        memcpy(p, &x, 1);
        break;
    }
    case 2: {
        uint16_t x = (uint16_t)v;
        memcpy(p, &x, 2);
        break;
    }
    case 4: {
        uint32_t x = (uint32_t)v;
        memcpy(p, &x, 4);
        break;
    }
    default: /* 8, as check_table() made sure */
        memcpy(p, &v, 8);
    }
}

/* Decimal digits only (no sign, space or base prefix): -EINVAL, or -ERANGE
 * past UINT64_MAX. */
static int parse_uint(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*end != '\0')
        return -EINVAL;
    if (errno != 0)
        return -ERANGE;
    *out = v;
    return 0;
}

static void dur_why(const struct ah_opt *o, char *buf, size_t len)
{
    char a[32], b[32];
    ah_dur_format(o->min, a, sizeof a);
    ah_dur_format(o->max, b, sizeof b);
    if (o->max != 0)
        snprintf(buf, len, " is not a duration between %s and %s", a, b);
    else if (o->min == 0)
        snprintf(buf, len, " is not a duration");
    else if (o->min == 1)
        snprintf(buf, len, " is not a duration above 0");
    else
        snprintf(buf, len, " is not a duration of at least %s", a);
}

static void choice_why(const struct ah_opt *o, char *buf, size_t len)
{
    size_t n = 0, off;
    while (o->choices[n].name != NULL)
        n++;
    off = (size_t)snprintf(buf, len, " is not");
    for (size_t i = 0; i < n && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s",
                                i == 0      ? " "
                                : i + 1 < n ? ", "
                                            : " or ",
                                o->choices[i].name);
}

/* The text after the quoted value when it is refused: the entry's own, or
 * one made from its kind and range. */
static void why(const struct ah_opt *o, int rc, char *buf, size_t len)
{
    if (rc == -ERANGE && o->why_range != NULL) {
        snprintf(buf, len, "%s", o->why_range);
        return;
    }
    if (o->why != NULL) {
        snprintf(buf, len, "%s", o->why);
        return;
    }
    switch (o->kind) {
    case AH_OPT_UINT:
        if (o->min == 0 && opt_max(o) == size_max(o->size))
            snprintf(buf, len, " is not a number");
        else
            snprintf(buf, len, " is not a number in %llu..%llu", (unsigned long long)o->min,
                     (unsigned long long)opt_max(o));
        break;
    case AH_OPT_DUR:
        dur_why(o, buf, len);
        break;
    case AH_OPT_SIZE:
        snprintf(buf, len, " is not a size%s", o->max ? " in range" : "");
        break;
    case AH_OPT_ADDR:
        snprintf(buf, len, " is not an IPv4 or IPv6 address");
        break;
    case AH_OPT_STRING:
        snprintf(buf, len, " is longer than %llu bytes", (unsigned long long)o->max);
        break;
    case AH_OPT_CHOICE:
        choice_why(o, buf, len);
        break;
    default:
        snprintf(buf, len, " is not valid");
    }
}

static int in_range(const struct ah_opt *o, uint64_t v)
{
    return v < o->min || v > opt_max(o) ? -ERANGE : 0;
}

static int find_choice(const struct ah_opt *o, const char *val, uint64_t *out)
{
    for (const struct ah_opt_choice *c = o->choices; c->name != NULL; c++) {
        if (strcmp(c->name, val) == 0) {
            *out = (uint64_t)c->value;
            return 0;
        }
    }
    return -EINVAL;
}

/* Checks and stores one value of a kind the table describes completely. */
static int store_value(const struct ah_opt *o, char *dest, const char *val)
{
    uint64_t v = 0;
    int rc;
    switch (o->kind) {
    case AH_OPT_STRING:
        if (o->max != 0 && strlen(val) > o->max)
            return -ERANGE;
        memcpy(dest, &val, sizeof val);
        return 0;
    case AH_OPT_ADDR:
        return ah_addr_parse_ip(val, (struct ah_addr *)(void *)dest);
    case AH_OPT_UINT:
        rc = parse_uint(val, &v);
        break;
    case AH_OPT_DUR:
        rc = ah_dur_parse(val, &v);
        break;
    case AH_OPT_SIZE:
        rc = ah_size_parse(val, &v);
        break;
    case AH_OPT_CHOICE:
        rc = find_choice(o, val, &v);
        if (rc == 0)
            store(dest, o->size, v);
        return rc;
    default:
        return -EINVAL;
    }
    /* A value that does not parse (overflow included) is -EINVAL; -ERANGE
     * is kept for a well-formed one outside min..max. */
    if (rc < 0)
        return -EINVAL;
    rc = in_range(o, v);
    if (rc < 0)
        return rc;
    if (o->kind == AH_OPT_DUR && o->unit > 1)
        v /= o->unit;
    store(dest, o->size, v);
    return 0;
}

/* Applies one option. Returns 0, 1 (help or version printed) or -EINVAL
 * after printing the error. */
static int apply(const struct ah_opt_cmd *cmd, const struct ah_opt *o, void *base, const char *val)
{
    char *dest = (char *)base + o->off;
    char err[512] = "";
    int rc;
    switch (o->kind) {
    case AH_OPT_FLAG:
    case AH_OPT_FLAG_OFF: {
        bool b = o->kind == AH_OPT_FLAG;
        memcpy(dest, &b, sizeof b);
        return 0;
    }
    case AH_OPT_HELP:
        ah_opt_help(cmd, stdout);
        return 1;
    case AH_OPT_VERSION:
        printf("%s %s\n", cmd->program, cmd->version ? cmd->version : "");
        return 1;
    case AH_OPT_CALL:
        rc = o->fn(o, base, val, err, sizeof err);
        if (rc < 0)
            return ah_opt_error(cmd, "--%s: %s", o->name, err[0] ? err : "invalid");
        return 0;
    default:
        rc = store_value(o, dest, val);
        if (rc == 0)
            return 0;
        why(o, rc, err, sizeof err);
        return ah_opt_error(cmd, "--%s: \"%s\"%s", o->name, val, err);
    }
}

static int opt_val(const struct ah_opt_cmd *cmd, size_t i)
{
    return cmd->opts[i].letter ? (unsigned char)cmd->opts[i].letter : LONG_ONLY_BASE + (int)i;
}

static const struct ah_opt *by_val(const struct ah_opt_cmd *cmd, int c)
{
    for (size_t i = 0; i < cmd->nopts; i++)
        if (opt_val(cmd, i) == c)
            return &cmd->opts[i];
    return NULL;
}

/* getopt_long's arguments from the table. The leading ':' makes a missing
 * argument ':' rather than '?', so it is told apart from an unknown option. */
static void build(const struct ah_opt_cmd *cmd, struct option *lo, char *shorts)
{
    size_t n = 0;
    if (cmd->flags & AH_OPT_STOP_AT_OPERAND)
        shorts[n++] = '+';
    shorts[n++] = ':';
    for (size_t i = 0; i < cmd->nopts; i++) {
        const struct ah_opt *o = &cmd->opts[i];
        lo[i] = (struct option){o->name, takes_arg(o) ? required_argument : no_argument, NULL,
                                opt_val(cmd, i)};
        if (o->letter) {
            shorts[n++] = o->letter;
            if (takes_arg(o))
                shorts[n++] = ':';
        }
    }
    shorts[n] = '\0';
    lo[cmd->nopts] = (struct option){NULL, 0, NULL, 0};
}

/* getopt_long returned '?' or ':' for argv[optind - 1]. */
static int bad_option(const struct ah_opt_cmd *cmd, int c, const char *arg)
{
    const struct ah_opt *o = optopt ? by_val(cmd, optopt) : NULL;
    bool is_long = strncmp(arg, "--", 2) == 0;
    if (c == ':' && o != NULL && is_long)
        return ah_opt_error(cmd, "--%s: missing argument", o->name);
    if (c == ':')
        return ah_opt_error(cmd, "-%c: missing argument", optopt);
    if (o != NULL && is_long) /* "--flag=value" */
        return ah_opt_error(cmd, "--%s: takes no argument", o->name);
    if (optopt != 0 && !is_long)
        return ah_opt_error(cmd, "unknown option -%c", optopt);
    return ah_opt_error(cmd, "unknown option %s", arg);
}

/* A mistake in the table itself: a value with nowhere to go, or of a size
 * store() cannot write. */
static int check_table(const struct ah_opt_cmd *cmd)
{
    if (cmd->nopts > AH_OPT_MAX)
        return ah_opt_error(cmd, "internal: more than %d options", AH_OPT_MAX);
    for (size_t i = 0; i < cmd->nopts; i++) {
        const struct ah_opt *o = &cmd->opts[i];
        bool sized = o->kind == AH_OPT_UINT || o->kind == AH_OPT_DUR || o->kind == AH_OPT_SIZE ||
                     o->kind == AH_OPT_CHOICE;
        bool ok = !sized || o->size == 1 || o->size == 2 || o->size == 4 || o->size == 8;
        ok = ok && (o->kind != AH_OPT_CALL || o->fn != NULL);
        ok = ok && (o->kind != AH_OPT_CHOICE || o->choices != NULL);
        if (o->name == NULL || !ok)
            return ah_opt_error(cmd, "internal: option table entry %zu is incomplete", i);
    }
    return 0;
}

int ah_opt_parse(const struct ah_opt_cmd *cmd, void *base, int argc, char **argv, int *operand)
{
    struct option lo[AH_OPT_MAX + 1];
    char shorts[3 * AH_OPT_MAX + 3];
    int c, rc;

    if (check_table(cmd) < 0)
        return -EINVAL;
    build(cmd, lo, shorts);
    opterr = 0;
    optind = 0; /* glibc: 0 also resets its state from an earlier parse */
    while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
        const struct ah_opt *o = by_val(cmd, c);
        if (c == '?' || c == ':' || o == NULL)
            return bad_option(cmd, c, argv[optind - 1]);
        rc = apply(cmd, o, base, optarg);
        if (rc != 0)
            return rc;
    }
    *operand = optind;
    return 0;
}

/* Prints text from column col (the cursor is at column used), breaking
 * lines at spaces before HELP_WIDTH; continuation lines start at col. */
static void put_wrapped(FILE *f, const char *text, int col, int used)
{
    const char *p = text;
    int at = col;
    fprintf(f, "%*s", col - used, "");
    while (*p != '\0') {
        const char *sp = strchr(p, ' ');
        int wl = sp ? (int)(sp - p) : (int)strlen(p);
        if (at > col && at + 1 + wl > HELP_WIDTH) {
            fprintf(f, "\n%*s", col, "");
            at = col;
        } else if (at > col) {
            fputc(' ', f);
            at++;
        }
        fprintf(f, "%.*s", wl, p);
        at += wl;
        p += wl;
        while (*p == ' ')
            p++;
    }
    fputc('\n', f);
}

static void help_line(FILE *f, const struct ah_opt *o)
{
    char left[128];
    int n;
    if (o->letter)
        n = snprintf(left, sizeof left, "  -%c, --%s%s%s", o->letter, o->name,
                     o->metavar ? " " : "", o->metavar ? o->metavar : "");
    else
        n = snprintf(left, sizeof left, "      --%s%s%s", o->name, o->metavar ? " " : "",
                     o->metavar ? o->metavar : "");
    fputs(left, f);
    /* A name too long for the column gets its text on the next line. */
    if (n + 1 > HELP_COL) {
        fputc('\n', f);
        n = 0;
    }
    put_wrapped(f, o->help ? o->help : "", HELP_COL, n);
}

void ah_opt_help(const struct ah_opt_cmd *cmd, FILE *f)
{
    const char *section = NULL;
    fputs(cmd->usage, f);
    for (size_t i = 0; i < cmd->nopts; i++) {
        const struct ah_opt *o = &cmd->opts[i];
        const char *s = o->section ? o->section : section ? section : "Options";
        if (section == NULL || strcmp(s, section) != 0)
            fprintf(f, "\n%s:\n", s);
        section = s;
        help_line(f, o);
    }
    if (cmd->footer != NULL)
        fprintf(f, "\n%s", cmd->footer);
}
