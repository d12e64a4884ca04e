/* Throughput, latency and CPU cost of a security mechanism, over tcp on loopback, both ends in
 * this process, with MECH (null or curve; curve keys made with zmq_curve_keypair):
 *   thr: a PUSH (its own thread) sends COUNT messages of SIZE bytes to a PULL; prints
 *        <msg/s> <CPU microseconds per message (user + sys, all threads)>
 *   lat: a REQ (its own thread) makes COUNT round trips of SIZE bytes to a REP; prints
 *        <one-way latency in us (half a round trip)> <CPU microseconds per round trip>
 * Built twice by bench/security.sh, against Debian's libzmq and against ours.
 *
 * usage: security_thr thr|lat null|curve SIZE COUNT */
#define _POSIX_C_SOURCE 200809L
#include <zmq.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static int curve, latency;
static char server_public[41], server_secret[41], client_public[41], client_secret[41];
static char endpoint[256];
static size_t size;
static long count;

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "security_thr: %s: %s\n", what, zmq_strerror(zmq_errno()));
        exit(1);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void *sender(void *ctx)
{
    void *push = zmq_socket(ctx, latency ? ZMQ_REQ : ZMQ_PUSH);
    check(push != NULL, "zmq_socket");
    if (curve) {
        check(zmq_setsockopt(push, ZMQ_CURVE_SERVERKEY, server_public, 40) == 0, "SERVERKEY");
        check(zmq_setsockopt(push, ZMQ_CURVE_PUBLICKEY, client_public, 40) == 0, "PUBLICKEY");
        check(zmq_setsockopt(push, ZMQ_CURVE_SECRETKEY, client_secret, 40) == 0, "SECRETKEY");
    }
    check(zmq_connect(push, endpoint) == 0, "zmq_connect");
    char *buf = calloc(1, size ? size : 1);
    check(buf != NULL, "calloc");
    for (long i = 0; i < count; i++) {
        check(zmq_send(push, buf, size, 0) == (int)size, "zmq_send");
        if (latency)
            check(zmq_recv(push, buf, size, 0) == (int)size, "zmq_recv");
    }
    free(buf);
    check(zmq_close(push) == 0, "zmq_close");
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: security_thr thr|lat null|curve SIZE COUNT\n");
        return 2;
    }
    latency = strcmp(argv[1], "lat") == 0;
    curve = strcmp(argv[2], "curve") == 0;
    size = (size_t)atol(argv[3]);
    count = atol(argv[4]);
    void *ctx = zmq_ctx_new();
    check(ctx != NULL, "zmq_ctx_new");
    void *pull = zmq_socket(ctx, latency ? ZMQ_REP : ZMQ_PULL);
    check(pull != NULL, "zmq_socket");
    if (curve) {
        check(zmq_curve_keypair(server_public, server_secret) == 0, "zmq_curve_keypair");
        check(zmq_curve_keypair(client_public, client_secret) == 0, "zmq_curve_keypair");
        int one = 1;
        check(zmq_setsockopt(pull, ZMQ_CURVE_SERVER, &one, sizeof one) == 0, "CURVE_SERVER");
        check(zmq_setsockopt(pull, ZMQ_CURVE_SECRETKEY, server_secret, 40) == 0, "SECRETKEY");
    }
    check(zmq_bind(pull, "tcp://127.0.0.1:*") == 0, "zmq_bind");
    size_t len = sizeof endpoint;
    check(zmq_getsockopt(pull, ZMQ_LAST_ENDPOINT, endpoint, &len) == 0, "LAST_ENDPOINT");

    pthread_t t;
    check(pthread_create(&t, NULL, sender, ctx) == 0, "pthread_create");
    zmq_msg_t m;
    zmq_msg_init(&m);
    check(zmq_msg_recv(&m, pull, 0) >= 0, "zmq_msg_recv"); /* the clock starts here */
    if (latency)
        check(zmq_msg_send(&m, pull, 0) == (int)size, "zmq_msg_send");
    double t0 = now_s(), c0 = cpu_s();
    for (long i = 1; i < count; i++) {
        check(zmq_msg_recv(&m, pull, 0) == (int)size, "zmq_msg_recv");
        if (latency)
            check(zmq_msg_send(&m, pull, 0) == (int)size, "zmq_msg_send");
    }
    double t1 = now_s(), c1 = cpu_s();
    zmq_msg_close(&m);
    pthread_join(t, NULL);
    check(zmq_close(pull) == 0, "zmq_close");
    check(zmq_ctx_term(ctx) == 0, "zmq_ctx_term");
    double n = (double)(count - 1);
    if (latency)
        printf("%.2f %.3f\n", (t1 - t0) * 1e6 / n / 2, (c1 - c0) * 1e6 / n);
    else
        printf("%.0f %.3f\n", n / (t1 - t0), (c1 - c0) * 1e6 / n);
    return 0;
}
