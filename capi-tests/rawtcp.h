/* Plain TCP sockets for the tests that play a peer by hand (hostile clients, old ZMTP peers,
 * raw STREAM peers): loopback connect and listen on an ephemeral port, a monotonic clock,
 * a ZMTP 3.1 greeting, and waiting for the library to close a connection. */
#ifndef ZMQ_RS_RAWTCP_H
#define ZMQ_RS_RAWTCP_H

#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A client connected to 127.0.0.1:port. */
static inline int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    return fd;
}

/* A listening socket on an ephemeral loopback port, stored in *port. */
static inline int raw_listen(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(listen(fd, 4) == 0);
    socklen_t sl = sizeof sa;
    CHECK(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* Writes a ZMTP 3.1 greeting into out (64 bytes) whose 20-byte mechanism field names
 * `mechanism` (NUL-padded), as-server 0; returns its length. */
static inline size_t zmtp3_greeting(unsigned char *out, const char *mechanism)
{
    memset(out, 0, 64);
    out[0] = 0xFF;
    out[8] = 0x01;
    out[9] = 0x7F;
    out[10] = 3;
    out[11] = 1;
    memcpy(out + 12, mechanism, strlen(mechanism));
    return 64;
}

/* Reads and drops until the library closes the connection: 1 when read() returned 0 or
 * ECONNRESET within within_ms, 0 on timeout or another error. Never hangs. */
static inline int closed_by_peer_within(int fd, int within_ms)
{
    long deadline = now_ms() + within_ms;
    char buf[4096];
    for (;;) {
        long left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd pfd = {fd, POLLIN, 0};
        int rc = poll(&pfd, 1, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            return 0;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return 1;
        if (n < 0 && errno != EINTR && errno != EAGAIN) {
            fprintf(stderr, "read: unexpected errno %d (%s)\n", errno, strerror(errno));
            return 0;
        }
    }
}

#endif
