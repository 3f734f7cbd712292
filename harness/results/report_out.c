/* The report's small output helpers: names escaped for HTML as the
 * terminal shows them, files written through a temp file and renamed (no
 * symlink followed), and times in ms as the CSV and the page write them. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ah/esc.h"
#include "ah/file.h"
#include "junit.h"
#include "report_int.h"

/* Names are shown as the terminal shows them (controls and invalid UTF-8
 * as \xNN, so that a tab, a newline or a broken byte stays visible), then
 * escaped for HTML. */
void rp_html_str(FILE *f, const char *s)
{
    char buf[AH_ESC_TERM_MAX(RP_NAME_MAX)];
    size_t len = s ? strlen(s) : 0;
    char *shown = len < RP_NAME_MAX ? buf : malloc(AH_ESC_TERM_MAX(len));
    if (!shown)
        return;
    ah_esc_term(shown, len < RP_NAME_MAX ? sizeof buf : AH_ESC_TERM_MAX(len), s ? s : "", len);
    junit_markup(f, shown);
    if (shown != buf)
        free(shown);
}

FILE *rp_out_open(const char *dir, const char *name, char *tmp, size_t tmplen)
{
    int fd = ah_file_tmp_open(dir, name, tmp, tmplen);
    if (fd < 0) {
        errno = -fd;
        return NULL;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
    }
    return f;
}

int rp_out_close(FILE *f, const char *tmp, const char *dir, const char *name)
{
    int rc = ferror(f) ? -EIO : 0;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    if (rc < 0) {
        unlink(tmp);
        return rc;
    }
    return ah_file_commit(tmp, dir, name);
}

void rp_ms(char *buf, size_t len, double ms)
{
    if (isnan(ms))
        buf[0] = '\0';
    else
        snprintf(buf, len, "%.3f", ms);
}
