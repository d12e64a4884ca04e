/* The gateway scenario, bounded in time (an alarm fails it after 60 s): a gateway PUSH fans
 * work out over tcp to game servers (PULL, each in its own process) that join and leave while
 * it runs; nothing restarts.
 * - start order does not matter: a server started before the gateway binds gets work;
 * - work spreads evenly over the servers connected at each moment;
 * - a server that joins later gets its share;
 * - one killed with SIGKILL leaves the others unaffected, and once the gateway has seen it
 *   go, every item reaches a live server.
 * Each server reports every item it gets on a results channel, so the gateway counts who got
 * what. */
#define _DEFAULT_SOURCE
#include "spawn.h"
#include "testutil.h"
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define SERVERS 3

static char work_ep[256], results_ep[256];

/* A game server: pulls work from the gateway, reports (server, item) for each. */
static void server(int me) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
    void *ctx = zmq_ctx_new();
    void *work = zmq_socket(ctx, ZMQ_PULL);
    void *results = zmq_socket(ctx, ZMQ_PUSH);
    CHECK_OK(zmq_connect(work, work_ep));
    CHECK_OK(zmq_connect(results, results_ep));
    for (;;) {
        int32_t item;
        CHECK(zmq_recv(work, &item, sizeof item, 0) == sizeof item);
        int32_t report[2] = {me, item};
        CHECK(zmq_send(results, report, sizeof report, 0) == sizeof report);
    }
}

/* A server in a process of its own (`test_stress_gateway server N WORK RESULTS`). */
static pid_t start_server(int me) {
    char n[16];
    snprintf(n, sizeof n, "%d", me);
    pid_t pid = spawn_self((char *[]){"test_stress_gateway", "server", n, work_ep, results_ep, NULL});
    CHECK(pid > 0);
    return pid;
}

/* Waits for `n` more monitor events of type `want` (others are skipped), then lets the
 * gateway take in what they announce (a new peer's pipe is attached when the socket next
 * processes its commands, which ZMQ_EVENTS does). */
static void wait_events(void *gateway, void *mon, int want, int n) {
    while (n > 0) {
        int e = next_monitor_event(mon, 10000, NULL);
        CHECK(e != -1);
        if (e == want)
            n--;
    }
    usleep(50000);
    int events;
    size_t size = sizeof events;
    CHECK_OK(zmq_getsockopt(gateway, ZMQ_EVENTS, &events, &size));
}

/* Sends `count` items numbered from `first`, then collects the reports of all of them
 * (items sent to a server that dies may be missing: `lossy`), counting per server. */
static void round_of_work(void *gateway, void *results, int first, int count, int got[SERVERS],
                          int lossy) {
    for (int i = 0; i < SERVERS; i++)
        got[i] = 0;
    for (int32_t i = first; i < first + count; i++)
        CHECK(zmq_send(gateway, &i, sizeof i, 0) == sizeof i);
    int reported = 0;
    int32_t report[2];
    while (reported < count &&
           zmq_recv(results, report, sizeof report, 0) == sizeof report) {
        CHECK(report[0] >= 0 && report[0] < SERVERS);
        CHECK(report[1] >= first && report[1] < first + count);
        got[report[0]]++;
        reported++;
    }
    CHECK(lossy || reported == count);
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "server") == 0) {
        snprintf(work_ep, sizeof work_ep, "%s", argv[3]);
        snprintf(results_ep, sizeof results_ep, "%s", argv[4]);
        server(atoi(argv[2]));
    }
    alarm(60);
    void *ctx = zmq_ctx_new();
    void *results = zmq_socket(ctx, ZMQ_PULL);
    int timeout = 5000;
    CHECK_OK(zmq_setsockopt(results, ZMQ_RCVTIMEO, &timeout, sizeof timeout));
    bind_wildcard(results, "tcp://127.0.0.1:*", results_ep, sizeof results_ep);
    /* The gateway's endpoint, chosen now, bound only after the first server started. */
    {
        void *c = zmq_ctx_new();
        void *probe = zmq_socket(c, ZMQ_PULL);
        bind_wildcard(probe, "tcp://127.0.0.1:*", work_ep, sizeof work_ep);
        CHECK_OK(zmq_close(probe));
        CHECK_OK(zmq_ctx_term(c));
    }
    pid_t pids[SERVERS];
    pids[0] = start_server(0); /* before the gateway exists */
    usleep(200000);

    void *gateway = zmq_socket(ctx, ZMQ_PUSH);
    CHECK_OK(zmq_socket_monitor(gateway, "inproc://gateway-monitor",
                                ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED));
    void *mon = zmq_socket(ctx, ZMQ_PAIR);
    CHECK_OK(zmq_connect(mon, "inproc://gateway-monitor"));
    CHECK_OK(zmq_bind(gateway, work_ep));
    pids[1] = start_server(1);
    wait_events(gateway, mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 2);

    /* Two servers: an even split. */
    int got[SERVERS];
    round_of_work(gateway, results, 0, 1000, got, 0);
    CHECK(got[0] >= 400 && got[1] >= 400 && got[2] == 0);

    /* A third joins: it gets its share. */
    pids[2] = start_server(2);
    wait_events(gateway, mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 1);
    round_of_work(gateway, results, 1000, 1500, got, 0);
    CHECK(got[0] >= 400 && got[1] >= 400 && got[2] >= 400);

    /* One is killed: once the gateway saw it go, the others get everything. */
    CHECK(kill(pids[1], SIGKILL) == 0);
    int status;
    CHECK(waitpid(pids[1], &status, 0) == pids[1]);
    wait_events(gateway, mon, ZMQ_EVENT_DISCONNECTED, 1);
    round_of_work(gateway, results, 2500, 1000, got, 0);
    CHECK(got[1] == 0 && got[0] >= 400 && got[2] >= 400);
    printf("  ok after the kill: %d and %d of 1000\n", got[0], got[2]);

    for (int i = 0; i < SERVERS; i++)
        if (i != 1) {
            CHECK(kill(pids[i], SIGKILL) == 0);
            CHECK(waitpid(pids[i], &status, 0) == pids[i]);
        }
    int linger = 0;
    CHECK_OK(zmq_setsockopt(gateway, ZMQ_LINGER, &linger, sizeof linger));
    CHECK_OK(zmq_close(gateway));
    CHECK_OK(zmq_close(results));
    CHECK_OK(zmq_close(mon));
    CHECK_OK(zmq_ctx_term(ctx));
    return 0;
}
