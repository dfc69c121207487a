/*
 * constructor_mmap_exec - maps anonymous memory read-write-execute from a
 * constructor.  While the expert is being loaded the broker lets the
 * loader's executable mappings through; an anonymous one is never the
 * loader's (it maps files), so it must be a violation there as in Run.
 * Expected: violation, "mmap", while loading.
 */
#include <sys/mman.h>

#include "hostile.h"

static void *jit_area;

__attribute__((constructor)) static void map_executable_while_loading(void)
{
    jit_area = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

HOSTILE_REGISTER("Constructor mmap PROT_EXEC", "Maps RWX memory in a constructor at dlopen.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    return hostile_fail("the constructor got an executable anonymous mapping at %p", jit_area);
}
