/* gnuplot for the report, kept away from everything it should not touch: it
 * runs with default settings (no init file), its working directory a fresh
 * private directory where it reads the data and writes the plots under fixed
 * relative names, bounded in time; the plots are then moved into the output
 * directory without following symlinks. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ah/file.h"
#include "report_int.h"

#define GNUPLOT_TIMEOUT_S 120

/* What gnuplot may leave in its directory. */
static const char *const dir_files[] = {
    "plot.gp",      "gnuplot.log",     "timeline.dat",    "rows.tsv",    "keys.tsv",
    "tevents.tsv",  "lifelines.dat",   "lrows.tsv",       "levents.tsv", "timeline.svg",
    "timeline.png", "connections.svg", "connections.png", "rtt.dat",     "rttrows.tsv",
    "rtevents.tsv", "cdf.dat",         "cdfmed.dat",      "cdfrows.tsv", "rtt.svg",
    "rtt.png",      "rtt-cdf.svg",     "rtt-cdf.png",
};

int rp_gnuplot_dir(struct rp *rp)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || tmp[0] != '/')
        tmp = "/tmp";
    snprintf(rp->plot_dir, sizeof rp->plot_dir, "%s/anycast-report-XXXXXX", tmp);
    if (!mkdtemp(rp->plot_dir)) {
        int rc = -errno;
        snprintf(rp->plot_error, sizeof rp->plot_error, "mkdtemp: %s", strerror(errno));
        rp->plot_dir[0] = '\0';
        return rc;
    }
    return 0;
}

int rp_gnuplot_run(struct rp *rp, const char *script)
{
    char *err = rp->plot_error;
    size_t errlen = sizeof rp->plot_error;
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        if (chdir(rp->plot_dir) < 0)
            _exit(126);
        int fd = open("gnuplot.log", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (nul >= 0)
            dup2(nul, 0);
        execlp("gnuplot", "gnuplot", "--default-settings", script, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    for (int i = 0; i < GNUPLOT_TIMEOUT_S * 100; i++) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            goto done;
        if (w < 0 && errno != EINTR)
            return -errno;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    snprintf(err, errlen, "gnuplot took over %d s and was stopped", GNUPLOT_TIMEOUT_S);
    return -ETIMEDOUT;
done:
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    /* gnuplot stops at the first error, so its message is the last line
     * that is not a warning (warnings about empty data come before). */
    char line[200], msg[200] = "";
    char log[PATH_MAX + 32];
    snprintf(log, sizeof log, "%s/gnuplot.log", rp->plot_dir);
    int fd = open(log, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (f) {
        bool warning_only = true;
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = '\0';
            bool warning = strstr(line, "arning") != NULL;
            if (line[0] && (warning_only || !warning)) {
                snprintf(msg, sizeof msg, "%s", line);
                warning_only = warning;
            }
        }
        fclose(f);
    } else if (fd >= 0) {
        close(fd);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        snprintf(err, errlen, "gnuplot not found (install gnuplot-nox)");
    else
        snprintf(err, errlen, "gnuplot failed: %s", msg[0] ? msg : "no message");
    return -EIO;
}

int rp_plot_finish(struct rp *rp, bool publish)
{
    static const char *const outs[] = {"timeline.svg",    "timeline.png", "connections.svg",
                                       "connections.png", "rtt.svg",      "rtt.png",
                                       "rtt-cdf.svg",     "rtt-cdf.png"};
    char p[PATH_MAX + 32];
    int rc = 0;
    if (!rp->plot_dir[0])
        return 0;
    for (size_t i = 0; publish && !rp->plot_error[0] && i < sizeof outs / sizeof outs[0]; i++) {
        if ((i < 2 && !rp->have_timeline) || (i >= 2 && i < 4 && !rp->have_lifelines) ||
            (i >= 4 && !rp->have_rtt))
            continue;
        snprintf(p, sizeof p, "%s/%s", rp->plot_dir, outs[i]);
        int r = ah_file_move(p, rp->out_dir, outs[i]);
        if (r < 0 && rc == 0) {
            rc = r;
            snprintf(rp->plot_error, sizeof rp->plot_error, "%s: %s", outs[i], strerror(-r));
        }
    }
    for (size_t i = 0; i < sizeof dir_files / sizeof dir_files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", rp->plot_dir, dir_files[i]);
        unlink(p);
    }
    rmdir(rp->plot_dir);
    rp->plot_dir[0] = '\0';
    return rc;
}
