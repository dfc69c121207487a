/*
 * notify.h - the broker's end of a worker's seccomp notification listener.
 *
 * What the kernel reports here cannot be forged by the worker: the system
 * call number, its architecture and its six arguments are read from the
 * suspended task's registers by the kernel.
 */
#ifndef ES_NOTIFY_H
#define ES_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct es_syscall_report {
    uint64_t id;             /* the notification's cookie, for the answer */
    pid_t pid;
    int number;
    uint32_t arch;           /* AUDIT_ARCH_* */
    uint64_t args[6];
    uint64_t instruction_pointer;
    char name[40];           /* "openat", or "syscall 1234" */
    char arch_name[16];      /* "x86_64", "x86", "x32", ... */
};

/* True if fd is a seccomp notification listener (and not, say, a pipe a
 * worker passed instead). */
bool es_notify_is_listener(int fd);

/* Reads one pending notification.  Returns 0, or -1 with errno set (ENOENT:
 * the task died before it could be read). */
int es_notify_receive(int listener, struct es_syscall_report *out);

/* Lets the suspended call proceed as if allowed, or fails it with EPERM. */
int es_notify_answer(int listener, uint64_t id, bool allow);

/* Whether this call is one the dynamic loader makes while the expert is
 * being loaded: opening and checking files, and mapping them executable. */
bool es_notify_is_loader_call(const struct es_syscall_report *r);

/* For open-like calls: copies the path argument out of the worker's memory
 * into buf (best effort, for the report only; needs ptrace access to the
 * worker).  Returns true if a path was read and the call is still pending. */
bool es_notify_read_path(int listener, const struct es_syscall_report *r, char *buf, size_t len);

#endif
