/* JUnit XML for CI systems (docs/formats.md, "JUnit XML"): one testsuite of
 * testcases, each passed, failed with a message or skipped, every string
 * escaped so that any bytes in a name leave a well-formed file. */
#ifndef JUNIT_H
#define JUNIT_H

#include <stddef.h>
#include <stdio.h>

enum junit_status { JUNIT_PASS, JUNIT_FAIL, JUNIT_SKIP };

struct junit_case {
    const char *name;
    enum junit_status status;
    const char *message; /* the failure or skip message; NULL for a pass */
};

/* Writes text already shown as a terminal shows it (ah_esc_term) to f with
 * & < > " ' as references (&#39; for the quote: valid in XML and HTML) and
 * U+FFFE, U+FFFF as \xNN text: for the report's HTML escaper too. */
void junit_markup(FILE *f, const char *shown);

/* Writes s (NULL as "") to f as XML 1.0 character data or attribute text:
 * bytes are first shown as a terminal shows them (controls and invalid
 * UTF-8 as \xNN, a backslash doubled: lib/esc.c), so the text is valid
 * UTF-8 with no character XML forbids; then & < > " ' become references. */
void junit_xml_str(FILE *f, const char *s);

/* Writes the document to f: one testsuite named suite (also every case's
 * classname). Returns 0 or -EIO. */
int junit_write_file(FILE *f, const char *suite, const struct junit_case *c, size_t n);

/* The same to path ("-": stdout), written whole and never through a symlink
 * (lib/file.c). Returns 0 or a negative errno. */
int junit_write(const char *path, const char *suite, const struct junit_case *c, size_t n);

struct rp;
/* The report's verdicts (report_int.h) as JUnit: one testcase per
 * expectation named by its text, classname the lab's name; a failure's
 * message is the verdict line `anycast-lab -q` logs, a not measured one is
 * skipped with its reason. */
int junit_write_verdicts(const char *path, const struct rp *rp, const char *lab_path);

#endif
