/*
 * landlock.c - the file system the expert sees: the expert's own file and
 * the system library directories, readable and executable; nothing else,
 * and nothing writable.  With newer kernels also: no TCP bind or connect,
 * no abstract Unix sockets and no signals outside the sandbox.
 *
 * Every right the running kernel knows is handled (so denied unless a rule
 * grants it); rights of newer ABIs are dropped for older kernels.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "layers.h"

/* The build machine's <linux/landlock.h> may predate the running kernel
 * (Debian 12 ships ABI 2 headers), so the later parts of the kernel ABI are
 * spelled out here; the kernel takes the struct's size from the call. */
struct ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;   /* ABI 4 */
    uint64_t scoped;               /* ABI 6 */
};
#define ACCESS_FS_TRUNCATE (1ULL << 14)     /* ABI 3 */
#define ACCESS_FS_IOCTL_DEV (1ULL << 15)    /* ABI 5 */
#define ACCESS_NET_BIND_TCP (1ULL << 0)     /* ABI 4 */
#define ACCESS_NET_CONNECT_TCP (1ULL << 1)  /* ABI 4 */
#define SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define SCOPE_SIGNAL (1ULL << 1)            /* ABI 6 */

/* Directories the dynamic loader may need for an expert's own
 * dependencies (libm, libpcap, ...).  Missing ones are skipped. */
static const char *const library_dirs[] = {
    "/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib",
};
static const char *const library_files[] = {
    "/etc/ld.so.cache",
};

int es_landlock_abi(void)
{
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return abi < 0 ? 0 : (int)abi;
}

static uint64_t fs_rights_for(int abi)
{
    uint64_t rights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                      LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
                      LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                      LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
                      LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
                      LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
                      LANDLOCK_ACCESS_FS_MAKE_SYM;
    if (abi >= 2)
        rights |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        rights |= ACCESS_FS_TRUNCATE;
    if (abi >= 5)
        rights |= ACCESS_FS_IOCTL_DEV;
    return rights;
}

static int add_path_rule(int ruleset, int parent_fd, uint64_t allowed)
{
    struct landlock_path_beneath_attr rule = {.allowed_access = allowed, .parent_fd = parent_fd};
    return (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
}

static int add_named_rule(int ruleset, const char *path, uint64_t allowed)
{
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    int rc = add_path_rule(ruleset, fd, allowed);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int es_landlock_restrict(int expert_fd, char *why, size_t whylen)
{
    int abi = es_landlock_abi();
    if (abi <= 0) {
        snprintf(why, whylen, "landlock: not supported by this kernel");
        return -1;
    }
    struct ruleset_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.handled_access_fs = fs_rights_for(abi);
    size_t attr_size = offsetof(struct ruleset_attr, handled_access_net);
    if (abi >= 4) {
        attr.handled_access_net = ACCESS_NET_BIND_TCP | ACCESS_NET_CONNECT_TCP;
        attr_size = offsetof(struct ruleset_attr, scoped);
    }
    if (abi >= 6) {
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL;
        attr_size = sizeof attr;
    }
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
    if (ruleset < 0) {
        snprintf(why, whylen, "landlock: create ruleset: %s", strerror(errno));
        return -1;
    }
    const uint64_t read_exec_file = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_EXECUTE;
    const uint64_t read_exec_dir = read_exec_file | LANDLOCK_ACCESS_FS_READ_DIR;
    int rc = add_path_rule(ruleset, expert_fd, read_exec_file);
    for (size_t i = 0; rc == 0 && i < sizeof library_dirs / sizeof *library_dirs; i++)
        rc = add_named_rule(ruleset, library_dirs[i], read_exec_dir);
    for (size_t i = 0; rc == 0 && i < sizeof library_files / sizeof *library_files; i++)
        rc = add_named_rule(ruleset, library_files[i], LANDLOCK_ACCESS_FS_READ_FILE);
    if (rc != 0) {
        snprintf(why, whylen, "landlock: add rule: %s", strerror(errno));
        close(ruleset);
        return -1;
    }
    rc = (int)syscall(SYS_landlock_restrict_self, ruleset, 0);
    int saved = errno;
    close(ruleset);
    if (rc != 0) {
        snprintf(why, whylen, "landlock: restrict: %s", strerror(saved));
        return -1;
    }
    return 0;
}
