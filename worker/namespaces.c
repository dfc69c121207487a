/*
 * namespaces.c - a network with nothing in it, private IPC and UTS, and a
 * mount namespace whose changes never reach the host.
 *
 * A root worker unshares them directly (and drops to its user afterwards);
 * an unprivileged one first creates a user namespace that maps its own ids
 * to themselves, which is what lets it create the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "layers.h"

static int fail(char *why, size_t whylen, const char *what)
{
    snprintf(why, whylen, "%s: %s", what, strerror(errno));
    return -1;
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    int saved = errno;
    close(fd);
    errno = saved;
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int map_own_ids(uid_t uid, gid_t gid, char *why, size_t whylen)
{
    char map[64];
    /* setgroups must be denied before an unprivileged gid_map is written. */
    if (write_file("/proc/self/setgroups", "deny") != 0 && errno != ENOENT)
        return fail(why, whylen, "setgroups deny");
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
    if (write_file("/proc/self/uid_map", map) != 0)
        return fail(why, whylen, "uid_map");
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
    if (write_file("/proc/self/gid_map", map) != 0)
        return fail(why, whylen, "gid_map");
    return 0;
}

int es_enter_namespaces(char *why, size_t whylen)
{
    int flags = CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS;
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (uid != 0) {
        if (unshare(CLONE_NEWUSER) != 0)
            return fail(why, whylen, "user namespace");
        if (map_own_ids(uid, gid, why, whylen) != 0)
            return -1;
    }
    if (unshare(flags) != 0)
        return fail(why, whylen, "network, IPC, UTS and mount namespaces");
    /* Mount events must not propagate back to the host's namespace. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return fail(why, whylen, "making mounts private");
    if (sethostname("expert-sandbox", strlen("expert-sandbox")) != 0)
        return fail(why, whylen, "sethostname");
    return 0;
}
