/*
 * crash_report.c - leave the fault address where the broker can see it.
 *
 * The kernel tells the broker which signal killed a worker, but not where
 * it faulted.  The handler here writes si_addr into the heap's control
 * block (shared memory: no system call) and then lets the signal kill the
 * process as it would have.  The record is the worker's word, not the
 * kernel's: the broker shows it only next to a matching signal, and the
 * documentation says where it comes from.
 */
#include <signal.h>
#include <string.h>
#include <sys/mman.h>

#include "heapseg.h"
#include "nmapi_internal.h"

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGABRT, SIGSYS};

static bool has_fault_address(int sig)
{
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP;
}

static void on_fatal_signal(int sig, siginfo_t *info, void *context)
{
    (void)context;
    struct es_heap_control *control = es_nmapi_control();
    if (control) {
        /* si_addr means something only for a fault the kernel raised
         * (si_code > 0), not for a signal sent with kill or raise. */
        bool fault = has_fault_address(sig) && info->si_code > 0;
        control->crash_address = fault ? (uint64_t)(uintptr_t)info->si_addr : 0;
        control->crash_code = (uint32_t)info->si_code;
        control->crash_signal = (uint32_t)sig;
    }
    /* SA_RESETHAND has put the default action back; sending the signal again
     * dies of it now, whatever the signal: returning would not do for a trap
     * (int3 resumes after itself) nor for a signal that was sent. */
    raise(sig);
}

int es_nmapi_record_fatal_signals(void)
{
    /* 64 KiB: enough for the handler, whatever the expert did to its stack. */
    size_t size = 64 * 1024;
    void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED)
        return -1;
    stack_t ss = {.ss_sp = stack, .ss_size = size, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0)
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fatal_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof fatal_signals / sizeof *fatal_signals; i++)
        if (sigaction(fatal_signals[i], &sa, NULL) != 0)
            return -1;
    return 0;
}
