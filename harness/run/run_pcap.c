/* `anycast-lab run --pcap`: one tcpdump per vantage in its client namespace,
 * writing pcap/VANTAGE.pcap into the results, started before the probes and
 * stopped after them, so that a drill can be opened in Wireshark
 * (docs/anycast-lab.md, "Packet captures"). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ah/clock.h"
#include "ah/log.h"
#include "harness/topo/topo.h"
#include "run_int.h"

/* tcpdump says this on stderr once its capture is open: the probes may
 * start, none of their packets is missed. */
#define PCAP_LISTENING "listening on"

/* True once path (the capture's log) holds the "listening on" line. */
static bool capture_listening(const char *path)
{
    char buf[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    return strstr(buf, PCAP_LISTENING) != NULL;
}

static int start_one(struct run *r, const char *prog, size_t v)
{
    const char *vname = r->lab->vantages[v].name;
    struct proc_argv a = {0};
    char file[PATH_MAX], log[PATH_MAX];
    snprintf(file, sizeof file, "%s/pcap/%s.pcap", r->resabs, vname);
    snprintf(log, sizeof log, "%s/pcap-%s.log", r->logdir, vname);
    proc_argv_add(&a, prog);
    /* Every interface of the client namespace (its link to the router and
     * lo), no name lookups, each packet taken from the kernel as it comes
     * (--immediate-mode: otherwise the last packets before the stop wait in
     * a ring block and are lost) and written at once (-U), headers and DNS
     * payloads only (-s), and no switch to the tcpdump user, which could not
     * write into a results directory root owns. */
    static const char *const opts[] = {"-i", "any",  "-n", "--immediate-mode", "-U", "-s", "512",
                                       "-Z", "root", "-w"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        proc_argv_add(&a, opts[i]);
    proc_argv_add(&a, file);
    if (a.rc < 0)
        return a.rc;
    struct proc *p = &r->pcap[v];
    snprintf(p->name, sizeof p->name, "tcpdump %s", vname);
    struct proc_spec spec = {.netns = topo_netns(r->topo, TOPO_CLIENT, v),
                             .log_path = log,
                             .argv = a.argv,
                             .die_with_parent = true,
                             .chdir_to = r->rundir};
    int rc = proc_spawn(p, &spec);
    if (rc < 0) {
        run_fail(r, "%s: starting tcpdump in %s: %s", vname, spec.netns, strerror(-rc));
        return rc;
    }
    state_add_pid(&r->st, "tcpdump", vname, p->pid);
    return 0;
}

/* Waits until every capture is open (or one died: its log says why). */
static int wait_listening(struct run *r)
{
    uint64_t deadline = ah_clock_mono_ns() + r->o->ready_timeout_ns;
    char log[PATH_MAX];
    for (size_t v = 0; v < r->lab->nvantages;) {
        snprintf(log, sizeof log, "%s/pcap-%s.log", r->logdir, r->lab->vantages[v].name);
        if (capture_listening(log)) {
            v++;
            continue;
        }
        if (run_poll_signals(r))
            return -EINTR;
        proc_reap(&r->pcap[v]);
        if (r->pcap[v].pid == 0 || ah_clock_mono_ns() > deadline) {
            run_fail(r, "%s: tcpdump %s", r->lab->vantages[v].name,
                     r->pcap[v].pid == 0 ? "exited before its capture was open"
                                         : "did not open its capture within --ready-timeout");
            run_log_tail(log);
            return -EIO;
        }
        usleep(5000);
    }
    return 0;
}

int run_pcap_start(struct run *r)
{
    char prog[PATH_MAX], dir[PATH_MAX];
    if (!r->o->pcap)
        return 0;
    /* run_lab refused more vantages than this before building anything. */
    if (r->lab->nvantages > RUN_PCAP_VANTAGES_MAX)
        return -E2BIG;
    if (proc_find_program("tcpdump", true, prog, sizeof prog) < 0) {
        run_fail(r, "--pcap: tcpdump not found (apt-get install tcpdump)");
        return -ENOENT;
    }
    r->pcap = calloc(r->lab->nvantages, sizeof *r->pcap);
    if (!r->pcap) {
        run_fail(r, "out of memory");
        return -ENOMEM;
    }
    snprintf(dir, sizeof dir, "%s/pcap", r->resabs);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        run_fail(r, "%s: %s", dir, strerror(errno));
        return -errno;
    }
    int rc = 0;
    for (size_t v = 0; v < r->lab->nvantages && rc == 0; v++)
        rc = start_one(r, prog, v);
    if (rc == 0)
        rc = wait_listening(r);
    if (rc == 0)
        ah_log_info("%s: capturing at %zu vantage%s into %s/pcap/", r->lab->name, r->lab->nvantages,
                    AH_S(r->lab->nvantages), r->resdir);
    return rc;
}

void run_pcap_stop(struct run *r)
{
    /* SIGINT: tcpdump writes what it holds and closes the file. */
    for (size_t v = 0; r->pcap && v < r->lab->nvantages; v++)
        if (r->pcap[v].pid > 0)
            proc_stop(&r->pcap[v], SIGINT, 2 * AH_NS_PER_S);
}

size_t run_pcap_files(const struct run *r, char (*files)[RUN_PCAP_NAME_MAX], size_t cap)
{
    size_t n = 0;
    char path[PATH_MAX];
    struct stat st;
    for (size_t v = 0; r->pcap && v < r->lab->nvantages && n < cap; v++) {
        snprintf(files[n], RUN_PCAP_NAME_MAX, "pcap/%s.pcap", r->lab->vantages[v].name);
        snprintf(path, sizeof path, "%s/%s", r->resabs, files[n]);
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
            n++;
    }
    return n;
}
