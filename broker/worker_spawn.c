/*
 * worker_spawn.c - fork and exec of expert-worker.
 *
 * exec gives the worker a fresh address space: no broker memory, no other
 * worker's heap.  What crosses at exec is decided here and nowhere else: the
 * two descriptors of proto/wire.h, an output pipe, /dev/null as stdin.  The
 * heap and the frame store follow with the hand-over (supervisor.c).
 *
 * Exec failure is reported through a close-on-exec pipe: the parent reads
 * either EOF (exec succeeded) or the child's errno.
 */
#include "worker_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "faults.h"
#include "wire.h"

/* The child must only use async-signal-safe calls: it was forked from a
 * process that may hold libc locks. */
static void report_and_exit(int error_pipe, int err)
{
    ssize_t ignored = write(error_pipe, &err, sizeof err);
    (void)ignored;
    _exit(127);
}

static void reset_signals(void)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    /* Ignored dispositions survive exec (SIGPIPE and SIGXFSZ are ignored in
     * the broker). */
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void child(const struct es_spawn_request *req, int error_pipe)
{
    reset_signals();

    /* Move every source above the fixed range first, so that placing one
     * cannot overwrite another that happens to sit on its target. */
    const int sources[] = {req->control_fd, req->expert_fd, req->output_fd};
    int moved[3];
    for (int i = 0; i < 3; i++) {
        moved[i] = -1;
        if (sources[i] >= 0 && (moved[i] = fcntl(sources[i], F_DUPFD_CLOEXEC, 16)) < 0)
            report_and_exit(error_pipe, errno);
    }
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0)
        report_and_exit(error_pipe, errno);

    const int targets[] = {ES_FD_CONTROL, ES_FD_EXPERT};
    for (int i = 0; i < 2; i++) {
        if (moved[i] >= 0 && dup2(moved[i], targets[i]) < 0)
            report_and_exit(error_pipe, errno);
        if (moved[i] < 0)
            close(targets[i]);
    }
    if (dup2(devnull, 0) < 0 || dup2(moved[2], 1) < 0 || dup2(moved[2], 2) < 0)
        report_and_exit(error_pipe, errno);

    /* Everything from the first free descriptor up is closed at exec; the
     * error pipe (already close-on-exec) stays usable until then. */
    if (syscall(SYS_close_range, ES_FD_FIRST_FREE, ~0u, CLOSE_RANGE_CLOEXEC) != 0)
        report_and_exit(error_pipe, errno);

    char *argv[32] = {(char *)"expert-worker", (char *)req->expert_name};
    int argc = 2;
    for (int i = 0; req->extra_args && req->extra_args[i] && argc < 29; i++)
        argv[argc++] = req->extra_args[i];
    if (req->pid_namespace) {
        argv[argc++] = (char *)"--pid-namespace";
        argv[argc++] = (char *)"1";
    }
    argv[argc] = NULL;
    char *const envp[] = {NULL};
    execve(req->worker_path, argv, envp);
    report_and_exit(error_pipe, errno);
}

static void write_report(int status_pipe, const struct es_worker_status *report)
{
    ssize_t ignored = write(status_pipe, report, sizeof *report);
    (void)ignored;
}

/* A wait status (from wait4, or the code PTRACE_GETEVENTMSG gives at the
 * exit stop, which has the same form) as the report's code and status. */
static void describe_end(int status, struct es_worker_status *report)
{
    if (WIFEXITED(status)) {
        report->code = CLD_EXITED;
        report->status = WEXITSTATUS(status);
    } else {
        report->code = WCOREDUMP(status) ? CLD_DUMPED : CLD_KILLED;
        report->status = WTERMSIG(status);
    }
}

static bool is_fault(const siginfo_t *si)
{
    /* si_code > 0: raised by the kernel for a fault, not sent with kill,
     * raise or sigqueue, so si_addr is the kernel's word. */
    int sig = si->si_signo;
    return si->si_code > 0 &&
           (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP);
}

/* One stop of the traced worker.  Init traces only to learn of the worker's
 * end early; every other stop is let through as if nobody traced it. */
static void handle_stop(pid_t worker, int status, siginfo_t *fault, int status_pipe, bool *reported)
{
    int event = (unsigned)status >> 16;
    if (event == PTRACE_EVENT_EXIT) {
        /* The worker is dying and has not yet let go of anything: its heap is
         * still mapped, its descriptors open.  Everything it submitted is
         * already in the broker's hands (socket buffer, event ring). */
        unsigned long code = 0;
        struct es_worker_status report = {0};
        struct timespec cpu;
        clockid_t clock;
        if (ptrace(PTRACE_GETEVENTMSG, worker, 0, &code) == 0) {
            describe_end((int)code, &report);
            if (clock_getcpuclockid(worker, &clock) == 0 && clock_gettime(clock, &cpu) == 0)
                report.cpu_microseconds = (int64_t)cpu.tv_sec * 1000000 + cpu.tv_nsec / 1000;
            if (report.code != CLD_EXITED && fault->si_signo == report.status) {
                report.has_fault_address = 1;
                report.fault_address = (uint64_t)(uintptr_t)fault->si_addr;
            }
            report.at_exit_stop = 1;
            write_report(status_pipe, &report);
            *reported = true;
        }
        ptrace(PTRACE_CONT, worker, 0, 0);
    } else if (event == PTRACE_EVENT_STOP) {
        /* A group stop (SIGSTOP and the like): stay stopped, as untraced. */
        ptrace(PTRACE_LISTEN, worker, 0, 0);
    } else {
        /* A signal on its way: delivered unchanged.  The latest fault the
         * kernel raised is kept (an expert may survive earlier ones with a
         * handler of its own); the worker's recorder re-raises a fault with
         * raise(), which carries no address and does not replace it. */
        int sig = WSTOPSIG(status);
        siginfo_t si;
        if (ptrace(PTRACE_GETSIGINFO, worker, 0, &si) == 0 && is_fault(&si))
            *fault = si;
        ptrace(PTRACE_CONT, worker, 0, sig);
    }
}

/* Init of the worker's PID namespace (or, for a broker that is not root,
 * the worker's parent without one): start the worker, hold nothing else,
 * reap whatever ends, and report the worker's end.  When init exits the
 * kernel kills every process left in the namespace, and the worker in any
 * case (PTRACE_O_EXITKILL, its parent-death signal).
 *
 * Init also traces the worker, for one stop: PTRACE_EVENT_EXIT, which the
 * kernel makes at the very start of a process's exit, before it tears down
 * its address space.  That teardown is per page: ~10 ms for a heap of
 * 256 MiB of small pages here.  Reporting at the stop lets the broker write
 * the outcome while the kernel is still freeing; the stop also gives the
 * fault's address from the kernel, not from the worker.  If the kernel
 * refuses to let init trace (Yama's ptrace_scope 3), or the worker dies of
 * SIGKILL (no stop then), the report comes once the worker is reaped. */
static void init_process(const struct es_spawn_request *req, int error_pipe, int status_pipe)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* The worker waits for end of file on this pipe before it execs, so
     * that init is attached before anything of the worker runs. */
    int go[2];
    if (pipe2(go, O_CLOEXEC) != 0)
        report_and_exit(error_pipe, errno);
    pid_t init_pid = getpid();
    pid_t worker = fork();
    if (worker < 0)
        report_and_exit(error_pipe, errno);
    if (worker == 0) {
        /* Without a PID namespace, nothing else ends the worker with init
         * when init cannot trace it (PTRACE_O_EXITKILL does when it can). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != init_pid)
            _exit(127);
        close(status_pipe);
        close(go[1]);
        char byte;
        while (read(go[0], &byte, 1) < 0 && errno == EINTR)
            ;
        close(go[0]);
        child(req, error_pipe);
    }
    /* Refused (Yama's ptrace_scope 3, an LSM): init reports after the exit. */
    if (!ES_FAULT(ES_FAULT_PTRACE, EPERM))
        ptrace(PTRACE_SEIZE, worker, 0, PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL);
    close(go[1]);
    /* Only the status pipe stays: init must not keep the worker's socket,
     * pipe or segments alive, nor any other worker's. */
    if (status_pipe > 0)
        syscall(SYS_close_range, 0, (unsigned)status_pipe - 1, 0);
    syscall(SYS_close_range, (unsigned)status_pipe + 1, ~0u, 0);
    siginfo_t fault;
    memset(&fault, 0, sizeof fault);
    bool reported = false;
    for (;;) {
        int status;
        struct rusage usage;
        pid_t ended = wait4(-1, &status, __WALL, &usage);
        if (ended < 0 && errno == EINTR)
            continue;
        if (ended < 0)
            _exit(1);
        if (ended != worker)
            continue;
        if (WIFSTOPPED(status)) {
            handle_stop(worker, status, &fault, status_pipe, &reported);
            continue;
        }
        if (!reported) {
            struct es_worker_status report = {0};
            describe_end(status, &report);
            report.cpu_microseconds = (int64_t)usage.ru_utime.tv_sec * 1000000 + usage.ru_utime.tv_usec +
                                      (int64_t)usage.ru_stime.tv_sec * 1000000 + usage.ru_stime.tv_usec;
            write_report(status_pipe, &report);
        }
        _exit(0);
    }
}

/* Whether the worker runs under an init of the broker's.  Always in a PID
 * namespace: someone must be its PID 1.  Without one, init is there to
 * trace the worker (its end reported at the exit stop, the fault address
 * from the kernel), but only where the worker keeps the broker's user: a
 * change of user clears the worker's parent-death signal, which is what
 * ends it with init where init could not trace it. */
static bool with_init(const struct es_spawn_request *req)
{
    return req->pid_namespace || geteuid() != 0;
}

/* clone3 with a new PID namespace and a pidfd; fork semantics otherwise. */
static pid_t clone_into_pid_namespace(int *pidfd)
{
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_NEWPID | CLONE_PIDFD;
    args.pidfd = (uint64_t)(uintptr_t)pidfd;
    args.exit_signal = SIGCHLD;
    return (pid_t)syscall(SYS_clone3, &args, sizeof args);
}

int es_spawn_worker(const struct es_spawn_request *req, struct es_child *out)
{
    int error_pipe[2], status_pipe[2] = {-1, -1};
    if (ES_FAULT(ES_FAULT_PIPE, EMFILE) || pipe2(error_pipe, O_CLOEXEC) != 0)
        return -1;
    bool init = with_init(req);
    if (init && pipe2(status_pipe, O_CLOEXEC) != 0) {
        int saved = errno;
        close(error_pipe[0]);
        close(error_pipe[1]);
        errno = saved;
        return -1;
    }
    int pidfd = -1;
    pid_t pid = ES_FAULT(ES_FAULT_FORK, EAGAIN) ? -1
              : req->pid_namespace         ? clone_into_pid_namespace(&pidfd)
                                           : fork();
    if (pid < 0) {
        int saved = errno;
        for (int i = 0; i < 2; i++) {
            close(error_pipe[i]);
            if (status_pipe[i] >= 0)
                close(status_pipe[i]);
        }
        errno = saved;
        return -1;
    }
    if (pid == 0) {
        if (init) {
            close(status_pipe[0]);
            init_process(req, error_pipe[1], status_pipe[1]);
        }
        child(req, error_pipe[1]);
    }

    close(error_pipe[1]);
    if (status_pipe[1] >= 0)
        close(status_pipe[1]);
    int child_errno = 0;
    ssize_t got;
    do
        got = read(error_pipe[0], &child_errno, sizeof child_errno);
    while (got < 0 && errno == EINTR);
    close(error_pipe[0]);
    if (got > 0) {
        if (pidfd >= 0)
            close(pidfd);
        if (status_pipe[0] >= 0)
            close(status_pipe[0]);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        errno = child_errno ? child_errno : ENOEXEC;
        return -1;
    }

    if (pidfd < 0)
        pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd >= 0 && ES_FAULT(ES_FAULT_PIDFD, EMFILE)) {
        /* Whichever way the pidfd came (clone3 or pidfd_open): the child
         * exists and must be ended and reaped below. */
        close(pidfd);
        pidfd = -1;
    }
    if (pidfd < 0) {
        int saved = errno;
        if (status_pipe[0] >= 0)
            close(status_pipe[0]);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        errno = saved;
        return -1;
    }
    if (status_pipe[0] >= 0)
        fcntl(status_pipe[0], F_SETFL, O_NONBLOCK);
    out->pid = pid;
    out->pidfd = pidfd;
    out->status_fd = status_pipe[0];
    return 0;
}

bool es_spawn_read_status(const struct es_child *child, struct es_worker_status *out)
{
    if (child->status_fd < 0)
        return false;
    ssize_t got = read(child->status_fd, out, sizeof *out);
    return got == (ssize_t)sizeof *out;
}
