/* CLIENT and SERVER: routing ids, single-part messages, every transport, and many threads
 * on one socket at once (sending, receiving, blocked while another thread closes it or the
 * context ends). */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <unistd.h>
#include "testutil.h"

static void *ctx;

/* The client sends, the server answers through the routing id it received. */
static void round_trip(const char *bind_ep)
{
    void *server = zmq_socket(ctx, ZMQ_SERVER), *client = zmq_socket(ctx, ZMQ_CLIENT);
    char ep[256];
    bind_wildcard(server, bind_ep, ep, sizeof ep);
    CHECK_OK(zmq_connect(client, ep));
    zmq_msg_t m;
    CHECK_OK(zmq_msg_init_buffer(&m, "hello", 5));
    CHECK(zmq_msg_send(&m, client, 0) == 5);
    CHECK_OK(zmq_msg_init(&m));
    CHECK(zmq_msg_recv(&m, server, 0) == 5);
    uint32_t id = zmq_msg_routing_id(&m);
    CHECK(id != 0);
    CHECK_OK(zmq_msg_close(&m));
    CHECK_OK(zmq_msg_init_buffer(&m, "world", 5));
    CHECK_OK(zmq_msg_set_routing_id(&m, id));
    CHECK(zmq_msg_send(&m, server, 0) == 5);
    CHECK_OK(zmq_msg_init(&m));
    CHECK(zmq_msg_recv(&m, client, 0) == 5);
    CHECK(memcmp(zmq_msg_data(&m), "world", 5) == 0);
    /* What the client receives carries no routing id. */
    CHECK(zmq_msg_routing_id(&m) == 0);
    CHECK_OK(zmq_msg_close(&m));
    CHECK_OK(zmq_close(client));
    CHECK_OK(zmq_close(server));
}

static void round_trips_over_every_transport(void)
{
    round_trip("inproc://cs");
    round_trip("tcp://127.0.0.1:*");
    char ipc[64];
    snprintf(ipc, sizeof ipc, "ipc:///tmp/zmq-rs-cs-%d", (int)getpid());
    round_trip(ipc);
}

static void options_and_refusals_as_libzmq(void)
{
    void *server = zmq_socket(ctx, ZMQ_SERVER), *client = zmq_socket(ctx, ZMQ_CLIENT);
    int v;
    size_t len = sizeof v;
    CHECK_OK(zmq_getsockopt(server, ZMQ_THREAD_SAFE, &v, &len));
    CHECK(v == 1);
    zmq_fd_t fd;
    len = sizeof fd;
    CHECK_ERRNO(zmq_getsockopt(client, ZMQ_FD, &fd, &len), EINVAL);
    CHECK_OK(zmq_bind(server, "inproc://cs-refusals"));
    CHECK_OK(zmq_connect(client, "inproc://cs-refusals"));
    CHECK_ERRNO(zmq_send(client, "a", 1, ZMQ_SNDMORE), EINVAL);
    zmq_msg_t m;
    CHECK_OK(zmq_msg_init_size(&m, 1));
    CHECK_ERRNO(zmq_msg_send(&m, server, 0), EHOSTUNREACH);
    CHECK_OK(zmq_msg_set_routing_id(&m, 1));
    CHECK_ERRNO(zmq_msg_send(&m, server, ZMQ_SNDMORE), EINVAL);
    CHECK_OK(zmq_msg_close(&m));
    /* A receive with nothing there: EAGAIN at once, or after the timeout. */
    CHECK_ERRNO(zmq_recv(server, &v, sizeof v, ZMQ_DONTWAIT), EAGAIN);
    int timeout = 30;
    CHECK_OK(zmq_setsockopt(server, ZMQ_RCVTIMEO, &timeout, sizeof timeout));
    CHECK_ERRNO(zmq_recv(server, &v, sizeof v, 0), EAGAIN);
    CHECK_OK(zmq_close(client));
    CHECK_OK(zmq_close(server));
}

enum { PER_THREAD = 2000 };

struct worker {
    void *client;
    int id;
    int received;
};

static void *send_requests(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        int msg[2] = {w->id, i};
        CHECK(zmq_send(w->client, msg, sizeof msg, 0) == (int)sizeof msg);
    }
    return NULL;
}

static void *receive_replies(void *arg)
{
    struct worker *w = arg;
    int timeout = 10000;
    CHECK_OK(zmq_setsockopt(w->client, ZMQ_RCVTIMEO, &timeout, sizeof timeout));
    for (int i = 0; i < PER_THREAD; i++) {
        int msg[2];
        CHECK(zmq_recv(w->client, msg, sizeof msg, 0) == (int)sizeof msg);
        w->received++;
    }
    return NULL;
}

static void *echo(void *server)
{
    for (int i = 0; i < 2 * PER_THREAD; i++) {
        zmq_msg_t m;
        CHECK_OK(zmq_msg_init(&m));
        CHECK(zmq_msg_recv(&m, server, 0) >= 0);
        CHECK(zmq_msg_send(&m, server, 0) >= 0);
    }
    return NULL;
}

/* Two threads send on one CLIENT while two others receive on it; every reply arrives
 * exactly once (the SERVER echoes). */
static void two_threads_send_and_two_receive_on_one_client(void)
{
    void *server = zmq_socket(ctx, ZMQ_SERVER), *client = zmq_socket(ctx, ZMQ_CLIENT);
    char ep[256];
    bind_wildcard(server, "tcp://127.0.0.1:*", ep, sizeof ep);
    CHECK_OK(zmq_connect(client, ep));
    pthread_t e, s[2], r[2];
    struct worker w[2] = {{client, 0, 0}, {client, 1, 0}};
    CHECK(pthread_create(&e, NULL, echo, server) == 0);
    for (int i = 0; i < 2; i++) {
        CHECK(pthread_create(&r[i], NULL, receive_replies, &w[i]) == 0);
        CHECK(pthread_create(&s[i], NULL, send_requests, &w[i]) == 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(s[i], NULL);
        pthread_join(r[i], NULL);
    }
    pthread_join(e, NULL);
    CHECK(w[0].received + w[1].received == 2 * PER_THREAD);
    int v;
    CHECK_ERRNO(zmq_recv(client, &v, sizeof v, ZMQ_DONTWAIT), EAGAIN);
    CHECK_OK(zmq_close(client));
    CHECK_OK(zmq_close(server));
}

struct blocked {
    void *socket;
    int rc, err;
};

static void *receive_blocked(void *arg)
{
    struct blocked *b = arg;
    char buf[8];
    b->rc = zmq_recv(b->socket, buf, sizeof buf, 0);
    b->err = zmq_errno();
    return NULL;
}

/* A thread blocked in a receive is woken by a message another thread's socket sends. */
static void a_blocked_receive_wakes_for_a_message(void)
{
    void *server = zmq_socket(ctx, ZMQ_SERVER), *client = zmq_socket(ctx, ZMQ_CLIENT);
    CHECK_OK(zmq_bind(server, "inproc://cs-blocked"));
    CHECK_OK(zmq_connect(client, "inproc://cs-blocked"));
    struct blocked b = {server, 0, 0};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, receive_blocked, &b) == 0);
    usleep(50 * 1000);
    CHECK(zmq_send(client, "x", 1, 0) == 1);
    pthread_join(t, NULL);
    CHECK(b.rc == 1);
    CHECK_OK(zmq_close(client));
    CHECK_OK(zmq_close(server));
}

/* Closing a thread-safe socket while another thread is blocked on it ends that call with
 * ENOTSOCK (it does not hang). */
static void closing_the_socket_ends_a_blocked_receive(void)
{
    void *server = zmq_socket(ctx, ZMQ_SERVER);
    CHECK_OK(zmq_bind(server, "inproc://cs-close"));
    struct blocked b = {server, 0, 0};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, receive_blocked, &b) == 0);
    usleep(50 * 1000);
    CHECK_OK(zmq_close(server));
    pthread_join(t, NULL);
    CHECK(b.rc == -1 && b.err == ENOTSOCK);
}

/* zmq_ctx_term ends blocked calls with ETERM; the socket is then closed. */
static void terminating_the_context_ends_a_blocked_receive(void)
{
    void *ctx2 = zmq_ctx_new();
    void *client = zmq_socket(ctx2, ZMQ_CLIENT);
    struct blocked b = {client, 0, 0};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, receive_blocked, &b) == 0);
    usleep(50 * 1000);
    CHECK_OK(zmq_ctx_shutdown(ctx2));
    pthread_join(t, NULL);
    CHECK(b.rc == -1 && b.err == ETERM);
    CHECK_OK(zmq_close(client));
    CHECK_OK(zmq_ctx_term(ctx2));
}

int main(void)
{
    ctx = zmq_ctx_new();
    CHECK_PTR(ctx);
    RUN(round_trips_over_every_transport);
    RUN(options_and_refusals_as_libzmq);
    RUN(two_threads_send_and_two_receive_on_one_client);
    RUN(a_blocked_receive_wakes_for_a_message);
    RUN(closing_the_socket_ends_a_blocked_receive);
    RUN(terminating_the_context_ends_a_blocked_receive);
    CHECK_OK(zmq_ctx_term(ctx));
    return 0;
}
