/* No loss on close: a sender in another process sends N messages, then closes its socket and
 * terminates its context with the default LINGER (wait for everything to go out), and the
 * receiver here gets all N, in order, in every run: PUSH -> PULL, DEALER -> ROUTER and
 * PUB -> SUB (subscribed before the first message: the sender is an XPUB that waits for the
 * subscription, with XPUB_NODROP, since a PUB drops at the HWM by design), over ipc and tcp;
 * the receiver binds, the sender connects (50 runs each; 50/N under ZMQRS_TEST_SCALE=N, see
 * testutil.h). libzmq 4.3.4 loses the tail over ipc in about one run in four. */
#define _DEFAULT_SOURCE
#include "spawn.h"
#include "testutil.h"
#include <sys/wait.h>
#include <unistd.h>

#define RUNS 50
#define MSGS 100000

enum pattern { PUSH_PULL, DEALER_ROUTER, PUB_SUB };
static const char *names[] = {"PUSH -> PULL", "DEALER -> ROUTER", "PUB -> SUB"};

/* The sender, in the child process (`test_no_loss_on_close sender PATTERN ENDPOINT`): connects, sends MSGS numbered messages (blocking at the default
 * HWMs), closes, terminates. */
static void sender(enum pattern p, const char *ep) {
    void *ctx = zmq_ctx_new();
    int type = p == PUSH_PULL ? ZMQ_PUSH : p == DEALER_ROUTER ? ZMQ_DEALER : ZMQ_XPUB;
    void *s = zmq_socket(ctx, type);
    if (p == PUB_SUB) {
        /* A PUB drops at the HWM by design; with NODROP it blocks instead. */
        int nodrop = 1;
        CHECK_OK(zmq_setsockopt(s, ZMQ_XPUB_NODROP, &nodrop, sizeof nodrop));
    }
    CHECK_OK(zmq_connect(s, ep));
    if (p == PUB_SUB) {
        char sub[8];
        CHECK(zmq_recv(s, sub, sizeof sub, 0) == 1 && sub[0] == 1); /* the subscription */
    }
    char buf[16];
    for (int i = 0; i < MSGS; i++) {
        int n = snprintf(buf, sizeof buf, "%d", i);
        CHECK(zmq_send(s, buf, (size_t)n, 0) == n);
    }
    CHECK_OK(zmq_close(s));
    CHECK_OK(zmq_ctx_term(ctx));
    _exit(0);
}

/* One run: returns how many messages arrived, in order. */
static int run(enum pattern p, const char *transport) {
    void *ctx = zmq_ctx_new();
    int type = p == PUSH_PULL ? ZMQ_PULL : p == DEALER_ROUTER ? ZMQ_ROUTER : ZMQ_SUB;
    void *s = zmq_socket(ctx, type);
    int timeout = 5000 * (int)test_scale();
    CHECK_OK(zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout));
    char ep[256];
    if (p == PUB_SUB)
        CHECK_OK(zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0));
    bind_wildcard(s, strcmp(transport, "ipc") == 0 ? "ipc://*" : "tcp://127.0.0.1:*", ep, sizeof ep);
    char pattern[16];
    snprintf(pattern, sizeof pattern, "%d", (int)p);
    pid_t pid = spawn_self((char *[]){"test_no_loss_on_close", "sender", pattern, ep, NULL});
    CHECK(pid > 0);
    int got = 0;
    char buf[64], want[16];
    while (got < MSGS) {
        if (p == DEALER_ROUTER) {
            int more = 0;
            size_t size = sizeof more;
            if (zmq_recv(s, buf, sizeof buf, 0) < 0) /* the routing id */
                break;
            CHECK_OK(zmq_getsockopt(s, ZMQ_RCVMORE, &more, &size));
            CHECK(more);
        }
        int n = zmq_recv(s, buf, sizeof buf, 0);
        if (n < 0)
            break;
        int k = snprintf(want, sizeof want, "%d", got);
        CHECK(n == k && memcmp(buf, want, (size_t)k) == 0); /* in order, none skipped */
        got++;
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    int linger = 0;
    CHECK_OK(zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger));
    CHECK_OK(zmq_close(s));
    CHECK_OK(zmq_ctx_term(ctx));
    return got;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "sender") == 0)
        sender((enum pattern)atoi(argv[2]), argv[3]);
    const char *transports[] = {"ipc", "tcp"};
    for (int p = PUSH_PULL; p <= PUB_SUB; p++) {
        for (int t = 0; t < 2; t++) {
            int runs = RUNS / (int)test_scale() > 0 ? RUNS / (int)test_scale() : 1;
            for (int r = 0; r < runs; r++) {
                int got = run((enum pattern)p, transports[t]);
                if (got != MSGS) {
                    fprintf(stderr, "%s over %s, run %d: %d of %d messages\n", names[p],
                            transports[t], r, got, MSGS);
                    exit(1);
                }
            }
            printf("  ok %s over %s: %d runs of %d messages, none lost\n", names[p],
                   transports[t], runs, MSGS);
        }
    }
    return 0;
}
