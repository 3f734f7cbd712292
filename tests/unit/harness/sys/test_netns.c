/* Unit tests for the parts of harness/sys/netns.c that need no root: a
 * socket in the calling thread's own namespace, the error paths of
 * netns_socket for names that are bad or not there, and the /proc scan
 * finding a process by its namespace's identity. */
#include "harness/sys/netns.h"
#include "tests/unit/check_main.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

START_TEST(socket_in_own_namespace)
{
    int fd = netns_socket(NULL, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(netns_socket(NULL, -1, SOCK_DGRAM, 0), -EAFNOSUPPORT);
}
END_TEST

START_TEST(socket_error_paths)
{
    ck_assert_int_eq(netns_socket("ah-test-no-such-namespace", AF_INET, SOCK_DGRAM, 0), -ENOENT);
    ck_assert_int_eq(netns_socket("../etc", AF_INET, SOCK_DGRAM, 0), -EINVAL);
    ck_assert_int_eq(netns_socket("", AF_INET, SOCK_DGRAM, 0), -EINVAL);
    /* A failed attempt leaves the thread where it was. */
    struct stat before, after;
    ck_assert_int_eq(stat("/proc/thread-self/ns/net", &before), 0);
    netns_socket("ah-test-no-such-namespace", AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_eq(stat("/proc/thread-self/ns/net", &after), 0);
    ck_assert_uint_eq(before.st_ino, after.st_ino);
}
END_TEST

START_TEST(pid_found_by_namespace)
{
    struct stat st;
    ck_assert_int_eq(stat("/proc/self/ns/net", &st), 0);
    struct netns_id ids[2] = {{1, 1}, {(unsigned long)st.st_dev, (unsigned long)st.st_ino}};
    size_t idx = 9;
    ck_assert(netns_pid_in(getpid(), ids, 2, &idx));
    ck_assert_uint_eq(idx, 1);
    ck_assert(!netns_pid_in(getpid(), ids, 1, NULL));
    ck_assert(!netns_pid_in(0, ids, 2, NULL));
    /* No process is in a namespace that does not exist: nothing is killed. */
    ck_assert_int_eq(netns_kill_procs(ids, 1, 10, NULL, NULL), 0);
    ck_assert_int_eq(netns_id_of("ah-test-no-such-namespace", &ids[0]), -ENOENT);
}
END_TEST

static Suite *netns_suite(void)
{
    Suite *s = suite_create("netns");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, socket_in_own_namespace);
    tcase_add_test(tc, socket_error_paths);
    tcase_add_test(tc, pid_found_by_namespace);
    suite_add_tcase(s, tc);
    return s;
}

AH_CHECK_MAIN(netns_suite)
