/* expertfile.c - refuse what cannot be an expert before starting a worker. */
#include "expertfile.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define NATIVE_MACHINE EM_AARCH64
#else
#error "expert-sandbox supports x86-64 and AArch64 Linux"
#endif

static int refuse(int fd, char *why, size_t whylen, const char *reason)
{
    snprintf(why, whylen, "%s", reason);
    if (fd >= 0)
        close(fd);
    return -1;
}

int es_expert_file_open(const char *path, char *why, size_t whylen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT)
            return refuse(-1, why, whylen, "no such file");
        snprintf(why, whylen, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0)
        return refuse(fd, why, whylen, "cannot stat");
    if (S_ISDIR(st.st_mode))
        return refuse(fd, why, whylen, "is a directory");
    if (!S_ISREG(st.st_mode))
        return refuse(fd, why, whylen, "not a regular file");
    if (st.st_size == 0)
        return refuse(fd, why, whylen, "empty file, not an ELF shared object");

    Elf64_Ehdr eh;
    ssize_t got = pread(fd, &eh, sizeof eh, 0);
    if (got < 0)
        return refuse(fd, why, whylen, "cannot read");
    if ((size_t)got < EI_NIDENT || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
        return refuse(fd, why, whylen, "not an ELF file");
    if ((size_t)got < sizeof eh)
        return refuse(fd, why, whylen, "truncated ELF header");
    if (eh.e_ident[EI_CLASS] != ELFCLASS64)
        return refuse(fd, why, whylen, "not a 64-bit ELF object");
    if (eh.e_machine != NATIVE_MACHINE) {
        snprintf(why, whylen, "built for another machine (ELF machine %u)", eh.e_machine);
        close(fd);
        return -1;
    }
    if (eh.e_type != ET_DYN)
        return refuse(fd, why, whylen, "not a shared object (build it with -shared -fPIC)");
    return fd;
}
