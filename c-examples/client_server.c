/* CLIENT/SERVER (draft API, thread-safe sockets): two threads share one CLIENT socket, each
 * sending its requests and taking replies from it at the same time; a SERVER answers each
 * request to the peer it came from, through the message's routing id. Every request gets
 * exactly one reply (either thread may take it). Build with ZMQ_BUILD_DRAFT_API against a
 * library built with the draft API (cmake -DENABLE_DRAFTS=ON). */
#define ZMQ_BUILD_DRAFT_API
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#define PER_THREAD 1000

static void *server(void *sock)
{
    for (int i = 0; i < 2 * PER_THREAD; i++) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, sock, 0) < 0)
            return (void *)1;
        /* The reply goes back where the request came from: the routing id stays on it. */
        if (zmq_msg_send(&msg, sock, 0) < 0)
            return (void *)1;
    }
    return NULL;
}

struct worker {
    void *client; /* shared by both workers */
    char name;
    int replies;
};

static void *worker(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        char req[32];
        int n = snprintf(req, sizeof req, "%c%d", w->name, i);
        if (zmq_send(w->client, req, (size_t)n, 0) != n)
            return (void *)1;
        char rep[32];
        if (zmq_recv(w->client, rep, sizeof rep, 0) < 0)
            return (void *)1;
        w->replies++;
    }
    return NULL;
}

int main(void)
{
    void *ctx = zmq_ctx_new();
    void *srv = zmq_socket(ctx, ZMQ_SERVER);
    void *cli = zmq_socket(ctx, ZMQ_CLIENT);
    char ep[64];
    size_t len = sizeof ep;
    int timeout = 5000;
    if (!srv || !cli || zmq_bind(srv, "tcp://127.0.0.1:*") != 0 ||
        zmq_getsockopt(srv, ZMQ_LAST_ENDPOINT, ep, &len) != 0 || zmq_connect(cli, ep) != 0 ||
        zmq_setsockopt(cli, ZMQ_RCVTIMEO, &timeout, sizeof timeout) != 0 ||
        zmq_setsockopt(srv, ZMQ_RCVTIMEO, &timeout, sizeof timeout) != 0) {
        fprintf(stderr, "client_server: setup failed: %s\n", zmq_strerror(zmq_errno()));
        return 1;
    }
    int safe = 0;
    len = sizeof safe;
    zmq_getsockopt(cli, ZMQ_THREAD_SAFE, &safe, &len);

    pthread_t s, a, b;
    struct worker wa = {cli, 'a', 0}, wb = {cli, 'b', 0};
    pthread_create(&s, NULL, server, srv);
    pthread_create(&a, NULL, worker, &wa);
    pthread_create(&b, NULL, worker, &wb);
    void *ra, *rb, *rs;
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    pthread_join(s, &rs);
    int ok = safe == 1 && !ra && !rb && !rs && wa.replies + wb.replies == 2 * PER_THREAD;
    printf("client_server: two threads on one CLIENT (ZMQ_THREAD_SAFE %d): %d + %d replies to %d "
           "requests\n",
           safe, wa.replies, wb.replies, 2 * PER_THREAD);
    zmq_close(cli);
    zmq_close(srv);
    zmq_ctx_term(ctx);
    return ok ? 0 : 1;
}
