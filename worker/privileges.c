/*
 * privileges.c - who the worker is: an unprivileged user with no
 * capabilities, and no way to gain privileges again.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "layers.h"

static int fail(char *why, size_t whylen, const char *what)
{
    snprintf(why, whylen, "%s: %s", what, strerror(errno));
    return -1;
}

/* Groups first (setgroups needs the privilege we are about to drop), then
 * the group id, then the user id; then check that nothing can be regained. */
int es_drop_privileges(uid_t uid, gid_t gid, char *why, size_t whylen)
{
    if (uid == 0 || gid == 0) {
        errno = EINVAL;
        return fail(why, whylen, "refusing to run experts as root");
    }
    if (setgroups(0, NULL) != 0)
        return fail(why, whylen, "setgroups");
    if (setresgid(gid, gid, gid) != 0)
        return fail(why, whylen, "setresgid");
    if (setresuid(uid, uid, uid) != 0)
        return fail(why, whylen, "setresuid");
    if (setresuid(0, 0, 0) == 0 || geteuid() != uid || getegid() != gid) {
        errno = EPERM;
        return fail(why, whylen, "root could be regained");
    }
    return 0;
}

/* Clears every capability set; in a user namespace the worker holds all of
 * them for that namespace, which it needs for nothing after setting it up. */
static int drop_capabilities(char *why, size_t whylen)
{
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &header, data) != 0)
        return fail(why, whylen, "capset");
    for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL && errno != EPERM)
            return fail(why, whylen, "PR_CAPBSET_DROP");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        return fail(why, whylen, "PR_CAP_AMBIENT");
    return 0;
}

int es_no_new_privileges(char *why, size_t whylen)
{
    if (drop_capabilities(why, whylen) != 0)
        return -1;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return fail(why, whylen, "PR_SET_NO_NEW_PRIVS");
    return 0;
}
