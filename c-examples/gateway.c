/* A gateway: one PUSH fans work out over tcp to game servers (PULL), each in its own process.
 * Servers can join and leave while the gateway runs; work goes round-robin to the servers
 * connected at the time. Each server reports what it did on a second channel (PUSH to the
 * gateway's PULL), so the gateway can count who got what. */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#define SERVERS 2
#define ITEMS 20

static int fail(const char *what)
{
    fprintf(stderr, "gateway: %s failed: %s\n", what, zmq_strerror(zmq_errno()));
    return 1;
}

/* A game server: takes work items, reports each one back with its own number. */
static int server(int me, const char *work_ep, const char *results_ep)
{
    void *ctx = zmq_ctx_new();
    void *work = zmq_socket(ctx, ZMQ_PULL);
    void *results = zmq_socket(ctx, ZMQ_PUSH);
    if (zmq_connect(work, work_ep) != 0 || zmq_connect(results, results_ep) != 0)
        return fail("server zmq_connect");
    int idle = 10000; /* a server with no work for 10 s stops */
    zmq_setsockopt(work, ZMQ_RCVTIMEO, &idle, sizeof idle);
    zmq_send(results, "ready", 5, 0);
    for (;;) {
        int item;
        if (zmq_recv(work, &item, sizeof item, 0) != sizeof item)
            return 0;
        int report[2] = {me, item};
        zmq_send(results, report, sizeof report, 0);
    }
}

int main(void)
{
    void *ctx = zmq_ctx_new();
    void *work = zmq_socket(ctx, ZMQ_PUSH);
    void *results = zmq_socket(ctx, ZMQ_PULL);
    if (!work || !results)
        return fail("zmq_socket");
    if (zmq_bind(work, "tcp://127.0.0.1:*") != 0 || zmq_bind(results, "tcp://127.0.0.1:*") != 0)
        return fail("zmq_bind");
    char work_ep[256], results_ep[256];
    size_t len = sizeof work_ep;
    zmq_getsockopt(work, ZMQ_LAST_ENDPOINT, work_ep, &len);
    len = sizeof results_ep;
    zmq_getsockopt(results, ZMQ_LAST_ENDPOINT, results_ep, &len);

    pid_t pids[SERVERS];
    fflush(stdout);
    for (int i = 0; i < SERVERS; i++) {
        pids[i] = fork();
        if (pids[i] == 0)
            _exit(server(i, work_ep, results_ep));
    }
    /* Wait until every server is up, then give the connections a moment. */
    int timeout = 5000;
    zmq_setsockopt(results, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    char ready[8];
    for (int i = 0; i < SERVERS; i++)
        if (zmq_recv(results, ready, sizeof ready, 0) != 5)
            return fail("waiting for the servers");
    zmq_sleep(1);

    for (int item = 0; item < ITEMS; item++)
        zmq_send(work, &item, sizeof item, 0);
    int count[SERVERS] = {0};
    for (int i = 0; i < ITEMS; i++) {
        int report[2];
        if (zmq_recv(results, report, sizeof report, 0) != sizeof report)
            return fail("collecting the reports");
        count[report[0]]++;
    }
    for (int i = 0; i < SERVERS; i++) {
        printf("server %d did %d of %d items\n", i, count[i], ITEMS);
        kill(pids[i], SIGTERM);
        waitpid(pids[i], NULL, 0);
    }
    int linger = 0;
    zmq_setsockopt(work, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(work);
    zmq_close(results);
    zmq_ctx_term(ctx);
    return count[0] > 0 && count[1] > 0 ? 0 : 1;
}
