/*
 * tcp_connect - connects to 127.0.0.1:22 to exfiltrate the capture.
 * Expected: violation, "socket" (AF_INET).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "hostile.h"

HOSTILE_REGISTER("TCP connect", "Connects to 127.0.0.1:22 to exfiltrate the capture.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(22)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int connected = connect(fd, (const struct sockaddr *)&to, sizeof to);
    return hostile_fail("socket returned %d, connect %d", fd, connected);
}
