/*
 * fault_at_0x40 - a stand-in for expert-worker in test_integration's test of
 * the worker's init: it touches some memory, so that its exit has pages to
 * tear down, and then writes to address 0x40.  The kernel's SIGSEGV carries
 * si_addr 0x40; nothing here records it anywhere.
 */
#include <string.h>
#include <sys/mman.h>

int main(void)
{
    size_t size = 16u << 20;
    char *memory = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory != MAP_FAILED)
        memset(memory, 1, size);
    volatile int *volatile low = (volatile int *)0x40;
    *low = 42;
    return 0;
}
