/* Rootless mode: when anycast-lab is not run as root it moves itself into a
 * new user namespace (the caller's uid and gid mapped to root) with a private
 * mount namespace and a tmpfs over /run, so the lab's named network
 * namespaces and state live only as long as the run. */
#ifndef ROOTLESS_H
#define ROOTLESS_H

#include <stdbool.h>

/* Enters the user and mount namespaces. Must be called before any thread
 * starts. Returns 0 or a negative errno with a message logged that says what
 * the system needs. */
int rootless_enter(void);

/* True after rootless_enter() succeeded in this process. */
bool rootless_active(void);

#endif
