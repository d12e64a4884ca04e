/* REQ, REP, DEALER, ROUTER and STREAM over inproc: envelopes, state machines, routing ids.
 * (ZMQ_CONNECT_ROUTING_ID with ZMQ_IMMEDIATE, which inproc ignores, over tcp.) */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <time.h>

static void *ctx;

static void send_str(void *s, const char *str, int flags)
{
    CHECK((int)zmq_send(s, str, strlen(str), flags) == (int)strlen(str));
}

/* Receives one part and checks its content and whether more parts follow. */
static void recv_str(void *s, const char *want, int more)
{
    char buf[256];
    int n = zmq_recv(s, buf, sizeof buf, 0);
    CHECK(n >= 0);
    CHECK(n == (int)strlen(want));
    CHECK(memcmp(buf, want, (size_t)n) == 0);
    int m = 0;
    size_t len = sizeof m;
    CHECK_OK(zmq_getsockopt(s, ZMQ_RCVMORE, &m, &len));
    CHECK(m == more);
}

/* Receives one part into buf, returns its size. */
static int recv_raw(void *s, char *buf, size_t cap, int want_more)
{
    int n = zmq_recv(s, buf, cap, 0);
    CHECK(n >= 0);
    int m = 0;
    size_t len = sizeof m;
    CHECK_OK(zmq_getsockopt(s, ZMQ_RCVMORE, &m, &len));
    CHECK(m == want_more);
    return n;
}

static void *sock(int type)
{
    void *s = zmq_socket(ctx, type);
    CHECK_PTR(s);
    int t = 2000;
    CHECK_OK(zmq_setsockopt(s, ZMQ_RCVTIMEO, &t, sizeof t));
    CHECK_OK(zmq_setsockopt(s, ZMQ_SNDTIMEO, &t, sizeof t));
    int zero = 0;
    CHECK_OK(zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero));
    return s;
}

static void set_int(void *s, int opt, int v)
{
    CHECK_OK(zmq_setsockopt(s, opt, &v, sizeof v));
}

static void nothing_to_recv(void *s)
{
    char buf[16];
    CHECK_ERRNO(zmq_recv(s, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
}

static void test_req_rep_round_trip(void)
{
    void *rep = sock(ZMQ_REP), *req = sock(ZMQ_REQ);
    CHECK_OK(zmq_bind(rep, "inproc://rr"));
    CHECK_OK(zmq_connect(req, "inproc://rr"));
    for (int i = 0; i < 3; i++) {
        send_str(req, "ab", ZMQ_SNDMORE);
        send_str(req, "cd", 0);
        recv_str(rep, "ab", 1);
        recv_str(rep, "cd", 0);
        send_str(rep, "ef", ZMQ_SNDMORE);
        send_str(rep, "gh", 0);
        recv_str(req, "ef", 1);
        recv_str(req, "gh", 0);
    }
    int type = 0;
    size_t len = sizeof type;
    CHECK_OK(zmq_getsockopt(rep, ZMQ_TYPE, &type, &len));
    CHECK(type == ZMQ_REP);
    zmq_close(req);
    zmq_close(rep);
}

static void test_efsm(void)
{
    void *rep = sock(ZMQ_REP), *req = sock(ZMQ_REQ);
    char buf[8];
    CHECK_ERRNO(zmq_recv(req, buf, sizeof buf, 0), EFSM);
    CHECK_ERRNO(zmq_send(rep, "x", 1, 0), EFSM);
    CHECK_OK(zmq_bind(rep, "inproc://efsm"));
    CHECK_OK(zmq_connect(req, "inproc://efsm"));
    send_str(req, "q", 0);
    CHECK_ERRNO(zmq_send(req, "q", 1, 0), EFSM);
    recv_str(rep, "q", 0);
    CHECK_ERRNO(zmq_recv(rep, buf, sizeof buf, 0), EFSM);
    /* POLLOUT / POLLIN follow the state machine. */
    int ev = 0;
    size_t len = sizeof ev;
    CHECK_OK(zmq_getsockopt(req, ZMQ_EVENTS, &ev, &len));
    CHECK(!(ev & ZMQ_POLLOUT));
    send_str(rep, "a", 0);
    recv_str(req, "a", 0);
    CHECK_ERRNO(zmq_recv(req, buf, sizeof buf, 0), EFSM);
    zmq_close(req);
    zmq_close(rep);
}

static void test_req_round_robin(void)
{
    void *req = sock(ZMQ_REQ);
    void *reps[3];
    char ep[32];
    for (int i = 0; i < 3; i++) {
        reps[i] = sock(ZMQ_REP);
        snprintf(ep, sizeof ep, "inproc://rrr%d", i);
        CHECK_OK(zmq_bind(reps[i], ep));
        CHECK_OK(zmq_connect(req, ep));
    }
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 3; i++) {
            send_str(req, "ping", 0);
            recv_str(reps[i], "ping", 0);
            for (int j = 0; j < 3; j++)
                if (j != i) nothing_to_recv(reps[j]);
            send_str(reps[i], "pong", 0);
            recv_str(req, "pong", 0);
        }
    }
    for (int i = 0; i < 3; i++) zmq_close(reps[i]);
    zmq_close(req);
}

static void test_reply_from_other_peer_dropped(void)
{
    /* A DEALER posing as a second server: its unsolicited reply is dropped. */
    void *req = sock(ZMQ_REQ), *rep = sock(ZMQ_REP), *fake = sock(ZMQ_ROUTER);
    CHECK_OK(zmq_bind(rep, "inproc://other-a"));
    CHECK_OK(zmq_bind(fake, "inproc://other-b"));
    CHECK_OK(zmq_setsockopt(req, ZMQ_ROUTING_ID, "R", 1));
    CHECK_OK(zmq_connect(req, "inproc://other-a"));
    CHECK_OK(zmq_connect(req, "inproc://other-b"));
    send_str(req, "one", 0); /* goes to rep */
    recv_str(rep, "one", 0);
    send_str(fake, "R", ZMQ_SNDMORE);
    send_str(fake, "", ZMQ_SNDMORE);
    send_str(fake, "bogus", 0);
    send_str(rep, "real", 0);
    recv_str(req, "real", 0);
    zmq_close(req);
    zmq_close(rep);
    zmq_close(fake);
}

static void test_dealer_router_ids(void)
{
    void *router = sock(ZMQ_ROUTER), *d1 = sock(ZMQ_DEALER), *d2 = sock(ZMQ_DEALER);
    CHECK_OK(zmq_bind(router, "inproc://dr"));
    CHECK_OK(zmq_setsockopt(d1, ZMQ_ROUTING_ID, "alpha", 5));
    CHECK_OK(zmq_setsockopt(d2, ZMQ_ROUTING_ID, "beta", 4));
    CHECK_OK(zmq_connect(d1, "inproc://dr"));
    CHECK_OK(zmq_connect(d2, "inproc://dr"));
    send_str(d1, "from-a", 0);
    /* ZMQ_EVENTS reads ahead; the routing id still comes first. */
    int ev = 0;
    size_t len = sizeof ev;
    CHECK_OK(zmq_getsockopt(router, ZMQ_EVENTS, &ev, &len));
    CHECK(ev & ZMQ_POLLIN);
    recv_str(router, "alpha", 1);
    recv_str(router, "from-a", 0);
    send_str(d2, "x", ZMQ_SNDMORE);
    send_str(d2, "y", 0);
    recv_str(router, "beta", 1);
    recv_str(router, "x", 1);
    recv_str(router, "y", 0);
    send_str(router, "beta", ZMQ_SNDMORE);
    send_str(router, "to-b", 0);
    send_str(router, "alpha", ZMQ_SNDMORE);
    send_str(router, "to-a", ZMQ_SNDMORE);
    send_str(router, "more", 0);
    recv_str(d2, "to-b", 0);
    recv_str(d1, "to-a", 1);
    recv_str(d1, "more", 0);
    /* Unknown id: silently dropped. */
    send_str(router, "nobody", ZMQ_SNDMORE);
    send_str(router, "lost", 0);
    nothing_to_recv(d1);
    nothing_to_recv(d2);
    CHECK_OK(zmq_getsockopt(router, ZMQ_EVENTS, &ev, &len));
    CHECK(ev & ZMQ_POLLOUT);
    zmq_close(d1);
    zmq_close(d2);
    zmq_close(router);
}

static void test_router_mandatory(void)
{
    void *router = sock(ZMQ_ROUTER), *d = sock(ZMQ_DEALER);
    set_int(router, ZMQ_ROUTER_MANDATORY, 1);
    CHECK_ERRNO(zmq_setsockopt(router, ZMQ_ROUTER_MANDATORY, "x", 1), EINVAL);
    CHECK_OK(zmq_bind(router, "inproc://mand"));
    CHECK_ERRNO(zmq_send(router, "nobody", 6, ZMQ_SNDMORE), EHOSTUNREACH);
    CHECK_OK(zmq_setsockopt(d, ZMQ_ROUTING_ID, "D", 1));
    CHECK_OK(zmq_connect(d, "inproc://mand"));
    send_str(d, "hello", 0);
    recv_str(router, "D", 1);
    recv_str(router, "hello", 0);
    send_str(router, "D", ZMQ_SNDMORE);
    send_str(router, "back", 0);
    recv_str(d, "back", 0);
    /* Full pipe: EAGAIN with DONTWAIT. */
    set_int(router, ZMQ_SNDTIMEO, 0);
    int sent = 0, rc;
    for (;;) {
        rc = zmq_send(router, "D", 1, ZMQ_SNDMORE | ZMQ_DONTWAIT);
        if (rc < 0) break;
        send_str(router, "fill", 0);
        sent++;
        CHECK(sent < 100000);
    }
    CHECK(zmq_errno() == EAGAIN);
    CHECK(sent > 0);
    zmq_close(d);
    zmq_close(router);
}

static void test_router_generated_ids(void)
{
    void *router = sock(ZMQ_ROUTER), *d1 = sock(ZMQ_DEALER), *d2 = sock(ZMQ_DEALER);
    CHECK_OK(zmq_bind(router, "inproc://gen"));
    CHECK_OK(zmq_connect(d1, "inproc://gen"));
    CHECK_OK(zmq_connect(d2, "inproc://gen"));
    char id1[256], id2[256];
    send_str(d1, "1", 0);
    int n1 = recv_raw(router, id1, sizeof id1, 1);
    recv_str(router, "1", 0);
    send_str(d2, "2", 0);
    int n2 = recv_raw(router, id2, sizeof id2, 1);
    recv_str(router, "2", 0);
    CHECK(n1 == 5 && n2 == 5);
    CHECK(id1[0] == 0 && id2[0] == 0);
    CHECK(memcmp(id1, id2, 5) != 0);
    CHECK((int)zmq_send(router, id2, 5, ZMQ_SNDMORE) == 5);
    send_str(router, "for-2", 0);
    recv_str(d2, "for-2", 0);
    nothing_to_recv(d1);
    zmq_close(d1);
    zmq_close(d2);
    zmq_close(router);
}

static void test_req_correlate_relaxed(void)
{
    void *req = sock(ZMQ_REQ), *router = sock(ZMQ_ROUTER);
    set_int(req, ZMQ_REQ_CORRELATE, 1);
    set_int(req, ZMQ_REQ_RELAXED, 1);
    CHECK_ERRNO(zmq_setsockopt(req, ZMQ_REQ_RELAXED, "x", 1), EINVAL);
    CHECK_OK(zmq_setsockopt(req, ZMQ_ROUTING_ID, "Q", 1));
    CHECK_OK(zmq_bind(router, "inproc://corr"));
    CHECK_OK(zmq_connect(req, "inproc://corr"));

    send_str(req, "first", 0);
    char id1[8];
    recv_str(router, "Q", 1);
    CHECK(recv_raw(router, id1, sizeof id1, 1) == 4);
    recv_str(router, "", 1);
    recv_str(router, "first", 0);

    /* Relaxed: a second request without waiting for the first reply. */
    send_str(req, "second", 0);
    char id2[8];
    recv_str(router, "Q", 1);
    CHECK(recv_raw(router, id2, sizeof id2, 1) == 4);
    recv_str(router, "", 1);
    recv_str(router, "second", 0);
    CHECK(memcmp(id1, id2, 4) != 0);

    /* The reply to the first request is discarded; the one to the second is delivered. */
    send_str(router, "Q", ZMQ_SNDMORE);
    CHECK(zmq_send(router, id1, 4, ZMQ_SNDMORE) == 4);
    send_str(router, "", ZMQ_SNDMORE);
    send_str(router, "old", 0);
    send_str(router, "Q", ZMQ_SNDMORE);
    CHECK(zmq_send(router, id2, 4, ZMQ_SNDMORE) == 4);
    send_str(router, "", ZMQ_SNDMORE);
    send_str(router, "new", 0);
    recv_str(req, "new", 0);
    zmq_close(req);
    zmq_close(router);
}

static void test_router_to_router(void)
{
    void *a = sock(ZMQ_ROUTER), *b = sock(ZMQ_ROUTER);
    CHECK_OK(zmq_setsockopt(a, ZMQ_ROUTING_ID, "A", 1));
    CHECK_OK(zmq_bind(a, "inproc://r2r"));
    CHECK_OK(zmq_setsockopt(b, ZMQ_ROUTING_ID, "B", 1));
    CHECK_OK(zmq_setsockopt(b, ZMQ_CONNECT_ROUTING_ID, "peerA", 5));
    CHECK_ERRNO(zmq_setsockopt(b, ZMQ_CONNECT_ROUTING_ID, "", 0), EINVAL);
    CHECK_OK(zmq_connect(b, "inproc://r2r"));
    send_str(b, "peerA", ZMQ_SNDMORE);
    send_str(b, "hi", 0);
    recv_str(a, "B", 1);
    recv_str(a, "hi", 0);
    send_str(a, "B", ZMQ_SNDMORE);
    send_str(a, "yo", 0);
    recv_str(b, "peerA", 1);
    recv_str(b, "yo", 0);
    zmq_close(a);
    zmq_close(b);
}

/* With ZMQ_IMMEDIATE the pipe is made when the connection is up, after zmq_connect
 * returned: it still gets the id set for that connect (and the peer's own id, "A", which
 * arrives as its announcement, is not delivered). */
static void test_router_connect_routing_id_immediate(void)
{
    void *a = sock(ZMQ_ROUTER), *b = sock(ZMQ_ROUTER);
    CHECK_OK(zmq_setsockopt(a, ZMQ_ROUTING_ID, "A", 1));
    CHECK_OK(zmq_bind(a, "tcp://127.0.0.1:*"));
    char ep[256];
    size_t len = sizeof ep;
    CHECK_OK(zmq_getsockopt(a, ZMQ_LAST_ENDPOINT, ep, &len));
    CHECK_OK(zmq_setsockopt(b, ZMQ_ROUTING_ID, "B", 1));
    set_int(b, ZMQ_IMMEDIATE, 1);
    set_int(b, ZMQ_ROUTER_MANDATORY, 1);
    CHECK_OK(zmq_setsockopt(b, ZMQ_CONNECT_ROUTING_ID, "peerA", 5));
    CHECK_OK(zmq_connect(b, ep));
    /* Unroutable until the connection is up (mandatory: EHOSTUNREACH, nothing sent). */
    int tries = 0;
    while (zmq_send(b, "peerA", 5, ZMQ_SNDMORE) == -1) {
        CHECK(zmq_errno() == EHOSTUNREACH);
        CHECK(++tries < 500);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    send_str(b, "hi", 0);
    recv_str(a, "B", 1);
    recv_str(a, "hi", 0);
    send_str(a, "B", ZMQ_SNDMORE);
    send_str(a, "yo", 0);
    recv_str(b, "peerA", 1);
    recv_str(b, "yo", 0);
    zmq_close(a);
    zmq_close(b);
}

static void test_probe_router(void)
{
    void *router = sock(ZMQ_ROUTER), *d = sock(ZMQ_DEALER);
    CHECK_OK(zmq_bind(router, "inproc://probe"));
    set_int(d, ZMQ_PROBE_ROUTER, 1);
    CHECK_OK(zmq_setsockopt(d, ZMQ_ROUTING_ID, "P", 1));
    CHECK_OK(zmq_connect(d, "inproc://probe"));
    recv_str(router, "P", 1);
    recv_str(router, "", 0);
    send_str(router, "P", ZMQ_SNDMORE);
    send_str(router, "seen", 0);
    recv_str(d, "seen", 0);

    /* A probing ROUTER connecting to a ROUTER: the binder learns its id. */
    void *r2 = sock(ZMQ_ROUTER);
    set_int(r2, ZMQ_PROBE_ROUTER, 1);
    CHECK_OK(zmq_setsockopt(r2, ZMQ_ROUTING_ID, "R2", 2));
    CHECK_OK(zmq_connect(r2, "inproc://probe"));
    recv_str(router, "R2", 1);
    recv_str(router, "", 0);
    zmq_close(r2);
    zmq_close(d);
    zmq_close(router);
}

static void test_connect_before_bind(void)
{
    void *d = sock(ZMQ_DEALER), *router = sock(ZMQ_ROUTER);
    CHECK_OK(zmq_setsockopt(d, ZMQ_ROUTING_ID, "early", 5));
    CHECK_OK(zmq_connect(d, "inproc://cbb"));
    send_str(d, "queued", 0);
    CHECK_OK(zmq_bind(router, "inproc://cbb"));
    recv_str(router, "early", 1);
    recv_str(router, "queued", 0);
    send_str(router, "early", ZMQ_SNDMORE);
    send_str(router, "answer", 0);
    recv_str(d, "answer", 0);

    /* A ROUTER connecting before its ROUTER peer binds: named once the bind happens. */
    void *a = sock(ZMQ_ROUTER), *b = sock(ZMQ_ROUTER);
    CHECK_OK(zmq_setsockopt(a, ZMQ_ROUTING_ID, "A", 1));
    CHECK_OK(zmq_setsockopt(b, ZMQ_ROUTING_ID, "B", 1));
    CHECK_OK(zmq_connect(b, "inproc://cbb2"));
    CHECK_OK(zmq_bind(a, "inproc://cbb2"));
    send_str(a, "B", ZMQ_SNDMORE);
    send_str(a, "to-b", 0);
    recv_str(b, "A", 1);
    recv_str(b, "to-b", 0);
    send_str(b, "A", ZMQ_SNDMORE);
    send_str(b, "to-a", 0);
    recv_str(a, "B", 1);
    recv_str(a, "to-a", 0);
    zmq_close(a);
    zmq_close(b);
    zmq_close(d);
    zmq_close(router);
}

static void test_router_handover(void)
{
    void *router = sock(ZMQ_ROUTER), *d1 = sock(ZMQ_DEALER), *d2 = sock(ZMQ_DEALER);
    CHECK_OK(zmq_bind(router, "inproc://ho"));
    CHECK_OK(zmq_setsockopt(d1, ZMQ_ROUTING_ID, "X", 1));
    CHECK_OK(zmq_setsockopt(d2, ZMQ_ROUTING_ID, "X", 1));
    CHECK_OK(zmq_connect(d1, "inproc://ho"));
    /* Without handover the second X is ignored. */
    CHECK_OK(zmq_connect(d2, "inproc://ho"));
    send_str(router, "X", ZMQ_SNDMORE);
    send_str(router, "1", 0);
    recv_str(d1, "1", 0);
    nothing_to_recv(d2);
    send_str(d2, "ignored", 0);
    nothing_to_recv(router);

    void *d3 = sock(ZMQ_DEALER);
    set_int(router, ZMQ_ROUTER_HANDOVER, 1);
    CHECK_OK(zmq_setsockopt(d3, ZMQ_ROUTING_ID, "X", 1));
    CHECK_OK(zmq_connect(d3, "inproc://ho"));
    send_str(router, "X", ZMQ_SNDMORE);
    send_str(router, "2", 0);
    recv_str(d3, "2", 0);
    nothing_to_recv(d1);
    zmq_close(d1);
    zmq_close(d2);
    zmq_close(d3);
    zmq_close(router);
}

static void test_rep_with_dealer_envelope(void)
{
    /* DEALER -> REP: the dealer supplies the envelope; messages without one are dropped. */
    void *rep = sock(ZMQ_REP), *d = sock(ZMQ_DEALER);
    CHECK_OK(zmq_bind(rep, "inproc://env"));
    CHECK_OK(zmq_connect(d, "inproc://env"));
    send_str(d, "no-delimiter", 0);
    send_str(d, "hop", ZMQ_SNDMORE);
    send_str(d, "", ZMQ_SNDMORE);
    send_str(d, "body", 0);
    recv_str(rep, "body", 0);
    send_str(rep, "reply", 0);
    recv_str(d, "hop", 1);
    recv_str(d, "", 1);
    recv_str(d, "reply", 0);
    zmq_close(d);
    zmq_close(rep);
}

static void test_rep_mandatory_requester_gone(void)
{
    void *rep = sock(ZMQ_REP), *req = sock(ZMQ_REQ);
    set_int(rep, ZMQ_ROUTER_MANDATORY, 1);
    CHECK_OK(zmq_bind(rep, "inproc://gone"));
    CHECK_OK(zmq_connect(req, "inproc://gone"));
    send_str(req, "q", 0);
    recv_str(rep, "q", 0);
    zmq_close(req);
    /* Wait until the REP sees the pipe closing (ZMQ_EVENTS processes commands). */
    int ev = ZMQ_POLLOUT;
    size_t len = sizeof ev;
    for (long i = 0; i < 100000000L && (ev & ZMQ_POLLOUT); i++)
        CHECK_OK(zmq_getsockopt(rep, ZMQ_EVENTS, &ev, &len));
    CHECK(!(ev & ZMQ_POLLOUT));
    CHECK_ERRNO(zmq_send(rep, "a", 1, 0), EHOSTUNREACH);
    /* The exchange is over: the REP may receive again. */
    nothing_to_recv(rep);
    zmq_close(rep);
}

static void test_stream(void)
{
    void *s = sock(ZMQ_STREAM);
    int type = 0;
    size_t len = sizeof type;
    CHECK_OK(zmq_getsockopt(s, ZMQ_TYPE, &type, &len));
    CHECK(type == ZMQ_STREAM);
    CHECK_ERRNO(zmq_bind(s, "inproc://stream"), ENOCOMPATPROTO);
    CHECK_ERRNO(zmq_connect(s, "inproc://stream"), ENOCOMPATPROTO);
    nothing_to_recv(s);
    CHECK_ERRNO(zmq_send(s, "id", 2, ZMQ_SNDMORE), EHOSTUNREACH);
    zmq_close(s);
}

#define ROUND_TRIPS 20000

static void echo_server(void *rep)
{
    char buf[64];
    for (int i = 0; i < ROUND_TRIPS; i++) {
        int n = zmq_recv(rep, buf, sizeof buf, 0);
        CHECK(n >= 0);
        CHECK((int)zmq_send(rep, buf, (size_t)n, 0) == n);
    }
}

static void test_threaded_round_trips(void)
{
    /* Client and server on different threads: every wake-up must arrive. */
    void *rep = sock(ZMQ_REP), *req = sock(ZMQ_REQ);
    CHECK_OK(zmq_bind(rep, "inproc://threaded"));
    CHECK_OK(zmq_connect(req, "inproc://threaded"));
    void *t = zmq_threadstart(echo_server, rep);
    CHECK_PTR(t);
    char buf[64];
    for (int i = 0; i < ROUND_TRIPS; i++) {
        int len = snprintf(buf, sizeof buf, "msg %d", i);
        CHECK((int)zmq_send(req, buf, (size_t)len, 0) == len);
        char got[64];
        CHECK(zmq_recv(req, got, sizeof got, 0) == len);
        CHECK(memcmp(buf, got, (size_t)len) == 0);
    }
    zmq_threadclose(t);
    zmq_close(req);
    zmq_close(rep);
}

static void test_req_send_waits_for_peer(void)
{
    /* With no peer, a REQ send blocks until the timeout... */
    void *req = sock(ZMQ_REQ);
    set_int(req, ZMQ_SNDTIMEO, 50);
    CHECK_ERRNO(zmq_send(req, "x", 1, 0), EAGAIN);
    CHECK_ERRNO(zmq_send(req, "x", 1, ZMQ_DONTWAIT), EAGAIN);
    /* ...and still works after the failed attempts once a peer is there. */
    void *rep = sock(ZMQ_REP);
    CHECK_OK(zmq_bind(rep, "inproc://late"));
    CHECK_OK(zmq_connect(req, "inproc://late"));
    send_str(req, "now", 0);
    recv_str(rep, "now", 0);
    send_str(rep, "ok", 0);
    recv_str(req, "ok", 0);
    zmq_close(req);
    zmq_close(rep);
}

int main(void)
{
    ctx = zmq_ctx_new();
    CHECK_PTR(ctx);
    RUN(test_req_rep_round_trip);
    RUN(test_efsm);
    RUN(test_req_round_robin);
    RUN(test_reply_from_other_peer_dropped);
    RUN(test_dealer_router_ids);
    RUN(test_router_mandatory);
    RUN(test_router_generated_ids);
    RUN(test_req_correlate_relaxed);
    RUN(test_router_to_router);
    RUN(test_router_connect_routing_id_immediate);
    RUN(test_probe_router);
    RUN(test_connect_before_bind);
    RUN(test_router_handover);
    RUN(test_rep_with_dealer_envelope);
    RUN(test_rep_mandatory_requester_gone);
    RUN(test_stream);
    RUN(test_threaded_round_trips);
    RUN(test_req_send_waits_for_peer);
    CHECK_OK(zmq_ctx_term(ctx));
    printf("test_reqrep: all passed\n");
    return 0;
}
