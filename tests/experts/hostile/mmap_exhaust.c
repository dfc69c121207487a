/*
 * mmap_exhaust - maps anonymous memory directly, 64 MiB at a time, until
 * mmap fails: the same bound as malloc, reached without the allocator.
 * Expected: problem (mmap failed with ENOMEM, Run returned FALSE).  Run
 * returns TRUE ("done", a test failure) if 64 GiB could be mapped, and
 * aborts if mmap failed for another reason.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "hostile.h"

HOSTILE_REGISTER("mmap exhaustion", "Maps 64 MiB regions until mmap fails.")

#define REGION (64ul * 1024 * 1024)
#define MAX_REGIONS 1024

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    for (unsigned regions = 0; regions < MAX_REGIONS; regions++) {
        void *p = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
                       0);
        if (p == MAP_FAILED) {
            if (errno != ENOMEM)
                abort();
            return FALSE;
        }
    }
    return TRUE;
}
