/* Reconnection as a monitor sees it, and ZMQ_RECONNECT_STOP (libzmq 4.3.5's draft option, which
 * libzmq takes in every build):
 * - a failed attempt closes its descriptor (ZMQ_EVENT_CLOSED) before the retry is scheduled,
 *   whether it failed later (tcp: refused) or at once (ipc: a stale socket file);
 * - CONN_REFUSED: a tcp peer that refuses ends the endpoint, no retry;
 * - HANDSHAKE_FAILED: a peer that hangs up during the handshake is not tried again;
 * - AFTER_DISCONNECT: once the socket disconnected an endpoint, a refused ipc attempt of
 *   another (a stale socket file) is its last;
 * - an ipc listener that never accepts (its backlog full) does not stall the I/O thread that
 *   connects to it: that thread's other connections go on, and the context terminates;
 * - ZMQ_CONNECT_TIMEOUT: a tcp connect that gets no answer (the listener's accept queue is
 *   full, so the kernel drops the SYNs) is given up after that time, closed and retried. */
#define _DEFAULT_SOURCE
#include "testutil.h"
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef ZMQ_BUILD_DRAFT_API
#define ZMQ_RECONNECT_STOP 109
#endif
/* The bits as libzmq 4.3.5 defines them. */
#define STOP_CONN_REFUSED 1
#define STOP_HANDSHAKE_FAILED 2
#define STOP_AFTER_DISCONNECT 4

static void set_int(void *s, int option, int value) {
    CHECK_OK(zmq_setsockopt(s, option, &value, sizeof value));
}

/* A socket of `type` monitored (all events) through the returned PAIR. */
static void *monitored(void *ctx, int type, void **mon) {
    static int n;
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://reconnect-monitor-%d", n++);
    void *s = zmq_socket(ctx, type);
    CHECK_OK(zmq_socket_monitor(s, ep, ZMQ_EVENT_ALL));
    *mon = zmq_socket(ctx, ZMQ_PAIR);
    CHECK_OK(zmq_connect(*mon, ep));
    return s;
}

/* A tcp endpoint nothing listens on: a port bound by a plain socket, closed at once (a
 * zmq_close would release it only later, on the I/O thread). */
static void free_tcp_endpoint(void *ctx, char *ep, size_t len) {
    (void)ctx;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    CHECK(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
    close(fd);
    snprintf(ep, len, "tcp://127.0.0.1:%d", ntohs(sa.sin_port));
}

static void close_all(void *ctx, void *a, void *b) {
    set_int(a, ZMQ_LINGER, 0);
    set_int(b, ZMQ_LINGER, 0);
    CHECK_OK(zmq_close(a));
    CHECK_OK(zmq_close(b));
    CHECK_OK(zmq_ctx_term(ctx));
}

static void test_a_failed_attempt_is_closed_then_retried(void) {
    void *ctx = zmq_ctx_new(), *mon;
    char ep[256];
    free_tcp_endpoint(ctx, ep, sizeof ep);
    void *sub = monitored(ctx, ZMQ_SUB, &mon);
    CHECK_OK(zmq_connect(sub, ep));
    for (int i = 0; i < 3; i++) {
        CHECK(next_monitor_event(mon, 2000, NULL) == ZMQ_EVENT_CONNECT_DELAYED);
        CHECK(next_monitor_event(mon, 2000, NULL) == ZMQ_EVENT_CLOSED);
        CHECK(next_monitor_event(mon, 2000, NULL) == ZMQ_EVENT_CONNECT_RETRIED);
    }
    close_all(ctx, sub, mon);
}

static void test_conn_refused_ends_the_endpoint(void) {
    void *ctx = zmq_ctx_new(), *mon;
    char ep[256];
    free_tcp_endpoint(ctx, ep, sizeof ep);
    void *sub = monitored(ctx, ZMQ_SUB, &mon);
    set_int(sub, ZMQ_RECONNECT_STOP, STOP_CONN_REFUSED);
    int value = 0;
    size_t size = sizeof value;
    CHECK_OK(zmq_getsockopt(sub, ZMQ_RECONNECT_STOP, &value, &size));
    CHECK(value == STOP_CONN_REFUSED);
    CHECK_OK(zmq_connect(sub, ep));
    CHECK(next_monitor_event(mon, 2000, NULL) == ZMQ_EVENT_CONNECT_DELAYED);
    CHECK(next_monitor_event(mon, 2000, NULL) == ZMQ_EVENT_CLOSED);
    CHECK(next_monitor_event(mon, 500, NULL) == -1); /* no retry */
    CHECK_ERRNO(zmq_disconnect(sub, ep), ENOENT);
    close_all(ctx, sub, mon);
}

static void test_handshake_failed_is_not_tried_again(void) {
    void *ctx = zmq_ctx_new(), *mon;
    /* A STREAM socket accepts and never speaks ZMTP: the handshake times out. */
    void *dummy = zmq_socket(ctx, ZMQ_STREAM);
    CHECK_OK(zmq_bind(dummy, "tcp://127.0.0.1:*"));
    char ep[256];
    size_t len = sizeof ep;
    CHECK_OK(zmq_getsockopt(dummy, ZMQ_LAST_ENDPOINT, ep, &len));
    void *sub = monitored(ctx, ZMQ_SUB, &mon);
    set_int(sub, ZMQ_HANDSHAKE_IVL, 300);
    set_int(sub, ZMQ_RECONNECT_IVL, 50);
    set_int(sub, ZMQ_RECONNECT_STOP, STOP_HANDSHAKE_FAILED);
    CHECK_OK(zmq_connect(sub, ep));
    CHECK(next_monitor_event(mon, 2000, NULL) == ZMQ_EVENT_CONNECT_DELAYED);
    CHECK(next_monitor_event(mon, 2000, NULL) == ZMQ_EVENT_CONNECTED);
    CHECK(next_monitor_event(mon, 2000, NULL) == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL);
    CHECK(next_monitor_event(mon, 2000, NULL) == ZMQ_EVENT_DISCONNECTED);
    CHECK(next_monitor_event(mon, 700, NULL) == -1); /* no new attempt */
    set_int(dummy, ZMQ_LINGER, 0);
    CHECK_OK(zmq_close(dummy));
    close_all(ctx, sub, mon);
}

static void test_after_disconnect_a_refused_ipc_attempt_is_the_last(void) {
    void *ctx = zmq_ctx_new(), *mon;
    char path[64], absent[80];
    snprintf(path, sizeof path, "ipc:///tmp/zmqrs-reconnect-%d", (int)getpid());
    snprintf(absent, sizeof absent, "%s-stale", path);
    /* A socket file nobody listens on (a crashed server's): connecting is refused. */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", absent + strlen("ipc://"));
    unlink(sa.sun_path);
    CHECK(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    close(fd);
    void *pub = zmq_socket(ctx, ZMQ_PUB);
    CHECK_OK(zmq_bind(pub, path));
    void *sub = monitored(ctx, ZMQ_SUB, &mon);
    set_int(sub, ZMQ_RECONNECT_IVL, 50);
    set_int(sub, ZMQ_RECONNECT_STOP, STOP_AFTER_DISCONNECT);
    CHECK_OK(zmq_connect(sub, absent)); /* refused, and retried, until... */
    CHECK_OK(zmq_connect(sub, path));
    zmq_sleep(1);
    CHECK_OK(zmq_disconnect(sub, path)); /* ...the socket disconnected something */
    /* Drain: after the disconnect, at most one more attempt at the stale endpoint. */
    int retried = 0, event;
    while ((event = next_monitor_event(mon, 700, NULL)) != -1)
        if (event == ZMQ_EVENT_CONNECT_RETRIED)
            retried++;
    CHECK(retried > 0); /* it was retrying before */
    CHECK(next_monitor_event(mon, 700, NULL) == -1); /* and has stopped */
    set_int(pub, ZMQ_LINGER, 0);
    CHECK_OK(zmq_close(pub));
    close_all(ctx, sub, mon);
    unlink(sa.sun_path);
}

static void test_an_ipc_attempt_refused_at_once_is_closed_then_retried(void) {
    void *ctx = zmq_ctx_new(), *mon;
    char path[80], ep[96];
    snprintf(path, sizeof path, "/tmp/zmqrs-refused-at-once-%d", (int)getpid());
    snprintf(ep, sizeof ep, "ipc://%s", path);
    /* A socket file nobody listens on: the connect fails in the call itself. */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    unlink(path);
    CHECK(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    close(fd);
    void *dealer = monitored(ctx, ZMQ_DEALER, &mon);
    set_int(dealer, ZMQ_RECONNECT_IVL, 100);
    CHECK_OK(zmq_connect(dealer, ep));
    for (int round = 0; round < 2; round++) {
        uint32_t value;
        CHECK(next_monitor_event(mon, 2000, &value) == ZMQ_EVENT_CLOSED);
        CHECK((int)value >= 0); /* the descriptor the attempt had */
        CHECK(next_monitor_event(mon, 2000, &value) == ZMQ_EVENT_CONNECT_RETRIED);
        CHECK(value >= 100 && value < 200);
    }
    close_all(ctx, dealer, mon);
    unlink(path);
}

static void test_an_ipc_listener_that_never_accepts_stalls_nothing(void) {
    void *ctx = zmq_ctx_new();
    CHECK_OK(zmq_ctx_set(ctx, ZMQ_IO_THREADS, 1));
    char path[80];
    snprintf(path, sizeof path, "/tmp/zmqrs-noaccept-%d", (int)getpid());
    /* Backlog 0: one connection waits to be accepted, the next finds the queue full. */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    unlink(path);
    CHECK(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(listen(fd, 0) == 0);
    char ep[96];
    snprintf(ep, sizeof ep, "ipc://%s", path);
    void *dealers[4];
    for (int i = 0; i < 4; i++) {
        dealers[i] = zmq_socket(ctx, ZMQ_DEALER);
        set_int(dealers[i], ZMQ_RECONNECT_IVL, 20);
        CHECK_OK(zmq_connect(dealers[i], ep));
    }
    /* The one I/O thread still serves a tcp pair, many times over while the dealers retry. */
    void *a = zmq_socket(ctx, ZMQ_PAIR), *b = zmq_socket(ctx, ZMQ_PAIR);
    char tep[64];
    bind_wildcard(a, "tcp://127.0.0.1:*", tep, sizeof tep);
    CHECK_OK(zmq_connect(b, tep));
    set_int(b, ZMQ_RCVTIMEO, 2000);
    for (int i = 0; i < 20; i++) {
        char buf[8];
        CHECK(zmq_send(a, "ping", 4, 0) == 4);
        CHECK(zmq_recv(b, buf, sizeof buf, 0) == 4);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < 4; i++) {
        set_int(dealers[i], ZMQ_LINGER, 0);
        CHECK_OK(zmq_close(dealers[i]));
    }
    close_all(ctx, a, b);
    close(fd);
    unlink(path);
}

static void test_connect_timeout_gives_up_an_unanswered_tcp_connect(void) {
    /* A listener with a full accept queue: backlog 0 holds one connection, which we make. */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    CHECK(bind(lfd, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(listen(lfd, 0) == 0);
    CHECK(getsockname(lfd, (struct sockaddr *)&sa, &sl) == 0);
    int filler = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(connect(filler, (struct sockaddr *)&sa, sizeof sa) == 0);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", ntohs(sa.sin_port));

    void *ctx = zmq_ctx_new(), *mon;
    void *dealer = monitored(ctx, ZMQ_DEALER, &mon);
    set_int(dealer, ZMQ_CONNECT_TIMEOUT, 100);
    set_int(dealer, ZMQ_RECONNECT_IVL, 100);
    CHECK_OK(zmq_connect(dealer, ep));
    /* Twice: under way, given up after 100 ms (the SYN is retried by the kernel only after a
     * second), closed, and tried again. */
    for (int round = 0; round < 2; round++) {
        uint32_t value;
        CHECK(next_monitor_event(mon, 2000, NULL) == ZMQ_EVENT_CONNECT_DELAYED);
        CHECK(next_monitor_event(mon, 700, NULL) == ZMQ_EVENT_CLOSED);
        CHECK(next_monitor_event(mon, 200, &value) == ZMQ_EVENT_CONNECT_RETRIED);
        CHECK(value >= 100 && value < 200); /* the interval (libzmq adds a random part) */
    }
    close_all(ctx, dealer, mon);
    close(filler);
    close(lfd);
}

int main(void) {
    RUN(test_a_failed_attempt_is_closed_then_retried);
    RUN(test_conn_refused_ends_the_endpoint);
    RUN(test_handshake_failed_is_not_tried_again);
    RUN(test_after_disconnect_a_refused_ipc_attempt_is_the_last);
    RUN(test_an_ipc_attempt_refused_at_once_is_closed_then_retried);
    RUN(test_an_ipc_listener_that_never_accepts_stalls_nothing);
    RUN(test_connect_timeout_gives_up_an_unanswered_tcp_connect);
    return 0;
}
