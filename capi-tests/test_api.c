/* The C API around sockets: messages, contexts, bad handles and arguments, errno values,
 * zmq_send_const, zmq_sendiov/zmq_recviov, the monitor and the steerable proxy (inproc, and tcp with a peerless backend). */
#define _DEFAULT_SOURCE
#include "testutil.h"
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/uio.h>
#include <time.h>

/* Options of the draft section of zmq.h that libzmq takes in every build. */
#ifndef ZMQ_BUILD_DRAFT_API
#define ZMQ_LOOPBACK_FASTPATH 94
#define ZMQ_MULTICAST_LOOP 96
#endif

/* Sends SIGUSR1 to a thread after 50 ms. */
static void *interrupt_later(void *thread) {
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    pthread_kill(*(pthread_t *)thread, SIGUSR1);
    return NULL;
}

static void on_usr1(int sig) {
    (void)sig;
}

/* A blocking receive without a timeout that a signal handler interrupts returns EINTR, as
 * libzmq's (its wait is a poll, which the kernel never restarts), whether or not the handler
 * was installed with SA_RESTART (as glibc's signal() installs it), and whether or not the
 * socket's ZMQ_FD was asked for. */
static void test_a_blocking_recv_returns_eintr_after_a_signal_handler(void) {
    for (int restart = 0; restart < 2; restart++) {
        for (int with_fd = 0; with_fd < 2; with_fd++) {
            struct sigaction sa, old;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = on_usr1;
            sa.sa_flags = restart ? SA_RESTART : 0;
            sigemptyset(&sa.sa_mask);
            CHECK(sigaction(SIGUSR1, &sa, &old) == 0);
            void *ctx = zmq_ctx_new();
            void *pull = zmq_socket(ctx, ZMQ_PULL);
            CHECK_OK(zmq_bind(pull, "inproc://eintr"));
            if (with_fd) {
                int fd;
                size_t len = sizeof fd;
                CHECK_OK(zmq_getsockopt(pull, ZMQ_FD, &fd, &len));
            }
            pthread_t self = pthread_self(), t;
            CHECK(pthread_create(&t, NULL, interrupt_later, &self) == 0);
            char buf[8];
            CHECK(zmq_recv(pull, buf, sizeof buf, 0) == -1 && zmq_errno() == EINTR);
            pthread_join(t, NULL);
            CHECK_OK(zmq_close(pull));
            CHECK_OK(zmq_ctx_term(ctx));
            CHECK(sigaction(SIGUSR1, &old, NULL) == 0);
        }
    }
}

static int freed;
static void count_free(void *data, void *hint) {
    (void)hint;
    freed++;
    free(data);
}

static void test_messages(void) {
    zmq_msg_t a, b;
    CHECK_OK(zmq_msg_init_size(&a, 1000));
    memset(zmq_msg_data(&a), 'x', 1000);
    CHECK(zmq_msg_size(&a) == 1000);
    CHECK(zmq_msg_get(&a, ZMQ_SHARED) == 0);
    CHECK_OK(zmq_msg_init(&b));
    CHECK_OK(zmq_msg_copy(&b, &a));
    CHECK(zmq_msg_get(&a, ZMQ_SHARED) == 1 && zmq_msg_get(&b, ZMQ_SHARED) == 1);
    CHECK(zmq_msg_data(&a) == zmq_msg_data(&b)); /* copies share the bytes */
    CHECK_OK(zmq_msg_close(&b));
    CHECK_OK(zmq_msg_init(&b));
    CHECK_OK(zmq_msg_move(&b, &a));
    CHECK(zmq_msg_size(&a) == 0 && zmq_msg_size(&b) == 1000);
    CHECK(zmq_msg_more(&b) == 0 && zmq_msg_get(&b, ZMQ_MORE) == 0);
    CHECK(zmq_msg_get(&b, ZMQ_SRCFD) == -1);
    CHECK_ERRNO(zmq_msg_get(&b, 12345), EINVAL);
    CHECK_ERRNO(zmq_msg_set(&b, ZMQ_MORE, 1), EINVAL);
    CHECK(zmq_msg_gets(&b, "Socket-Type") == NULL && zmq_errno() == EINVAL);
    CHECK_OK(zmq_msg_close(&a));
    CHECK_OK(zmq_msg_close(&b));
    CHECK_ERRNO(zmq_msg_close(&b), EFAULT); /* closed twice */

    char *data = malloc(16);
    memcpy(data, "user data 16 by.", 16);
    CHECK_OK(zmq_msg_init_data(&a, data, 16, count_free, NULL));
    CHECK_OK(zmq_msg_init(&b));
    CHECK_OK(zmq_msg_copy(&b, &a));
    CHECK_OK(zmq_msg_close(&a));
    CHECK(freed == 0);
    CHECK(memcmp(zmq_msg_data(&b), "user data", 9) == 0);
    CHECK_OK(zmq_msg_close(&b));
    CHECK(freed == 1); /* exactly once, by the last copy */
}

/* Copies of one message that sockets drop (a PUB with no subscriber, a ROUTER sending to a
 * routing id it does not know) each give back their own reference: the original stays whole
 * and its bytes are freed once, when it is closed. */
static void test_dropped_copies_leave_the_original_whole(void) {
    void *ctx = zmq_ctx_new();
    void *pub = zmq_socket(ctx, ZMQ_PUB);
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    CHECK_OK(zmq_bind(pub, "inproc://dropped-copies-pub"));
    freed = 0;
    char *data = malloc(100);
    memset(data, 'o', 100);
    zmq_msg_t orig, copy;
    CHECK_OK(zmq_msg_init_data(&orig, data, 100, count_free, NULL));
    for (int i = 0; i < 3; i++) {
        CHECK_OK(zmq_msg_init(&copy));
        CHECK_OK(zmq_msg_copy(&copy, &orig));
        CHECK(zmq_msg_send(&copy, pub, 0) == 100);
        CHECK_OK(zmq_msg_init(&copy));
        CHECK_OK(zmq_msg_copy(&copy, &orig));
        CHECK(zmq_send(router, "nobody", 6, ZMQ_SNDMORE) == 6);
        CHECK(zmq_msg_send(&copy, router, 0) == 100);
        /* Fresh messages of the same size must not land on the original's bytes. */
        zmq_msg_t other;
        CHECK_OK(zmq_msg_init_size(&other, 100));
        memset(zmq_msg_data(&other), 'n', 100);
        CHECK_OK(zmq_msg_close(&other));
    }
    CHECK(freed == 0);
    CHECK(zmq_msg_get(&orig, ZMQ_SHARED) == 0);
    CHECK(memchr(zmq_msg_data(&orig), 'n', 100) == NULL);
    CHECK_OK(zmq_msg_close(&orig));
    CHECK(freed == 1);
    CHECK_OK(zmq_close(pub));
    CHECK_OK(zmq_close(router));
    CHECK_OK(zmq_ctx_term(ctx));
}

/* A receive puts the message in place of the old content, which it releases once; one that
 * finds nothing (EAGAIN) leaves an empty message, as libzmq's; one refused before it looks
 * (EFSM) leaves the message as it was. */
static void test_recv_replaces_releases_or_keeps_the_old_content(void) {
    void *ctx = zmq_ctx_new();
    void *push = zmq_socket(ctx, ZMQ_PUSH);
    void *pull = zmq_socket(ctx, ZMQ_PULL);
    void *req = zmq_socket(ctx, ZMQ_REQ);
    CHECK_OK(zmq_bind(pull, "inproc://recv-old-content"));
    CHECK_OK(zmq_connect(push, "inproc://recv-old-content"));
    freed = 0;
    zmq_msg_t m;
    char *data = malloc(100);
    memset(data, 'o', 100);
    CHECK_OK(zmq_msg_init_data(&m, data, 100, count_free, NULL));
    CHECK_ERRNO(zmq_msg_recv(&m, req, 0), EFSM);
    CHECK(freed == 0 && zmq_msg_size(&m) == 100 && zmq_msg_data(&m) == data);
    CHECK(zmq_send(push, "new", 3, 0) == 3);
    CHECK(zmq_msg_recv(&m, pull, 0) == 3);
    CHECK(freed == 1 && memcmp(zmq_msg_data(&m), "new", 3) == 0);
    data = malloc(100);
    CHECK_OK(zmq_msg_close(&m));
    CHECK_OK(zmq_msg_init_data(&m, data, 100, count_free, NULL));
    CHECK_ERRNO(zmq_msg_recv(&m, pull, ZMQ_DONTWAIT), EAGAIN);
    CHECK(freed == 2 && zmq_msg_size(&m) == 0);
    CHECK_OK(zmq_msg_close(&m));
    CHECK(freed == 2);
    /* The same with a small message, whose bytes live inside the zmq_msg_t. */
    CHECK_OK(zmq_msg_init_size(&m, 3));
    memcpy(zmq_msg_data(&m), "old", 3);
    CHECK_ERRNO(zmq_msg_recv(&m, req, 0), EFSM);
    CHECK(zmq_msg_size(&m) == 3 && memcmp(zmq_msg_data(&m), "old", 3) == 0);
    CHECK_ERRNO(zmq_msg_recv(&m, pull, ZMQ_DONTWAIT), EAGAIN);
    CHECK(zmq_msg_size(&m) == 0 && zmq_msg_more(&m) == 0);
    CHECK(zmq_send(push, "ab", 2, 0) == 2);
    CHECK(zmq_msg_recv(&m, pull, 0) == 2 && memcmp(zmq_msg_data(&m), "ab", 2) == 0);
    CHECK_OK(zmq_msg_close(&m));
    CHECK_OK(zmq_close(push));
    CHECK_OK(zmq_close(pull));
    CHECK_OK(zmq_close(req));
    CHECK_OK(zmq_ctx_term(ctx));
}

static void test_bad_handles_and_arguments(void) {
    CHECK_ERRNO(zmq_close(NULL), ENOTSOCK);
    CHECK(zmq_socket(NULL, ZMQ_PAIR) == NULL && zmq_errno() == EFAULT);
    CHECK_ERRNO(zmq_ctx_term(NULL), EFAULT);
    CHECK_ERRNO(zmq_ctx_set(NULL, ZMQ_IO_THREADS, 1), EFAULT);
    CHECK_ERRNO(zmq_send(NULL, "x", 1, 0), ENOTSOCK);
    int bogus[32] = {0};
    CHECK_ERRNO(zmq_bind(bogus, "inproc://x"), ENOTSOCK);

    void *ctx = zmq_ctx_new();
    CHECK(zmq_socket(ctx, 99) == NULL && zmq_errno() == EINVAL);
    void *s = zmq_socket(ctx, ZMQ_PAIR);
    CHECK_ERRNO(zmq_bind(s, "nonsense"), EINVAL);
    CHECK_ERRNO(zmq_bind(s, "carrier-pigeon://x"), EPROTONOSUPPORT);
    CHECK_ERRNO(zmq_connect(s, "inproc://"), EINVAL);
    CHECK_ERRNO(zmq_unbind(s, "inproc://never-bound"), ENOENT);
    CHECK_ERRNO(zmq_disconnect(s, "inproc://never-connected"), ENOENT);
    int v = -5;
    CHECK_ERRNO(zmq_setsockopt(s, ZMQ_SNDHWM, &v, sizeof v), EINVAL);
    CHECK_ERRNO(zmq_setsockopt(s, ZMQ_SNDHWM, &v, 2), EINVAL);
    CHECK_ERRNO(zmq_setsockopt(s, 9999, &v, sizeof v), EINVAL);
    size_t sz = 2;
    CHECK_ERRNO(zmq_getsockopt(s, ZMQ_TYPE, &v, &sz), EINVAL);
    sz = sizeof v;
    CHECK_OK(zmq_getsockopt(s, ZMQ_TYPE, &v, &sz));
    CHECK(v == ZMQ_PAIR && sz == sizeof v);
    char ep[64];
    sz = sizeof ep;
    CHECK_OK(zmq_bind(s, "inproc://last"));
    CHECK_OK(zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &sz));
    CHECK(strcmp(ep, "inproc://last") == 0 && sz == strlen(ep) + 1);
    void *t = zmq_socket(ctx, ZMQ_PAIR);
    CHECK_ERRNO(zmq_bind(t, "inproc://last"), EADDRINUSE);
    CHECK_OK(zmq_close(t));
    CHECK_OK(zmq_close(s));
    CHECK_ERRNO(zmq_close(s), ENOTSOCK);
    CHECK_OK(zmq_ctx_term(ctx));
}

static void test_context_options(void) {
    void *ctx = zmq_ctx_new();
    CHECK(zmq_ctx_get(ctx, ZMQ_IO_THREADS) == 1);
    CHECK(zmq_ctx_get(ctx, ZMQ_MAX_SOCKETS) == 1023);
    CHECK(zmq_ctx_get(ctx, ZMQ_MSG_T_SIZE) == (int)sizeof(zmq_msg_t));
    CHECK_ERRNO(zmq_ctx_set(ctx, ZMQ_IO_THREADS, -1), EINVAL);
    CHECK_ERRNO(zmq_ctx_get(ctx, 12345), EINVAL);
    /* As libzmq: any count the poller holds (epoll has no limit), booleans any int >= 0,
     * any int as a thread name prefix, and the scheduling policy readable (-1 by default). */
    CHECK_OK(zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, 100000));
    CHECK(zmq_ctx_get(ctx, ZMQ_MAX_SOCKETS) == 100000);
    CHECK_OK(zmq_ctx_set(ctx, ZMQ_BLOCKY, 2));
    CHECK(zmq_ctx_get(ctx, ZMQ_BLOCKY) == 1);
    CHECK_ERRNO(zmq_ctx_set(ctx, ZMQ_IPV6, -1), EINVAL);
    CHECK_OK(zmq_ctx_set(ctx, ZMQ_THREAD_NAME_PREFIX, -7));
    CHECK(zmq_ctx_get(ctx, ZMQ_THREAD_NAME_PREFIX) == -7);
    CHECK(zmq_ctx_get(ctx, ZMQ_THREAD_SCHED_POLICY) == -1);
    CHECK_OK(zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, 2));
    void *a = zmq_socket(ctx, ZMQ_PAIR), *b = zmq_socket(ctx, ZMQ_PAIR);
    CHECK(a && b);
    CHECK(zmq_socket(ctx, ZMQ_PAIR) == NULL && zmq_errno() == EMFILE);
    CHECK_OK(zmq_close(a));
    CHECK_OK(zmq_close(b));
    CHECK_OK(zmq_ctx_shutdown(ctx));
    CHECK(zmq_socket(ctx, ZMQ_PAIR) == NULL && zmq_errno() == ETERM);
    CHECK_OK(zmq_ctx_term(ctx));
    int major, minor, patch;
    zmq_version(&major, &minor, &patch);
    CHECK(major == 4 && minor == 3 && patch == 5);
    CHECK(strcmp(zmq_strerror(ETERM), "Context was terminated") == 0);
    CHECK(strcmp(zmq_strerror(EFSM), "Operation cannot be accomplished in current state") == 0);
}

static void test_socket_type_errors(void) {
    void *ctx = zmq_ctx_new();
    void *pub = zmq_socket(ctx, ZMQ_PUB), *req = zmq_socket(ctx, ZMQ_REQ);
    char buf[8];
    CHECK_ERRNO(zmq_recv(pub, buf, sizeof buf, ZMQ_DONTWAIT), ENOTSUP);
    CHECK_ERRNO(zmq_recv(req, buf, sizeof buf, ZMQ_DONTWAIT), EFSM);
    CHECK_OK(zmq_close(pub));
    CHECK_OK(zmq_close(req));
    CHECK_OK(zmq_ctx_term(ctx));
}

static void test_option_buffers_and_values_as_libzmq(void) {
    void *ctx = zmq_ctx_new();
    void *sub = zmq_socket(ctx, ZMQ_SUB), *push = zmq_socket(ctx, ZMQ_PUSH);
    /* A number is read only into a buffer of exactly its size... */
    int64_t wide = 0;
    size_t size = sizeof wide;
    CHECK_ERRNO(zmq_getsockopt(push, ZMQ_LINGER, &wide, &size), EINVAL);
    CHECK_OK(zmq_getsockopt(push, ZMQ_MAXMSGSIZE, &wide, &size));
    CHECK(size == 8 && wide == -1);
    /* ...but the socket-level ones (ZMQ_EVENTS, ZMQ_RCVMORE, ZMQ_FD) into any wider one. */
    wide = -1;
    CHECK_OK(zmq_getsockopt(push, ZMQ_RCVMORE, &wide, &size));
    CHECK(size == sizeof(int) && wide == 0);
    /* Options every socket type has in libzmq, even where they do nothing. */
    int on = 1, value = 0;
    size = sizeof value;
    CHECK_OK(zmq_setsockopt(push, ZMQ_INVERT_MATCHING, &on, sizeof on));
    CHECK_OK(zmq_getsockopt(push, ZMQ_INVERT_MATCHING, &value, &size));
    CHECK(value == 1);
    CHECK_OK(zmq_getsockopt(push, ZMQ_MULTICAST_LOOP, &value, &size));
    CHECK(value == 1);
    CHECK_OK(zmq_setsockopt(push, ZMQ_LOOPBACK_FASTPATH, &on, sizeof on));
    /* Values libzmq refuses. */
    int minus_one = -1;
    CHECK_ERRNO(zmq_setsockopt(push, ZMQ_HEARTBEAT_TIMEOUT, &minus_one, sizeof minus_one),
                EINVAL);
    CHECK_ERRNO(zmq_setsockopt(push, ZMQ_ZAP_DOMAIN, "", 0), EINVAL);
    CHECK_ERRNO(zmq_setsockopt(push, ZMQ_CONNECT_ROUTING_ID, "id", 2), EINVAL);
    CHECK_ERRNO(zmq_setsockopt(push, ZMQ_IPC_FILTER_UID, "", 0), EINVAL);
    CHECK_OK(zmq_setsockopt(push, ZMQ_IPC_FILTER_UID, NULL, 0));
    /* A heartbeat TTL is kept in deciseconds: libzmq converts first, so -1 ms is 0. */
    CHECK_OK(zmq_setsockopt(push, ZMQ_HEARTBEAT_TTL, &minus_one, sizeof minus_one));
    /* udp exists in every libzmq, for socket types this one lacks: ENOCOMPATPROTO. */
    CHECK_ERRNO(zmq_bind(sub, "udp://127.0.0.1:5555"), ENOCOMPATPROTO);
    CHECK_ERRNO(zmq_connect(push, "udp://127.0.0.1:5555"), ENOCOMPATPROTO);
    CHECK_ERRNO(zmq_connect(push, "pgm://127.0.0.1;239.1.1.1:5555"), EPROTONOSUPPORT);
    /* Monitor events of version 1 fit in 16 bits. */
    CHECK_ERRNO(zmq_socket_monitor(push, "inproc://mask", 0x10000), EINVAL);
    CHECK_ERRNO(zmq_socket_monitor(push, "inproc://mask", -1), EINVAL);
    /* Monitoring again at the same endpoint works at once. */
    for (int i = 0; i < 20; i++)
        CHECK_OK(zmq_socket_monitor(push, "inproc://again", ZMQ_EVENT_ALL));
    CHECK_OK(zmq_close(sub));
    CHECK_OK(zmq_close(push));
    CHECK_OK(zmq_ctx_term(ctx));
}

/* An event loop that polls ZMQ_FD before it ever reads ZMQ_EVENTS still wakes for the first
 * message, on every transport, as with libzmq. */
static void test_fd_wakes_for_the_first_message(void) {
    const char *endpoints[] = {"inproc://fd-first", "ipc://*", "tcp://127.0.0.1:*"};
    for (int i = 0; i < 3; i++) {
        void *ctx = zmq_ctx_new();
        void *push = zmq_socket(ctx, ZMQ_PUSH), *pull = zmq_socket(ctx, ZMQ_PULL);
        CHECK_OK(zmq_bind(push, endpoints[i]));
        char ep[256];
        size_t len = sizeof ep;
        CHECK_OK(zmq_getsockopt(push, ZMQ_LAST_ENDPOINT, ep, &len));
        CHECK_OK(zmq_connect(pull, ep));
        int fd = -1;
        size_t size = sizeof fd;
        CHECK_OK(zmq_getsockopt(pull, ZMQ_FD, &fd, &size));
        zmq_sleep(1); /* connected, nothing asked of the socket since */
        CHECK(zmq_send(push, "hello", 5, 0) == 5);
        /* The ZMQ_FD protocol: wait for the fd, then ask ZMQ_EVENTS (which clears it); the
         * fd may have been readable for something else first (as libzmq's is after a tcp
         * or ipc connect), so wait again while the message is not there. */
        int events = 0;
        for (int tries = 0; tries < 5 && !(events & ZMQ_POLLIN); tries++) {
            struct pollfd p = {fd, POLLIN, 0};
            CHECK(poll(&p, 1, 5000) == 1 && (p.revents & POLLIN));
            size = sizeof events;
            CHECK_OK(zmq_getsockopt(pull, ZMQ_EVENTS, &events, &size));
        }
        CHECK(events & ZMQ_POLLIN);
        char buf[8];
        CHECK(zmq_recv(pull, buf, sizeof buf, ZMQ_DONTWAIT) == 5);
        CHECK_OK(zmq_close(push));
        CHECK_OK(zmq_close(pull));
        CHECK_OK(zmq_ctx_term(ctx));
    }
}

static void test_send_const_and_iov(void) {
    void *ctx = zmq_ctx_new();
    void *a = zmq_socket(ctx, ZMQ_PAIR), *b = zmq_socket(ctx, ZMQ_PAIR);
    CHECK_OK(zmq_bind(a, "inproc://iov"));
    CHECK_OK(zmq_connect(b, "inproc://iov"));
    static const char constant[] = "constant data that outlives the message";
    CHECK(zmq_send_const(b, constant, sizeof constant, 0) == (int)sizeof constant);
    zmq_msg_t m;
    CHECK_OK(zmq_msg_init(&m));
    CHECK(zmq_msg_recv(&m, a, 0) == (int)sizeof constant);
    CHECK(zmq_msg_data(&m) == (void *)constant); /* no copy over inproc */
    CHECK_OK(zmq_msg_close(&m));

    struct iovec out[3] = {{"one", 3}, {"two", 3}, {"three", 5}};
    CHECK(zmq_sendiov(b, out, 3, ZMQ_SNDMORE) >= 0);
    struct iovec in[4];
    size_t count = 4;
    CHECK(zmq_recviov(a, in, &count, 0) == 3);
    CHECK(count == 3 && in[2].iov_len == 5 && memcmp(in[2].iov_base, "three", 5) == 0);
    for (size_t i = 0; i < count; i++)
        free(in[i].iov_base);
    CHECK_ERRNO(zmq_sendiov(b, out, 0, 0), EINVAL);
    CHECK_OK(zmq_close(a));
    CHECK_OK(zmq_close(b));
    CHECK_OK(zmq_ctx_term(ctx));
}

static void test_monitor_stops_with_the_socket(void) {
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_PAIR);
    CHECK_ERRNO(zmq_socket_monitor(s, "tcp://127.0.0.1:1", ZMQ_EVENT_ALL), EPROTONOSUPPORT);
    CHECK_OK(zmq_socket_monitor(s, "inproc://monitor", ZMQ_EVENT_ALL));
    void *mon = zmq_socket(ctx, ZMQ_PAIR);
    CHECK_OK(zmq_connect(mon, "inproc://monitor"));
    CHECK_OK(zmq_close(s));
    zmq_msg_t m;
    CHECK_OK(zmq_msg_init(&m));
    CHECK(zmq_msg_recv(&m, mon, 0) == 6);
    unsigned short event;
    memcpy(&event, zmq_msg_data(&m), 2);
    CHECK(event == ZMQ_EVENT_MONITOR_STOPPED);
    CHECK(zmq_msg_more(&m));
    CHECK(zmq_msg_recv(&m, mon, 0) >= 0);
    CHECK_OK(zmq_msg_close(&m));
    CHECK_OK(zmq_close(mon));
    CHECK_OK(zmq_ctx_term(ctx));
}

struct proxy_args {
    void *front, *back, *control;
    int rc;
};
static void *run_proxy(void *p) {
    struct proxy_args *a = p;
    a->rc = zmq_proxy_steerable(a->front, a->back, NULL, a->control);
    return NULL;
}

static void test_steerable_proxy(void) {
    void *ctx = zmq_ctx_new();
    struct proxy_args a;
    a.front = zmq_socket(ctx, ZMQ_PULL);
    a.back = zmq_socket(ctx, ZMQ_PUSH);
    a.control = zmq_socket(ctx, ZMQ_PAIR);
    CHECK_OK(zmq_bind(a.front, "inproc://front"));
    CHECK_OK(zmq_bind(a.back, "inproc://back"));
    CHECK_OK(zmq_bind(a.control, "inproc://control"));
    void *in = zmq_socket(ctx, ZMQ_PUSH), *out = zmq_socket(ctx, ZMQ_PULL), *ctl = zmq_socket(ctx, ZMQ_PAIR);
    CHECK_OK(zmq_connect(in, "inproc://front"));
    CHECK_OK(zmq_connect(out, "inproc://back"));
    CHECK_OK(zmq_connect(ctl, "inproc://control"));
    pthread_t th;
    pthread_create(&th, NULL, run_proxy, &a);
    CHECK(zmq_send(in, "via", 3, ZMQ_SNDMORE) == 3);
    CHECK(zmq_send(in, "proxy", 5, 0) == 5);
    char buf[8];
    CHECK(zmq_recv(out, buf, sizeof buf, 0) == 3);
    CHECK(zmq_recv(out, buf, sizeof buf, 0) == 5 && memcmp(buf, "proxy", 5) == 0);
    CHECK(zmq_send(ctl, "TERMINATE", 9, 0) == 9);
    pthread_join(th, NULL);
    CHECK(a.rc == 0);
    void *all[] = {a.front, a.back, a.control, in, out, ctl};
    for (int i = 0; i < 6; i++)
        CHECK_OK(zmq_close(all[i]));
    CHECK_OK(zmq_ctx_term(ctx));
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

static void test_steerable_proxy_waits_for_a_peerless_backend_and_still_obeys_control(void) {
    /* libzmq issue #1382 (test_proxy_terminate): messages arrive for a PUSH backend with no
     * peer; the proxy must not block in its send, so TERMINATE still ends it. Before that, a
     * late peer of the backend gets the waiting messages. */
    void *ctx = zmq_ctx_new();
    struct proxy_args a;
    a.front = zmq_socket(ctx, ZMQ_SUB);
    a.back = zmq_socket(ctx, ZMQ_PUSH);
    a.control = zmq_socket(ctx, ZMQ_PAIR);
    int zero = 0;
    void *socks[] = {a.front, a.back, a.control};
    for (int i = 0; i < 3; i++)
        CHECK_OK(zmq_setsockopt(socks[i], ZMQ_LINGER, &zero, sizeof zero));
    CHECK_OK(zmq_setsockopt(a.front, ZMQ_SUBSCRIBE, "", 0));
    char front_ep[256], back_ep[256];
    size_t len = sizeof front_ep;
    CHECK_OK(zmq_bind(a.front, "tcp://127.0.0.1:*"));
    CHECK_OK(zmq_getsockopt(a.front, ZMQ_LAST_ENDPOINT, front_ep, &len));
    len = sizeof back_ep;
    CHECK_OK(zmq_bind(a.back, "tcp://127.0.0.1:*"));
    CHECK_OK(zmq_getsockopt(a.back, ZMQ_LAST_ENDPOINT, back_ep, &len));
    CHECK_OK(zmq_bind(a.control, "inproc://control-peerless"));
    void *pub = zmq_socket(ctx, ZMQ_PUB), *ctl = zmq_socket(ctx, ZMQ_PAIR);
    CHECK_OK(zmq_setsockopt(pub, ZMQ_LINGER, &zero, sizeof zero));
    CHECK_OK(zmq_connect(pub, front_ep));
    CHECK_OK(zmq_connect(ctl, "inproc://control-peerless"));
    pthread_t th;
    pthread_create(&th, NULL, run_proxy, &a);
    sleep_ms(300);
    for (int i = 0; i < 3; i++)
        CHECK(zmq_send(pub, "waiting", 7, 0) == 7);
    sleep_ms(100);
    /* A peer for the backend: the proxy, waiting for the backend's room, forwards. */
    void *pull = zmq_socket(ctx, ZMQ_PULL);
    CHECK_OK(zmq_setsockopt(pull, ZMQ_LINGER, &zero, sizeof zero));
    CHECK_OK(zmq_connect(pull, back_ep));
    int timeo = 2000;
    CHECK_OK(zmq_setsockopt(pull, ZMQ_RCVTIMEO, &timeo, sizeof timeo));
    char buf[8];
    for (int i = 0; i < 3; i++)
        CHECK(zmq_recv(pull, buf, sizeof buf, 0) == 7 && memcmp(buf, "waiting", 7) == 0);
    CHECK_OK(zmq_close(pull));
    sleep_ms(100);
    /* Peerless again, with messages pending: control still works. */
    for (int i = 0; i < 3; i++)
        CHECK(zmq_send(pub, "stuck", 5, 0) == 5);
    sleep_ms(100);
    CHECK(zmq_send(ctl, "TERMINATE", 9, 0) == 9);
    pthread_join(th, NULL);
    CHECK(a.rc == 0);
    void *all[] = {a.front, a.back, a.control, pub, ctl};
    for (int i = 0; i < 5; i++)
        CHECK_OK(zmq_close(all[i]));
    CHECK_OK(zmq_ctx_term(ctx));
}

int main(void) {
    RUN(test_messages);
    RUN(test_dropped_copies_leave_the_original_whole);
    RUN(test_recv_replaces_releases_or_keeps_the_old_content);
    RUN(test_bad_handles_and_arguments);
    RUN(test_context_options);
    RUN(test_socket_type_errors);
    RUN(test_option_buffers_and_values_as_libzmq);
    RUN(test_fd_wakes_for_the_first_message);
    RUN(test_send_const_and_iov);
    RUN(test_monitor_stops_with_the_socket);
    RUN(test_steerable_proxy);
    RUN(test_steerable_proxy_waits_for_a_peerless_backend_and_still_obeys_control);
    RUN(test_a_blocking_recv_returns_eintr_after_a_signal_handler);
    return 0;
}
