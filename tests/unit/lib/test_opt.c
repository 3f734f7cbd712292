/* Unit tests for the table-driven option parser (lib/opt.c): every kind of
 * value with its range, the error messages (missing argument, unknown
 * option, a refused value), "--" and permutation as getopt_long does them,
 * and --help listing every option. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ah/addr.h"
#include "ah/clock.h"
#include "ah/opt.h"
#include "tests/unit/check_main.h"

struct conf {
    bool verbose;
    bool color;
    const char *name;
    const char *path;
    unsigned workers;
    uint16_t port;
    uint64_t count;
    uint64_t timeout_ms;
    uint64_t budget;
    struct ah_addr addr;
    int mode;
    int calls;
    char last[16];
};

static int opt_tag(const struct ah_opt *opt, void *base, const char *val, char *err, size_t errlen)
{
    struct conf *c = base;
    (void)opt;
    if (strcmp(val, "bad") == 0) {
        snprintf(err, errlen, "\"%s\" is refused", val);
        return -EINVAL;
    }
    c->calls++;
    snprintf(c->last, sizeof c->last, "%s", val);
    return 0;
}

static const struct ah_opt_choice modes[] = {{"fast", 1}, {"slow", 2}, {"off", -1}, {NULL, 0}};

#define C(member) AH_OPT_AT(struct conf, member)

static const struct ah_opt opts[] = {
    {"verbose", 'v', AH_OPT_FLAG, C(verbose), .help = "say more"},
    {"no-color", 0, AH_OPT_FLAG_OFF, C(color), .help = "plain output"},
    {"name", 'n', AH_OPT_STRING, C(name), .metavar = "NAME", .help = "a name"},
    {"path", 0, AH_OPT_STRING, C(path), .max = 8, .metavar = "PATH", .help = "at most 8 bytes"},
    {"workers", 'w', AH_OPT_UINT, C(workers), .min = 1, .max = 64, .metavar = "N",
     .help = "worker threads"},
    {"port", 'p', AH_OPT_UINT, C(port), .min = 1, .why = " is not a port", .metavar = "PORT",
     .help = "a port"},
    {"count", 0, AH_OPT_UINT, C(count), .metavar = "N", .help = "any count"},
    {"timeout", 't', AH_OPT_DUR, C(timeout_ms), .unit = AH_NS_PER_MS, .min = AH_NS_PER_MS,
     .max = 3600 * AH_NS_PER_S, .metavar = "DUR", .help = "a duration kept in milliseconds"},
    {"budget", 0, AH_OPT_SIZE, C(budget), .max = 1 << 20, .why = ": expected a size up to 1M",
     .why_range = ": too big", .metavar = "SIZE", .help = "a size"},
    {"addr", 'a', AH_OPT_ADDR, C(addr), .metavar = "ADDR", .help = "an address"},
    {"mode", 'm', AH_OPT_CHOICE, C(mode), .choices = modes, .metavar = "MODE",
     .help = "fast, slow or off"},
    {"tag", 0, AH_OPT_CALL, .fn = opt_tag, .metavar = "TAG", .help = "a repeatable tag"},
    {"help", 'h', AH_OPT_HELP, .help = "this text"},
    {"version", 'V', AH_OPT_VERSION, .help = "the version", .section = "Other"},
};

static const struct ah_opt_cmd cmd = {
    .program = "prog",
    .command = "sub",
    .version = "1.2.3",
    .usage = "Usage: prog sub [OPTION]... ARG...\n",
    .footer = "Exit status: 0 ok.\n",
    .opts = opts,
    .nopts = sizeof opts / sizeof opts[0],
};

static char errbuf[4096], outbuf[4096];

/* Reads back what was written to tmp, and closes it. */
static void slurp(FILE *tmp, char *buf, size_t len)
{
    rewind(tmp);
    size_t n = fread(buf, 1, len - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
}

/* Parses args (NULL-terminated, argv[0] added) into c, with stderr caught
 * in errbuf and stdout in outbuf. Returns what ah_opt_parse returned; *op is its operand index. */
static int parse_flags(const struct ah_opt_cmd *cm, struct conf *c, const char *const *args,
                       int *op, char ***argv_out)
{
    static char *argv[32];
    int argc = 0, rc, saved_err, saved_out;
    FILE *err = tmpfile(), *out = tmpfile();

    ck_assert(err != NULL && out != NULL);
    argv[argc++] = (char *)"sub";
    for (; *args != NULL; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    memset(c, 0, sizeof *c);
    c->color = true;
    *op = -1;
    fflush(stderr);
    fflush(stdout);
    saved_err = dup(STDERR_FILENO);
    saved_out = dup(STDOUT_FILENO);
    dup2(fileno(err), STDERR_FILENO);
    dup2(fileno(out), STDOUT_FILENO);
    rc = ah_opt_parse(cm, c, argc, argv, op);
    fflush(stderr);
    fflush(stdout);
    dup2(saved_err, STDERR_FILENO);
    dup2(saved_out, STDOUT_FILENO);
    close(saved_err);
    close(saved_out);
    slurp(err, errbuf, sizeof errbuf);
    slurp(out, outbuf, sizeof outbuf);
    if (argv_out)
        *argv_out = argv;
    return rc;
}

static int parse(struct conf *c, const char *const *args, int *op)
{
    return parse_flags(&cmd, c, args, op, NULL);
}

/* The first line of what the parser printed. */
static const char *first_line(void)
{
    static char line[1024];
    size_t n = strcspn(errbuf, "\n");
    snprintf(line, sizeof line, "%.*s", (int)n, errbuf);
    return line;
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

START_TEST(every_kind)
{
    struct conf c;
    int op;
    ck_assert_int_eq(
        parse(&c,
              ARGS("-v", "--no-color", "-n", "x", "--path", "12345678", "-w", "64", "-p", "65535",
                   "--count", "18446744073709551615", "-t", "1.5s", "--budget", "512K", "-a",
                   "2001:db8::1", "-m", "off", "--tag", "a", "--tag=b"),
              &op),
        0);
    ck_assert_str_eq(errbuf, "");
    ck_assert(c.verbose && !c.color);
    ck_assert_str_eq(c.name, "x");
    ck_assert_str_eq(c.path, "12345678");
    ck_assert_uint_eq(c.workers, 64);
    ck_assert_uint_eq(c.port, 65535);
    ck_assert_uint_eq(c.count, UINT64_MAX);
    ck_assert_uint_eq(c.timeout_ms, 1500);
    ck_assert_uint_eq(c.budget, 512 * 1024);
    ck_assert_int_eq(ah_addr_family(&c.addr), AF_INET6);
    ck_assert_int_eq(c.mode, -1);
    ck_assert_int_eq(c.calls, 2);
    ck_assert_str_eq(c.last, "b");
    ck_assert_int_eq(op, 24);
}
END_TEST

/* Each refused value: -EINVAL and one message naming the program, the
 * option and the value, then the pointer to --help. */
START_TEST(refused_values)
{
    static const struct {
        const char *args[3];
        const char *msg;
    } cases[] = {
        {{"-w", "0"}, "prog sub: --workers: \"0\" is not a number in 1..64"},
        {{"-w", "65"}, "prog sub: --workers: \"65\" is not a number in 1..64"},
        {{"-w", "-1"}, "prog sub: --workers: \"-1\" is not a number in 1..64"},
        {{"-w", " 1"}, "prog sub: --workers: \" 1\" is not a number in 1..64"},
        {{"-w", "1x"}, "prog sub: --workers: \"1x\" is not a number in 1..64"},
        {{"-w", ""}, "prog sub: --workers: \"\" is not a number in 1..64"},
        {{"--port", "65536"}, "prog sub: --port: \"65536\" is not a port"},
        {{"--port", "0"}, "prog sub: --port: \"0\" is not a port"},
        {{"--count", "18446744073709551616"},
         "prog sub: --count: \"18446744073709551616\" is "
         "not a number"},
        {{"-t", "0.5ms"}, "prog sub: --timeout: \"0.5ms\" is not a duration between 1ms and 1h"},
        {{"-t", "2h"}, "prog sub: --timeout: \"2h\" is not a duration between 1ms and 1h"},
        {{"-t", "soon"}, "prog sub: --timeout: \"soon\" is not a duration between 1ms and 1h"},
        {{"--budget", "2M"}, "prog sub: --budget: \"2M\": too big"},
        {{"--budget", "2X"}, "prog sub: --budget: \"2X\": expected a size up to 1M"},
        {{"--path", "123456789"}, "prog sub: --path: \"123456789\" is longer than 8 bytes"},
        {{"-a", "localhost"}, "prog sub: --addr: \"localhost\" is not an IPv4 or IPv6 address"},
        {{"-m", "medium"}, "prog sub: --mode: \"medium\" is not fast, slow or off"},
        {{"--tag", "bad"}, "prog sub: --tag: \"bad\" is refused"},
    };
    struct conf c;
    int op;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const args[] = {cases[i].args[0], cases[i].args[1], NULL};
        ck_assert_int_eq(parse(&c, args, &op), -EINVAL);
        ck_assert_str_eq(first_line(), cases[i].msg);
        ck_assert_ptr_nonnull(strstr(errbuf, "\nTry 'prog sub --help' for more information.\n"));
    }
}
END_TEST

START_TEST(ranges_inclusive)
{
    struct conf c;
    int op;
    ck_assert_int_eq(parse(&c, ARGS("-w", "1", "-t", "1ms", "--budget", "1M", "-p", "1"), &op), 0);
    ck_assert_uint_eq(c.workers, 1);
    ck_assert_uint_eq(c.timeout_ms, 1);
    ck_assert_uint_eq(c.budget, 1 << 20);
    ck_assert_int_eq(parse(&c, ARGS("-t", "1h", "-m", "slow"), &op), 0);
    ck_assert_uint_eq(c.timeout_ms, 3600000);
    ck_assert_int_eq(c.mode, 2);
}
END_TEST

START_TEST(missing_and_unknown)
{
    struct conf c;
    int op;
    ck_assert_int_eq(parse(&c, ARGS("--workers"), &op), -EINVAL);
    ck_assert_str_eq(first_line(), "prog sub: --workers: missing argument");
    /* An abbreviation is named in full. */
    ck_assert_int_eq(parse(&c, ARGS("--work"), &op), -EINVAL);
    ck_assert_str_eq(first_line(), "prog sub: --workers: missing argument");
    ck_assert_int_eq(parse(&c, ARGS("-v", "-w"), &op), -EINVAL);
    ck_assert_str_eq(first_line(), "prog sub: -w: missing argument");
    ck_assert_int_eq(parse(&c, ARGS("--bogus", "x"), &op), -EINVAL);
    ck_assert_str_eq(first_line(), "prog sub: unknown option --bogus");
    ck_assert_int_eq(parse(&c, ARGS("-x"), &op), -EINVAL);
    ck_assert_str_eq(first_line(), "prog sub: unknown option -x");
    ck_assert_int_eq(parse(&c, ARGS("--verbose=yes"), &op), -EINVAL);
    ck_assert_str_eq(first_line(), "prog sub: --verbose: takes no argument");
    /* Ambiguous: --no-color and --name both start with "--n". */
    ck_assert_int_eq(parse(&c, ARGS("--n", "x"), &op), -EINVAL);
    ck_assert_str_eq(first_line(), "prog sub: unknown option --n");
    /* Options before the bad one took effect; none after it did. */
    ck_assert_int_eq(parse(&c, ARGS("-v", "-w", "0", "-n", "x"), &op), -EINVAL);
    ck_assert(c.verbose);
    ck_assert_ptr_null(c.name);
}
END_TEST

START_TEST(permutation_and_double_dash)
{
    struct conf c;
    char **argv;
    int op;
    ck_assert_int_eq(
        parse_flags(&cmd, &c, ARGS("one", "-v", "two", "-w", "3", "--", "-n", "x"), &op, &argv), 0);
    ck_assert(c.verbose);
    ck_assert_uint_eq(c.workers, 3);
    ck_assert_ptr_null(c.name);
    /* getopt_long moves the operands after the options, in their order. */
    ck_assert_int_eq(op, 5);
    ck_assert_str_eq(argv[op], "one");
    ck_assert_str_eq(argv[op + 1], "two");
    ck_assert_str_eq(argv[op + 2], "-n");
    ck_assert_str_eq(argv[op + 3], "x");

    struct ah_opt_cmd stop = cmd;
    stop.flags = AH_OPT_STOP_AT_OPERAND;
    ck_assert_int_eq(parse_flags(&stop, &c, ARGS("-v", "cmd", "-w", "3"), &op, &argv), 0);
    ck_assert(c.verbose);
    ck_assert_uint_eq(c.workers, 0);
    ck_assert_int_eq(op, 2);
    ck_assert_str_eq(argv[op], "cmd");
    ck_assert_str_eq(argv[op + 1], "-w");

    /* A second parse starts afresh (getopt's state is reset). */
    ck_assert_int_eq(parse(&c, ARGS("-vw2"), &op), 0);
    ck_assert(c.verbose);
    ck_assert_uint_eq(c.workers, 2);
    ck_assert_int_eq(op, 2);
}
END_TEST

START_TEST(help_and_version)
{
    struct conf c;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    int op;

    ck_assert_ptr_nonnull(f);
    ah_opt_help(&cmd, f);
    fclose(f);
    ck_assert(strncmp(out, "Usage: prog sub [OPTION]... ARG...\n\nOptions:\n", 45) == 0);
    for (size_t i = 0; i < cmd.nopts; i++) {
        char want[64];
        snprintf(want, sizeof want, "--%s%s%s", opts[i].name, opts[i].metavar ? " " : "",
                 opts[i].metavar ? opts[i].metavar : "");
        ck_assert_msg(strstr(out, want) != NULL, "--help lacks %s", want);
        ck_assert_msg(strstr(out, opts[i].help) != NULL, "--help lacks \"%s\"", opts[i].help);
    }
    ck_assert_ptr_nonnull(strstr(out, "  -w, --workers N"));
    ck_assert_ptr_nonnull(strstr(out, "      --count N"));
    ck_assert_ptr_nonnull(strstr(out, "\nOther:\n  -V, --version"));
    ck_assert(strlen(out) > 20 && strcmp(out + strlen(out) - 20, "\nExit status: 0 ok.\n") == 0);
    for (char *line = out; *line != '\0';) {
        size_t n = strcspn(line, "\n");
        ck_assert_msg(n <= 79, "a --help line of %zu columns", n);
        line += n + (line[n] == '\n');
    }
    free(out);

    /* --help ends the parse where it stands: the bad value after it is not
     * looked at. */
    ck_assert_int_eq(parse(&c, ARGS("-w", "2", "--help", "-w", "0"), &op), 1);
    ck_assert_str_eq(errbuf, "");
    ck_assert(strncmp(outbuf, "Usage: prog sub", 15) == 0);
    ck_assert_int_eq(parse(&c, ARGS("-V"), &op), 1);
    ck_assert_str_eq(outbuf, "prog 1.2.3\n");
}
END_TEST

START_TEST(long_help_wraps)
{
    static const struct ah_opt longs[] = {
        {"a-very-long-option-name", 0, AH_OPT_STRING, .metavar = "WITH-A-METAVAR",
         .help = "text that goes on the next line because the name fills the column, and "
                 "wraps at seventy-nine columns like every other text in the table"},
    };
    static const struct ah_opt_cmd lc = {
        .program = "p", .usage = "Usage: p\n", .opts = longs, .nopts = 1};
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    ah_opt_help(&lc, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(out, "      --a-very-long-option-name WITH-A-METAVAR\n"
                                      "                               text that goes"));
    ck_assert_ptr_null(strstr(out, "Try"));
    free(out);
}
END_TEST

/* A table entry missing what its kind needs is refused before any parsing. */
START_TEST(bad_table)
{
    static const struct ah_opt no_size[] = {{"n", 0, AH_OPT_UINT, .metavar = "N"}};
    static const struct ah_opt no_fn[] = {{"f", 0, AH_OPT_CALL, .help = "f"}};
    static const struct ah_opt_cmd a = {.program = "p", .opts = no_size, .nopts = 1};
    static const struct ah_opt_cmd b = {.program = "p", .opts = no_fn, .nopts = 1};
    struct conf c;
    int op;
    ck_assert_int_eq(parse_flags(&a, &c, ARGS("--n", "1"), &op, NULL), -EINVAL);
    ck_assert_str_eq(errbuf, "p: internal: option table entry 0 is incomplete\n");
    ck_assert_int_eq(parse_flags(&b, &c, ARGS("x"), &op, NULL), -EINVAL);
}
END_TEST

static Suite *opt_suite(void)
{
    Suite *s = suite_create("opt");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, every_kind);
    tcase_add_test(tc, refused_values);
    tcase_add_test(tc, ranges_inclusive);
    tcase_add_test(tc, missing_and_unknown);
    tcase_add_test(tc, permutation_and_double_dash);
    tcase_add_test(tc, help_and_version);
    tcase_add_test(tc, long_help_wraps);
    tcase_add_test(tc, bad_table);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(opt_suite)
