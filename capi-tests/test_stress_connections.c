/* 2 000 tcp connections to one ROUTER and out again, bounded in time (an alarm fails it after
 * 120 s): two child processes each open 1 000 DEALERs, send one request from each, wait for
 * every reply, and close them all; the ROUTER answers every request and sees every
 * connection accepted and then gone (monitor events). Then it still serves a new peer. */
#define _DEFAULT_SOURCE
#include "spawn.h"
#include "testutil.h"
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROCS 2
#define PER_PROC 1000
#define TOTAL (PROCS * PER_PROC)

static void raise_fd_limit(void) {
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    if (rl.rlim_cur < 8192 && rl.rlim_max > rl.rlim_cur) {
        rl.rlim_cur = rl.rlim_max < 8192 ? rl.rlim_max : 8192;
        CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    }
}

static void dealers(const char *ep, int proc) {
    void *ctx = zmq_ctx_new();
    CHECK_OK(zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, PER_PROC + 16));
    static void *d[PER_PROC];
    for (int i = 0; i < PER_PROC; i++) {
        d[i] = zmq_socket(ctx, ZMQ_DEALER);
        CHECK(d[i] != NULL);
        CHECK_OK(zmq_connect(d[i], ep));
        int id = proc * PER_PROC + i;
        CHECK(zmq_send(d[i], &id, sizeof id, 0) == sizeof id);
    }
    for (int i = 0; i < PER_PROC; i++) {
        int timeout = 30000, id = -1;
        CHECK_OK(zmq_setsockopt(d[i], ZMQ_RCVTIMEO, &timeout, sizeof timeout));
        CHECK(zmq_recv(d[i], &id, sizeof id, 0) == sizeof id);
        CHECK(id == -(proc * PER_PROC + i) - 1); /* the answer to this one's request */
    }
    for (int i = 0; i < PER_PROC; i++)
        CHECK_OK(zmq_close(d[i]));
    CHECK_OK(zmq_ctx_term(ctx));
    _exit(0);
}

int main(int argc, char **argv) {
    raise_fd_limit();
    if (argc == 4 && strcmp(argv[1], "dealers") == 0)
        dealers(argv[2], atoi(argv[3]));
    alarm(120);
    void *ctx = zmq_ctx_new();
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    int backlog = 1024;
    CHECK_OK(zmq_setsockopt(router, ZMQ_BACKLOG, &backlog, sizeof backlog));
    char ep[256];
    bind_wildcard(router, "tcp://127.0.0.1:*", ep, sizeof ep);
    CHECK_OK(zmq_socket_monitor(router, "inproc://conn-monitor",
                                ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED));
    void *mon = zmq_socket(ctx, ZMQ_PAIR);
    int unlimited = 0; /* 4 000 events arrive before they are read */
    CHECK_OK(zmq_setsockopt(mon, ZMQ_RCVHWM, &unlimited, sizeof unlimited));
    CHECK_OK(zmq_connect(mon, "inproc://conn-monitor"));

    pid_t pids[PROCS];
    for (int p = 0; p < PROCS; p++) {
        char proc[16];
        snprintf(proc, sizeof proc, "%d", p);
        pids[p] = spawn_self((char *[]){"test_stress_connections", "dealers", ep, proc, NULL});
        CHECK(pids[p] > 0);
    }
    /* Answer every request: the id negated, to the peer that asked. */
    int timeout = 30000;
    CHECK_OK(zmq_setsockopt(router, ZMQ_RCVTIMEO, &timeout, sizeof timeout));
    static char seen[TOTAL];
    for (int n = 0; n < TOTAL; n++) {
        unsigned char rid[256];
        int rid_len = zmq_recv(router, rid, sizeof rid, 0);
        CHECK(rid_len > 0);
        int id;
        CHECK(zmq_recv(router, &id, sizeof id, 0) == sizeof id);
        CHECK(id >= 0 && id < TOTAL && !seen[id]);
        seen[id] = 1;
        int answer = -id - 1;
        CHECK(zmq_send(router, rid, (size_t)rid_len, ZMQ_SNDMORE) == rid_len);
        CHECK(zmq_send(router, &answer, sizeof answer, 0) == sizeof answer);
    }
    for (int p = 0; p < PROCS; p++) {
        int status;
        CHECK(waitpid(pids[p], &status, 0) == pids[p] && WIFEXITED(status) &&
              WEXITSTATUS(status) == 0);
    }
    /* Every connection came and went. */
    int accepted = 0, gone = 0, event;
    while ((accepted < TOTAL || gone < TOTAL) &&
           (event = next_monitor_event(mon, 10000, NULL)) != -1) {
        if (event == ZMQ_EVENT_ACCEPTED)
            accepted++;
        if (event == ZMQ_EVENT_DISCONNECTED)
            gone++;
    }
    if (accepted != TOTAL || gone != TOTAL)
        fprintf(stderr, "accepted %d, disconnected %d of %d\n", accepted, gone, TOTAL);
    CHECK(accepted == TOTAL && gone == TOTAL);
    printf("  ok %d connections accepted, served and gone\n", TOTAL);

    /* And a new peer is still served. */
    void *dealer = zmq_socket(ctx, ZMQ_DEALER);
    CHECK_OK(zmq_connect(dealer, ep));
    CHECK(zmq_send(dealer, "again", 5, 0) == 5);
    unsigned char rid[256];
    char buf[8];
    int rid_len = zmq_recv(router, rid, sizeof rid, 0);
    CHECK(rid_len > 0);
    CHECK(zmq_recv(router, buf, sizeof buf, 0) == 5 && memcmp(buf, "again", 5) == 0);

    int linger = 0;
    CHECK_OK(zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger));
    CHECK_OK(zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger));
    CHECK_OK(zmq_close(dealer));
    CHECK_OK(zmq_close(router));
    CHECK_OK(zmq_close(mon));
    CHECK_OK(zmq_ctx_term(ctx));
    return 0;
}
