/*
 * api_memory - the memory helpers as an expert sees them.  The test runs it
 * with a 1 MiB heap quota.
 *
 * Events (see api_report.h), each a set of YESNO checks unless noted:
 *   "blocks"      zero_filled (fresh blocks of several sizes, and the same sizes
 *                 again after dirtying and freeing them), aligned (every pointer
 *                 any helper returned is a multiple of 16), sizes (MemorySize
 *                 is the size asked for), zero_size (two 0-byte blocks: valid,
 *                 distinct, MemorySize 0), null_error_ok (pError NULL is fine)
 *   "realloc"     grow_keeps, grow_zeroed, shrink_keeps, regrow_zeroed (bytes
 *                 given back by a shrink come back zeroed on growing again),
 *                 null_allocates, sizes
 *   "free"        null_rc (Free(NULL)), first_rc, double_rc, foreign_rc (an
 *                 address outside the heap), interior_rc, misaligned_rc,
 *                 survivor_size (MemorySize of the block whose interior was
 *                 "freed"), size_null, size_foreign, size_freed
 *   "quota"       blocks (64 KiB blocks obtained before the first NULL),
 *                 bytes, fail_rc (the error with that NULL), huge_rc and
 *                 huge_null (Alloc(SIZE_MAX)), realloc_rc, realloc_null,
 *                 realloc_kept (the block a failed Realloc was asked to grow is
 *                 unchanged), again (after freeing all: 512 KiB at once)
 * Run returns TRUE.
 */
#include <stdint.h>

#include "api_report.h"

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    report_register(info, "API memory", "Memory helpers through the API");
    return TRUE;
}

static BOOL aligned = TRUE;

static LPVOID checked(LPVOID p)
{
    if (p && ((uintptr_t)p & 15) != 0)
        aligned = FALSE;
    return p;
}

static BOOL all_bytes(const BYTE *p, size_t from, size_t to, BYTE value)
{
    for (size_t i = from; i < to; i++)
        if (p[i] != value)
            return FALSE;
    return TRUE;
}

static BOOL pattern_kept(const BYTE *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != (BYTE)(i * 13 + 1))
            return FALSE;
    return TRUE;
}

static void fill_pattern(BYTE *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (BYTE)(i * 13 + 1);
}

static const size_t sizes[] = {1, 7, 15, 16, 17, 100, 4096, 65536, 200000};
#define SIZE_COUNT (sizeof sizes / sizeof *sizes)

static void blocks(HEXPERTKEY key)
{
    BYTE *p[SIZE_COUNT];
    BOOL zero_filled = TRUE, sizes_ok = TRUE;
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < SIZE_COUNT; i++) {
            DWORD error = 0xDEADBEEF;
            p[i] = checked(ExpertAllocMemory(key, sizes[i], &error));
            zero_filled = zero_filled && p[i] && error == NMERR_SUCCESS && all_bytes(p[i], 0, sizes[i], 0);
            sizes_ok = sizes_ok && ExpertMemorySize(key, p[i]) == sizes[i];
        }
        /* Dirty every byte and give the blocks back: the second round gets
         * (some of) the same memory again and must still see zeroes. */
        for (size_t i = 0; i < SIZE_COUNT; i++) {
            if (p[i])
                memset(p[i], 0xAB, sizes[i]);
            ExpertFreeMemory(key, p[i]);
        }
    }
    LPVOID zero_a = checked(ExpertAllocMemory(key, 0, NULL));
    LPVOID zero_b = checked(ExpertAllocMemory(key, 0, NULL));
    BOOL zero_size = zero_a && zero_b && zero_a != zero_b && ExpertMemorySize(key, zero_a) == 0 &&
                     ExpertMemorySize(key, zero_b) == 0;
    ExpertFreeMemory(key, zero_a);
    ExpertFreeMemory(key, zero_b);
    LPVOID no_error = checked(ExpertAllocMemory(key, 24, NULL));
    BOOL null_error_ok = no_error != NULL;
    ExpertFreeMemory(key, no_error);

    report_begin("blocks");
    report_yesno("zero_filled", zero_filled);
    report_yesno("aligned", aligned);
    report_yesno("sizes", sizes_ok);
    report_yesno("zero_size", zero_size);
    report_yesno("null_error_ok", null_error_ok);
    report_send(key);
}

static void reallocs(HEXPERTKEY key)
{
    BOOL sizes_ok = TRUE;
    BYTE *p = checked(ExpertAllocMemory(key, 100, NULL));
    if (!p)
        return;
    fill_pattern(p, 100);
    /* Something after it, so that growing has to move the block. */
    LPVOID fence = ExpertAllocMemory(key, 32, NULL);
    DWORD error = 0xDEADBEEF;
    BYTE *grown = checked(ExpertReallocMemory(key, p, 5000, &error));
    BOOL grow_keeps = grown && error == NMERR_SUCCESS && pattern_kept(grown, 100);
    BOOL grow_zeroed = grown && all_bytes(grown, 100, 5000, 0);
    sizes_ok = sizes_ok && ExpertMemorySize(key, grown) == 5000;

    BYTE *shrunk = grown ? checked(ExpertReallocMemory(key, grown, 50, NULL)) : NULL;
    BOOL shrink_keeps = shrunk && pattern_kept(shrunk, 50);
    sizes_ok = sizes_ok && ExpertMemorySize(key, shrunk) == 50;
    /* Bytes 50..99 still held the pattern before the shrink; growing back
     * must hand them out zeroed like any added byte. */
    BYTE *regrown = shrunk ? checked(ExpertReallocMemory(key, shrunk, 100, NULL)) : NULL;
    BOOL regrow_zeroed = regrown && pattern_kept(regrown, 50) && all_bytes(regrown, 50, 100, 0);
    sizes_ok = sizes_ok && ExpertMemorySize(key, regrown) == 100;

    error = 0xDEADBEEF;
    BYTE *from_null = checked(ExpertReallocMemory(key, NULL, 64, &error));
    BOOL null_allocates = from_null && error == NMERR_SUCCESS && all_bytes(from_null, 0, 64, 0) &&
                          ExpertMemorySize(key, from_null) == 64;

    ExpertFreeMemory(key, regrown);
    ExpertFreeMemory(key, from_null);
    ExpertFreeMemory(key, fence);
    report_begin("realloc");
    report_yesno("grow_keeps", grow_keeps);
    report_yesno("grow_zeroed", grow_zeroed);
    report_yesno("shrink_keeps", shrink_keeps);
    report_yesno("regrow_zeroed", regrow_zeroed);
    report_yesno("null_allocates", null_allocates);
    report_yesno("sizes", sizes_ok);
    report_yesno("aligned", aligned);
    report_send(key);
}

static void frees(HEXPERTKEY key)
{
    int on_the_stack = 0;
    BYTE *p = ExpertAllocMemory(key, 128, NULL);
    BYTE *big = ExpertAllocMemory(key, 4096, NULL);
    DWORD null_rc = ExpertFreeMemory(key, NULL);
    DWORD interior_rc = ExpertFreeMemory(key, big + 1024);
    DWORD misaligned_rc = ExpertFreeMemory(key, big + 1);
    SIZE_T survivor_size = ExpertMemorySize(key, big);
    DWORD foreign_rc = ExpertFreeMemory(key, &on_the_stack);
    DWORD first_rc = ExpertFreeMemory(key, p);
    SIZE_T size_freed = ExpertMemorySize(key, p);
    DWORD double_rc = ExpertFreeMemory(key, p);
    /* The heap still works after all that. */
    BYTE *after = ExpertAllocMemory(key, 128, NULL);
    BOOL works_after = after && all_bytes(after, 0, 128, 0);
    ExpertFreeMemory(key, after);
    ExpertFreeMemory(key, big);

    report_begin("free");
    report_u32("null_rc", null_rc);
    report_u32("first_rc", first_rc);
    report_u32("double_rc", double_rc);
    report_u32("foreign_rc", foreign_rc);
    report_u32("interior_rc", interior_rc);
    report_u32("misaligned_rc", misaligned_rc);
    report_u32("survivor_size", (DWORD)survivor_size);
    report_u32("size_null", (DWORD)ExpertMemorySize(key, NULL));
    report_u32("size_foreign", (DWORD)ExpertMemorySize(key, &on_the_stack));
    report_u32("size_freed", (DWORD)size_freed);
    report_yesno("works_after", works_after);
    report_send(key);
}

#define QUOTA_BLOCK 65536
#define MAX_QUOTA_BLOCKS 64   /* 4 MiB: more than the 1 MiB the test gives */

static void quota(HEXPERTKEY key)
{
    static LPVOID held[MAX_QUOTA_BLOCKS];
    DWORD count = 0, fail_rc = NMERR_SUCCESS;
    while (count < MAX_QUOTA_BLOCKS) {
        DWORD error = 0xDEADBEEF;
        LPVOID p = checked(ExpertAllocMemory(key, QUOTA_BLOCK, &error));
        if (!p) {
            fail_rc = error;
            break;
        }
        memset(p, 0x5A, QUOTA_BLOCK);   /* really use the pages */
        held[count++] = p;
    }
    DWORD huge_rc = 0xDEADBEEF;
    LPVOID huge = ExpertAllocMemory(key, SIZE_MAX, &huge_rc);

    /* Free one block and grow another one past what is left. */
    BOOL realloc_kept = FALSE, realloc_null = FALSE;
    DWORD realloc_rc = 0xDEADBEEF;
    if (count >= 2) {
        ExpertFreeMemory(key, held[--count]);
        BYTE *victim = held[0];
        fill_pattern(victim, QUOTA_BLOCK);
        LPVOID grown = ExpertReallocMemory(key, victim, 2 * 1024 * 1024, &realloc_rc);
        realloc_null = grown == NULL;
        realloc_kept = ExpertMemorySize(key, victim) == QUOTA_BLOCK && pattern_kept(victim, QUOTA_BLOCK);
        if (grown)
            held[0] = grown;
    }
    DWORD obtained = count + (count ? 1 : 0);   /* the one given back above */
    for (DWORD i = 0; i < count; i++)
        ExpertFreeMemory(key, held[i]);
    LPVOID again = ExpertAllocMemory(key, 512 * 1024, NULL);
    ExpertFreeMemory(key, again);

    report_begin("quota");
    report_u32("blocks", obtained);
    report_u32("bytes", obtained * QUOTA_BLOCK);
    report_u32("fail_rc", fail_rc);
    report_u32("huge_rc", huge_rc);
    report_yesno("huge_null", huge == NULL);
    report_u32("realloc_rc", realloc_rc);
    report_yesno("realloc_null", realloc_null);
    report_yesno("realloc_kept", realloc_kept);
    report_yesno("again", again != NULL);
    report_yesno("aligned", aligned);
    report_send(key);
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags, HWND parent)
{
    (void)config;
    (void)startup;
    (void)flags;
    (void)parent;
    blocks(key);
    reallocs(key);
    frees(key);
    quota(key);
    return TRUE;
}
