/*
 * mmap_exec - maps anonymous memory read-write-execute: a JIT for shellcode.
 * Expected: violation, "mmap" with PROT_EXEC.
 */
#include <sys/mman.h>

#include "hostile.h"

HOSTILE_REGISTER("mmap PROT_EXEC", "Maps anonymous memory read-write-execute: a JIT for shellcode.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return hostile_fail("mmap returned %p", p);
}
