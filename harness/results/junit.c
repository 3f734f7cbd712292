/* JUnit XML for CI systems: the escaper that keeps any bytes well-formed,
 * and the writer of one testsuite (docs/formats.md, "JUnit XML"). */
#include "junit.h"

#include <errno.h>
#include <libgen.h>
#include <stdbool.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ah/esc.h"
#include "ah/file.h"
#include "report_int.h"

/* Bytes of one verdict message. */
#define JUNIT_MSG_MAX 1024

/* U+FFFE and U+FFFF are valid UTF-8 but not XML characters. */
static bool non_character(const unsigned char *p)
{
    return p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF);
}

void junit_markup(FILE *f, const char *shown)
{
    for (const unsigned char *p = (const unsigned char *)shown; *p; p++) {
        const char *ref = *p == '<'    ? "&lt;"
                          : *p == '>'  ? "&gt;"
                          : *p == '&'  ? "&amp;"
                          : *p == '"'  ? "&quot;"
                          : *p == '\'' ? "&#39;"
                                       : NULL;
        if (ref) {
            fputs(ref, f);
        } else if (non_character(p)) {
            fprintf(f, "\\x%02X\\x%02X\\x%02X", p[0], p[1], p[2]);
            p += 2;
        } else {
            fputc(*p, f);
        }
    }
}

void junit_xml_str(FILE *f, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    char *shown = malloc(AH_ESC_TERM_MAX(len));
    if (!shown)
        return;
    ah_esc_term(shown, AH_ESC_TERM_MAX(len), s ? s : "", len);
    junit_markup(f, shown);
    free(shown);
}

int junit_write_file(FILE *f, const char *suite, const struct junit_case *c, size_t n)
{
    size_t failed = 0, skipped = 0;
    for (size_t i = 0; i < n; i++) {
        failed += c[i].status == JUNIT_FAIL;
        skipped += c[i].status == JUNIT_SKIP;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n", n,
            failed, skipped);
    fprintf(f, "  <testsuite name=\"");
    junit_xml_str(f, suite);
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n", n, failed,
            skipped);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "    <testcase classname=\"");
        junit_xml_str(f, suite);
        fprintf(f, "\" name=\"");
        junit_xml_str(f, c[i].name);
        if (c[i].status == JUNIT_PASS) {
            fprintf(f, "\"/>\n");
            continue;
        }
        fprintf(f, "\">\n      <%s message=\"", c[i].status == JUNIT_FAIL ? "failure" : "skipped");
        junit_xml_str(f, c[i].message);
        fprintf(f, "\"/>\n    </testcase>\n");
    }
    fprintf(f, "  </testsuite>\n</testsuites>\n");
    return ferror(f) ? -EIO : 0;
}

int junit_write(const char *path, const char *suite, const struct junit_case *c, size_t n)
{
    if (strcmp(path, "-") == 0) {
        int rc = junit_write_file(stdout, suite, c, n);
        return fflush(stdout) == 0 ? rc : -EIO;
    }
    char d[PATH_MAX], b[PATH_MAX], tmp[PATH_MAX];
    if (strlen(path) >= sizeof d)
        return -ENAMETOOLONG;
    strcpy(d, path);
    strcpy(b, path);
    const char *dir = dirname(d), *name = basename(b);
    /* The report's own symlink-safe temporary file and rename. */
    FILE *f = rp_out_open(dir, name, tmp, sizeof tmp);
    if (!f)
        return -errno;
    int rc = junit_write_file(f, suite, c, n);
    if (rc < 0) {
        fclose(f);
        unlink(tmp);
        return rc;
    }
    return rp_out_close(f, tmp, dir, name);
}

int junit_write_verdicts(const char *path, const struct rp *rp, const char *lab_path)
{
    struct junit_case *c = calloc(rp->nverdicts ? rp->nverdicts : 1, sizeof *c);
    char *msgs = calloc(rp->nverdicts ? rp->nverdicts : 1, JUNIT_MSG_MAX);
    int rc = -ENOMEM;
    if (!c || !msgs)
        goto out;
    for (size_t i = 0; i < rp->nverdicts; i++) {
        const struct rp_verdict *v = &rp->verdicts[i];
        char *m = msgs + i * JUNIT_MSG_MAX;
        c[i].name = v->text;
        c[i].status = v->v.not_measured ? JUNIT_SKIP : v->v.pass ? JUNIT_PASS : JUNIT_FAIL;
        /* The verdict line as `anycast-lab -q` logs it. */
        if (v->v.not_measured)
            snprintf(m, JUNIT_MSG_MAX, "%s:%u: \"%s\": not measured: %s", lab_path, v->line,
                     v->text, v->v.where);
        else
            snprintf(m, JUNIT_MSG_MAX, "%s:%u: \"%s\": measured %s (%s)%s%s", lab_path, v->line,
                     v->text, v->v.measured, v->v.where, v->why[0] ? ": " : "", v->why);
        c[i].message = c[i].status == JUNIT_PASS ? NULL : m;
    }
    rc = junit_write(path, rp->name, c, rp->nverdicts);
out:
    free(msgs);
    free(c);
    return rc;
}
