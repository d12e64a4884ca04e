/* Draft-API benchmarks (bench/draft.sh), built against ours and against libzmq with drafts.
 *
 *   draft_bench poll N ITER      zmq_poll over N PULL sockets (inproc) of which one has a
 *                                message: microseconds per call
 *   draft_bench poller N ITER    the same with zmq_poller_wait
 *   draft_bench cs SIZE COUNT    SERVER/CLIENT over tcp: a CLIENT thread sends COUNT messages of
 *                                SIZE bytes, the SERVER receives them: messages per second
 *
 * Prints one number. */
#define _DEFAULT_SOURCE
#define ZMQ_BUILD_DRAFT_API
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, zmq_strerror(zmq_errno()));
    exit(1);
}

static void poll_bench(int use_poller, int n, long iter)
{
    void *ctx = zmq_ctx_new();
    void **pulls = calloc((size_t)n, sizeof *pulls);
    void *push = zmq_socket(ctx, ZMQ_PUSH);
    for (int i = 0; i < n; i++) {
        char ep[64];
        snprintf(ep, sizeof ep, "inproc://bench-%d", i);
        pulls[i] = zmq_socket(ctx, ZMQ_PULL);
        if (zmq_bind(pulls[i], ep) != 0)
            die("bind");
    }
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://bench-%d", n / 2);
    if (zmq_connect(push, ep) != 0 || zmq_send(push, "x", 1, 0) != 1)
        die("send");
    double t0, t1;
    if (use_poller) {
        void *p = zmq_poller_new();
        for (int i = 0; i < n; i++)
            if (zmq_poller_add(p, pulls[i], NULL, ZMQ_POLLIN) != 0)
                die("poller_add");
        zmq_poller_event_t ev;
        if (zmq_poller_wait(p, &ev, -1) != 0)
            die("wait");
        t0 = now_us();
        for (long k = 0; k < iter; k++)
            if (zmq_poller_wait(p, &ev, -1) != 0 || ev.socket != pulls[n / 2])
                die("wait");
        t1 = now_us();
        zmq_poller_destroy(&p);
    } else {
        zmq_pollitem_t *items = calloc((size_t)n, sizeof *items);
        for (int i = 0; i < n; i++) {
            items[i].socket = pulls[i];
            items[i].events = ZMQ_POLLIN;
        }
        if (zmq_poll(items, n, -1) != 1)
            die("poll");
        t0 = now_us();
        for (long k = 0; k < iter; k++)
            if (zmq_poll(items, n, -1) != 1)
                die("poll");
        t1 = now_us();
        free(items);
    }
    printf("%.3f\n", (t1 - t0) / (double)iter);
    int linger = 0;
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(push);
    for (int i = 0; i < n; i++)
        zmq_close(pulls[i]);
    free(pulls);
    zmq_ctx_term(ctx);
}

struct cs_args {
    void *ctx;
    char ep[256];
    size_t size;
    long count;
};

static void *cs_client(void *arg)
{
    struct cs_args *a = arg;
    void *c = zmq_socket(a->ctx, ZMQ_CLIENT);
    if (zmq_connect(c, a->ep) != 0)
        die("connect");
    char *buf = calloc(1, a->size ? a->size : 1);
    for (long i = 0; i < a->count; i++)
        if (zmq_send(c, buf, a->size, 0) < 0)
            die("client send");
    free(buf);
    zmq_close(c);
    return NULL;
}

static void cs_bench(size_t size, long count)
{
    struct cs_args a = {zmq_ctx_new(), {0}, size, count};
    void *s = zmq_socket(a.ctx, ZMQ_SERVER);
    if (zmq_bind(s, "tcp://127.0.0.1:*") != 0)
        die("bind");
    size_t len = sizeof a.ep;
    zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, a.ep, &len);
    pthread_t t;
    pthread_create(&t, NULL, cs_client, &a);
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, s, 0) < 0)
        die("server recv");
    double t0 = now_us();
    for (long i = 1; i < count; i++)
        if (zmq_msg_recv(&m, s, 0) < 0)
            die("server recv");
    double t1 = now_us();
    zmq_msg_close(&m);
    pthread_join(t, NULL);
    printf("%.0f\n", (double)(count - 1) / ((t1 - t0) / 1e6));
    zmq_close(s);
    zmq_ctx_term(a.ctx);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: draft_bench poll|poller N ITER | cs SIZE COUNT\n");
        return 2;
    }
    if (strcmp(argv[1], "poll") == 0 || strcmp(argv[1], "poller") == 0)
        poll_bench(strcmp(argv[1], "poller") == 0, atoi(argv[2]), atol(argv[3]));
    else if (strcmp(argv[1], "cs") == 0)
        cs_bench((size_t)atol(argv[2]), atol(argv[3]));
    else
        return 2;
    return 0;
}
