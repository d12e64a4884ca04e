/* Concurrency under load, bounded in time (an alarm fails the test after 60 s):
 * - 32 threads create, use and close sockets on one context at once: inproc pairs bound,
 *   connected, a message each way, closed, 100 times per thread;
 * - zmq_ctx_term from the main thread while other threads block in zmq_recv, zmq_send (at
 *   the HWM), zmq_poll and zmq_msg_recv over tcp: every one returns ETERM, closes its socket,
 *   and the term finishes. Repeated 20 times. */
#define _DEFAULT_SOURCE
#include "testutil.h"
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#define THREADS 32
#define ROUNDS 100

static void *ctx;

static void *churn(void *arg) {
    long t = (long)arg;
    char ep[64], buf[16];
    for (int r = 0; r < ROUNDS; r++) {
        snprintf(ep, sizeof ep, "inproc://churn-%ld-%d", t, r);
        void *a = zmq_socket(ctx, r % 2 ? ZMQ_PAIR : ZMQ_DEALER);
        void *b = zmq_socket(ctx, r % 2 ? ZMQ_PAIR : ZMQ_DEALER);
        CHECK(a && b);
        CHECK_OK(zmq_bind(a, ep));
        CHECK_OK(zmq_connect(b, ep));
        CHECK(zmq_send(b, "ping", 4, 0) == 4);
        CHECK(zmq_recv(a, buf, sizeof buf, 0) == 4 && memcmp(buf, "ping", 4) == 0);
        CHECK(zmq_send(a, "pong", 4, 0) == 4);
        CHECK(zmq_recv(b, buf, sizeof buf, 0) == 4 && memcmp(buf, "pong", 4) == 0);
        CHECK_OK(zmq_close(b));
        CHECK_OK(zmq_close(a));
    }
    return NULL;
}

static void test_32_threads_create_use_and_close_sockets(void) {
    ctx = zmq_ctx_new();
    /* Closed sockets count until the reaper has finished them, and under this churn it
     * lags (libzmq's does too): room for all of them. */
    CHECK_OK(zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, THREADS * ROUNDS * 2 + 16));
    pthread_t th[THREADS];
    for (long i = 0; i < THREADS; i++)
        CHECK(pthread_create(&th[i], NULL, churn, (void *)i) == 0);
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_join(th[i], NULL) == 0);
    CHECK_OK(zmq_ctx_term(ctx));
}

enum blocking { IN_RECV, IN_SEND, IN_POLL, IN_MSG_RECV, KINDS };

struct blocked {
    void *s;
    enum blocking how;
};

static void *block(void *arg) {
    struct blocked *b = arg;
    char buf[16];
    int rc;
    switch (b->how) {
    case IN_RECV:
        rc = zmq_recv(b->s, buf, sizeof buf, 0);
        break;
    case IN_SEND:
        /* HWM 1 and no peer that reads: the second send blocks. */
        for (rc = 0; rc >= 0;)
            rc = zmq_send(b->s, "x", 1, 0);
        break;
    case IN_POLL: {
        zmq_pollitem_t it = {b->s, 0, ZMQ_POLLIN, 0};
        rc = zmq_poll(&it, 1, -1);
        break;
    }
    default: {
        zmq_msg_t m;
        CHECK_OK(zmq_msg_init(&m));
        rc = zmq_msg_recv(&m, b->s, 0);
        zmq_msg_close(&m);
        break;
    }
    }
    CHECK(rc == -1 && zmq_errno() == ETERM);
    CHECK_OK(zmq_close(b->s));
    return NULL;
}

static void test_term_while_threads_block(void) {
    for (int round = 0; round < 20; round++) {
        void *c = zmq_ctx_new();
        void *pull = zmq_socket(c, ZMQ_PULL); /* a tcp peer for the blocked ones */
        CHECK_OK(zmq_bind(pull, "tcp://127.0.0.1:*"));
        char ep[256];
        size_t len = sizeof ep;
        CHECK_OK(zmq_getsockopt(pull, ZMQ_LAST_ENDPOINT, ep, &len));
        struct blocked b[KINDS];
        pthread_t th[KINDS];
        for (int k = 0; k < KINDS; k++) {
            b[k].how = (enum blocking)k;
            b[k].s = zmq_socket(c, k == IN_SEND ? ZMQ_PUSH : ZMQ_PULL);
            int one = 1;
            CHECK_OK(zmq_setsockopt(b[k].s, ZMQ_SNDHWM, &one, sizeof one));
            if (k == IN_SEND)
                CHECK_OK(zmq_bind(b[k].s, "tcp://127.0.0.1:*")); /* nobody connects */
            else
                CHECK_OK(zmq_connect(b[k].s, ep));
            CHECK(pthread_create(&th[k], NULL, block, &b[k]) == 0);
        }
        usleep(20000); /* they are blocked now (or about to be: either way, ETERM) */
        CHECK_OK(zmq_close(pull));
        CHECK_OK(zmq_ctx_term(c)); /* returns once each thread closed its socket */
        for (int k = 0; k < KINDS; k++)
            CHECK(pthread_join(th[k], NULL) == 0);
    }
}

int main(void) {
    alarm(60);
    RUN(test_32_threads_create_use_and_close_sockets);
    RUN(test_term_while_threads_block);
    return 0;
}
