/*
 * constructor_mprotect_exec - from a constructor, maps an ordinary
 * read-write page, writes code into it, and makes it executable with
 * mprotect.  While the expert is being loaded the broker lets the loader's
 * mprotect calls through; the loader never makes anonymous memory
 * executable, so this must be a violation there as in Run.
 * Expected: violation, "mprotect", while loading.
 */
#include <sys/mman.h>

#include "hostile.h"

static unsigned char *jit_page;
static int protect_result = -2;

__attribute__((constructor)) static void make_code_while_loading(void)
{
    void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return;
    jit_page = page;
    jit_page[0] = 0xc3;   /* x86 ret */
    protect_result = mprotect(page, 4096, PROT_READ | PROT_EXEC);
}

HOSTILE_REGISTER("Constructor mprotect PROT_EXEC", "Makes its own page executable in a constructor.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    if (protect_result == 0) {
        void (*code)(void);
        memcpy(&code, &jit_page, sizeof code);
        code();
        return hostile_fail("the constructor made anonymous memory executable, and it ran");
    }
    return hostile_fail("mprotect in the constructor returned %d", protect_result);
}
