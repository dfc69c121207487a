/* notify.c - receive, name and answer a worker's suspended system calls. */
#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

bool es_notify_is_listener(int fd)
{
    char link[64], target[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return false;
    target[n] = '\0';
    return strcmp(target, "anon_inode:seccomp notify") == 0;
}

static const char *arch_name(uint32_t arch)
{
    switch (arch) {
    case AUDIT_ARCH_X86_64:
        return "x86_64";
    case AUDIT_ARCH_I386:
        return "x86";
    case AUDIT_ARCH_AARCH64:
        return "aarch64";
    case AUDIT_ARCH_ARM:
        return "arm";
    default:
        return "unknown";
    }
}

static void name_syscall(struct es_syscall_report *r)
{
    snprintf(r->arch_name, sizeof r->arch_name, "%s", arch_name(r->arch));
    /* x32 calls arrive as x86_64 with bit 30 set in the number. */
    if (r->arch == AUDIT_ARCH_X86_64 && (r->number & 0x40000000)) {
        snprintf(r->arch_name, sizeof r->arch_name, "x32");
        snprintf(r->name, sizeof r->name, "x32 syscall %d", r->number & ~0x40000000);
        return;
    }
    char *name = seccomp_syscall_resolve_num_arch(r->arch, r->number);
    if (name)
        snprintf(r->name, sizeof r->name, "%s", name);
    else
        snprintf(r->name, sizeof r->name, "syscall %d", r->number);
    free(name);
}

int es_notify_receive(int listener, struct es_syscall_report *out)
{
    struct seccomp_notif *req = NULL;
    struct seccomp_notif_resp *resp = NULL;
    if (seccomp_notify_alloc(&req, &resp) != 0) {
        errno = ENOMEM;
        return -1;
    }
    int rc = seccomp_notify_receive(listener, req);
    if (rc == 0) {
        memset(out, 0, sizeof *out);
        out->id = req->id;
        out->pid = (pid_t)req->pid;
        out->number = req->data.nr;
        out->arch = req->data.arch;
        out->instruction_pointer = req->data.instruction_pointer;
        memcpy(out->args, req->data.args, sizeof out->args);
        name_syscall(out);
    }
    seccomp_notify_free(req, resp);
    if (rc != 0) {
        errno = -rc;
        return -1;
    }
    return 0;
}

int es_notify_answer(int listener, uint64_t id, bool allow)
{
    struct seccomp_notif *req = NULL;
    struct seccomp_notif_resp *resp = NULL;
    if (seccomp_notify_alloc(&req, &resp) != 0) {
        errno = ENOMEM;
        return -1;
    }
    resp->id = id;
    if (allow) {
        /* Safe here: the loader's calls are judged by their number and
         * register arguments only, which the task cannot change while it is
         * suspended; paths are Landlock's to judge. */
        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    } else {
        resp->error = -EPERM;
    }
    int rc = seccomp_notify_respond(listener, resp);
    seccomp_notify_free(req, resp);
    if (rc != 0) {
        errno = -rc;
        return -1;
    }
    return 0;
}

static bool named(const struct es_syscall_report *r, const char *name)
{
    return strcmp(r->name, name) == 0;
}

bool es_notify_is_loader_call(const struct es_syscall_report *r)
{
    if (r->arch != AUDIT_ARCH_X86_64 && r->arch != AUDIT_ARCH_AARCH64)
        return false;
    if (named(r, "openat") || named(r, "open") || named(r, "access") || named(r, "faccessat") ||
        named(r, "faccessat2") || named(r, "newfstatat") || named(r, "stat") || named(r, "lstat") ||
        named(r, "readlink") || named(r, "readlinkat") || named(r, "statx"))
        return true;
    /* Executable mappings of a file the loader opened; anything else about
     * memory is allowed by the filter itself and never arrives here.  Not
     * anonymous executable memory, and not mprotect: the loader maps
     * segments with their final protection, a constructor asking for
     * either wants to run code it made. */
    return named(r, "mmap") && (int)r->args[4] >= 0 && !(r->args[3] & MAP_ANONYMOUS);
}

/* Which argument holds the path, for the calls that have one. */
static int path_argument(const struct es_syscall_report *r)
{
    if (named(r, "open") || named(r, "access") || named(r, "stat") || named(r, "lstat") ||
        named(r, "readlink") || named(r, "execve") || named(r, "unlink") || named(r, "mkdir") ||
        named(r, "creat") || named(r, "truncate"))
        return 0;
    if (named(r, "openat") || named(r, "openat2") || named(r, "faccessat") || named(r, "faccessat2") ||
        named(r, "newfstatat") || named(r, "readlinkat") || named(r, "statx") || named(r, "execveat") ||
        named(r, "unlinkat") || named(r, "mkdirat"))
        return 1;
    return -1;
}

bool es_notify_read_path(int listener, const struct es_syscall_report *r, char *buf, size_t len)
{
    int arg = path_argument(r);
    if (arg < 0 || len == 0)
        return false;
    char mem[64];
    snprintf(mem, sizeof mem, "/proc/%d/mem", (int)r->pid);
    int fd = open(mem, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = pread(fd, buf, len - 1, (off_t)r->args[arg]);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    buf[strnlen(buf, (size_t)n)] = '\0';
    /* If the task is no longer suspended in this call, what we read may
     * belong to a later moment (or another process with the same pid). */
    return seccomp_notify_id_valid(listener, r->id) == 0;
}
