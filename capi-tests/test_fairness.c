/* An I/O thread serves its connections in turn: a loop that reads or accepts until the kernel
 * has nothing more stops after a round's worth and goes on in the thread's next round, so a
 * flood cannot hold the thread. What must hold for that to be right:
 * - connections queued far beyond a round's worth are all accepted (the rest are taken in
 *   the following rounds; the kernel reports them only once). The server runs in a child
 *   process that is stopped (SIGSTOP) while 300 connections queue, then continued. */
#define _DEFAULT_SOURCE
#include "spawn.h"
#include "testutil.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define QUEUED 300

/* The child: a ROUTER on one I/O thread; writes its endpoint to `out`, then counts the
 * connections it accepts; exits 0 once it has QUEUED of them, 1 after 10 s without. */
static void server(int out) {
    void *ctx = zmq_ctx_new();
    CHECK_OK(zmq_ctx_set(ctx, ZMQ_IO_THREADS, 1));
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    int backlog = 1024;
    CHECK_OK(zmq_setsockopt(router, ZMQ_BACKLOG, &backlog, sizeof backlog));
    char ep[256];
    bind_wildcard(router, "tcp://127.0.0.1:*", ep, sizeof ep);
    CHECK_OK(zmq_socket_monitor(router, "inproc://fair-monitor", ZMQ_EVENT_ACCEPTED));
    void *mon = zmq_socket(ctx, ZMQ_PAIR);
    int unlimited = 0;
    CHECK_OK(zmq_setsockopt(mon, ZMQ_RCVHWM, &unlimited, sizeof unlimited));
    CHECK_OK(zmq_connect(mon, "inproc://fair-monitor"));
    size_t len = strlen(ep) + 1;
    CHECK(write(out, ep, len) == (ssize_t)len);
    int accepted = 0;
    while (accepted < QUEUED && next_monitor_event(mon, 10000, NULL) == ZMQ_EVENT_ACCEPTED)
        accepted++;
    int linger = 0;
    CHECK_OK(zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger));
    CHECK_OK(zmq_setsockopt(mon, ZMQ_LINGER, &linger, sizeof linger));
    CHECK_OK(zmq_close(router));
    CHECK_OK(zmq_close(mon));
    CHECK_OK(zmq_ctx_term(ctx));
    if (accepted != QUEUED)
        fprintf(stderr, "server: %d of %d queued connections accepted\n", accepted, QUEUED);
    _exit(accepted == QUEUED ? 0 : 1);
}

static void test_connections_queued_beyond_a_round_are_all_accepted(void) {
    int p[2];
    CHECK(pipe(p) == 0);
    char fd[16];
    snprintf(fd, sizeof fd, "%d", p[1]);
    pid_t child = spawn_self((char *[]){"test_fairness", "server", fd, NULL});
    CHECK(child > 0);
    close(p[1]);
    char ep[256] = {0};
    size_t got = 0;
    while (got == 0 || ep[got - 1] != '\0') {
        ssize_t n = read(p[0], ep + got, sizeof ep - 1 - got);
        CHECK(n > 0);
        got += (size_t)n;
    }
    close(p[0]);
    unsigned port = 0;
    CHECK(sscanf(ep, "tcp://127.0.0.1:%u", &port) == 1);

    /* While the server cannot run, the kernel completes every handshake into its queue. */
    CHECK(kill(child, SIGSTOP) == 0);
    int status;
    CHECK(waitpid(child, &status, WUNTRACED) == child && WIFSTOPPED(status));
    static int fds[QUEUED];
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < QUEUED; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        CHECK(fds[i] >= 0);
        CHECK(connect(fds[i], (struct sockaddr *)&sa, sizeof sa) == 0);
    }
    CHECK(kill(child, SIGCONT) == 0);
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (int i = 0; i < QUEUED; i++)
        close(fds[i]);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "server") == 0)
        server(atoi(argv[2]));
    alarm(60);
    RUN(test_connections_queued_beyond_a_round_are_all_accepted);
    return 0;
}
