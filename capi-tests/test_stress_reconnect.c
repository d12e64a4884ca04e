/* A reconnect storm, bounded in time (an alarm fails it after 60 s): 50 DEALERs keep
 * connected to one tcp endpoint while the ROUTER behind it goes away and comes back 20 times
 * (a new context each time, the same port). After every restart all 50 reconnect by
 * themselves (the server sees 50 handshakes), and then a request from each gets its answer.
 * (A request sent before a client has noticed that its server went away can go down the dead
 * connection and be lost, in libzmq as here: the test waits for the reconnections.) */
#define _DEFAULT_SOURCE
#include "testutil.h"
#include <unistd.h>

#define CLIENTS 50
#define RESTARTS 20

int main(void) {
    alarm(60);
    char ep[256];
    void *sctx = zmq_ctx_new();
    void *router = zmq_socket(sctx, ZMQ_ROUTER);
    bind_wildcard(router, "tcp://127.0.0.1:*", ep, sizeof ep);

    void *ctx = zmq_ctx_new();
    void *dealers[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        dealers[i] = zmq_socket(ctx, ZMQ_DEALER);
        int ivl = 10, timeout = 10000;
        CHECK_OK(zmq_setsockopt(dealers[i], ZMQ_RECONNECT_IVL, &ivl, sizeof ivl));
        CHECK_OK(zmq_setsockopt(dealers[i], ZMQ_RCVTIMEO, &timeout, sizeof timeout));
        CHECK_OK(zmq_connect(dealers[i], ep));
    }
    int timeout = 10000;
    for (int round = 0; round <= RESTARTS; round++) {
        if (round > 0) {
            /* The server goes away (its context ends: the port is free) and comes back. */
            int linger = 0;
            CHECK_OK(zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger));
            CHECK_OK(zmq_close(router));
            CHECK_OK(zmq_ctx_term(sctx));
            sctx = zmq_ctx_new();
            router = zmq_socket(sctx, ZMQ_ROUTER);
            CHECK_OK(zmq_socket_monitor(router, "inproc://storm", ZMQ_EVENT_HANDSHAKE_SUCCEEDED));
            void *mon = zmq_socket(sctx, ZMQ_PAIR);
            CHECK_OK(zmq_connect(mon, "inproc://storm"));
            CHECK_OK(zmq_bind(router, ep));
            /* Every client is back (its old connection is gone once it has a new one): a
             * request sent now cannot go down a connection that is already dead. */
            for (int n = 0; n < CLIENTS; n++)
                CHECK(next_monitor_event(mon, 10000, NULL) == ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
            CHECK_OK(zmq_close(mon));
        }
        CHECK_OK(zmq_setsockopt(router, ZMQ_RCVTIMEO, &timeout, sizeof timeout));
        for (int i = 0; i < CLIENTS; i++) {
            int req = round * CLIENTS + i;
            CHECK(zmq_send(dealers[i], &req, sizeof req, 0) == sizeof req);
        }
        for (int n = 0; n < CLIENTS; n++) {
            unsigned char rid[256];
            int rid_len = zmq_recv(router, rid, sizeof rid, 0);
            CHECK(rid_len > 0);
            int req;
            CHECK(zmq_recv(router, &req, sizeof req, 0) == sizeof req);
            CHECK(req / CLIENTS == round); /* nothing stale from an earlier round */
            CHECK(zmq_send(router, rid, (size_t)rid_len, ZMQ_SNDMORE) == rid_len);
            CHECK(zmq_send(router, &req, sizeof req, 0) == sizeof req);
        }
        for (int i = 0; i < CLIENTS; i++) {
            int rep;
            CHECK(zmq_recv(dealers[i], &rep, sizeof rep, 0) == sizeof rep);
            CHECK(rep == round * CLIENTS + i);
        }
    }
    printf("  ok %d clients through %d restarts of their server\n", CLIENTS, RESTARTS);
    for (int i = 0; i < CLIENTS; i++) {
        int linger = 0;
        CHECK_OK(zmq_setsockopt(dealers[i], ZMQ_LINGER, &linger, sizeof linger));
        CHECK_OK(zmq_close(dealers[i]));
    }
    CHECK_OK(zmq_ctx_term(ctx));
    CHECK_OK(zmq_close(router));
    CHECK_OK(zmq_ctx_term(sctx));
    return 0;
}
