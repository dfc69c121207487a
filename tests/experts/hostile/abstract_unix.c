/*
 * abstract_unix - connects to an abstract Unix socket, which no file permission guards.
 * Expected: violation, "socket" (AF_UNIX).
 */
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "hostile.h"

HOSTILE_REGISTER("Abstract Unix socket", "Connects to an abstract Unix socket, which no file permission guards.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un to = {.sun_family = AF_UNIX};
    static const char name[] = "\0expert-sandbox-hostile";
    memcpy(to.sun_path, name, sizeof name - 1);
    int connected = connect(fd, (const struct sockaddr *)&to,
                            (socklen_t)(offsetof(struct sockaddr_un, sun_path) + sizeof name - 1));
    return hostile_fail("socket returned %d, connect %d", fd, connected);
}
