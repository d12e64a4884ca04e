/* The CPU cost of an exchange at a fixed rate (bench/cpu.sh): two processes over tcp.
 *
 *   cpu_bench rep                      REP server: binds, prints its endpoint, answers until
 *                                      "END", then prints its CPU time (user + sys, all threads)
 *                                      and how many messages it received
 *   cpu_bench req EP INTERVAL_US COUNT REQ client: one request every INTERVAL_US (0: back to
 *                                      back), prints "cpu_us latency_us" (its CPU time, the
 *                                      mean round trip)
 *   cpu_bench sub                      SUB: binds, prints its endpoint, receives until "END",
 *                                      prints its CPU time and how many messages it received
 *   cpu_bench pub EP INTERVAL_US COUNT PUB: one message every INTERVAL_US, prints its CPU time
 *
 * Sleeps are absolute (a late tick is not made up by sleeping less later), with a timer slack
 * of 1 ns so that short intervals are kept. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static double cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec +
           ru.ru_stime.tv_usec;
}

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

/* Sleeps until `start` + `k` * `interval` microseconds (CLOCK_MONOTONIC). */
static void tick(struct timespec start, long k, long interval)
{
    if (interval <= 0)
        return;
    long long ns = (long long)start.tv_nsec + (long long)k * interval * 1000;
    struct timespec t = {start.tv_sec + (time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) != 0) {
    }
}

static void serve(int type)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, type);
    if (type == ZMQ_SUB) {
        zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
        /* A PUB may drop its END at the HWM: a second of silence ends the run too. */
        int timeout = 1000;
        zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    }
    if (zmq_bind(s, "tcp://127.0.0.1:*") != 0)
        die("bind");
    char ep[64];
    size_t len = sizeof ep;
    zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &len);
    printf("%s\n", ep);
    fflush(stdout);
    double c0 = -1;
    long received = 0;
    char buf[64];
    for (;;) {
        int n = zmq_recv(s, buf, sizeof buf, 0);
        if (n < 0 && type == ZMQ_SUB && zmq_errno() == EAGAIN && c0 >= 0)
            break;
        if (n < 0)
            die("recv");
        if (c0 < 0)
            c0 = cpu_us(); /* from the first message on: the setup is not the cost */
        if (type == ZMQ_REP && zmq_send(s, buf, (size_t)n, 0) != n)
            die("send");
        if (n == 3 && memcmp(buf, "END", 3) == 0)
            break;
        received++;
    }
    printf("%.0f %ld\n", cpu_us() - c0, received);
    zmq_close(s);
    zmq_ctx_term(ctx);
}

static void drive(int type, const char *ep, long interval, long count)
{
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, type);
    if (zmq_connect(s, ep) != 0)
        die("connect");
    char buf[64] = "request";
    if (type == ZMQ_REQ) {
        /* One exchange to set the connection up, outside the measure. */
        if (zmq_send(s, buf, 7, 0) != 7 || zmq_recv(s, buf, sizeof buf, 0) != 7)
            die("first exchange");
    } else {
        usleep(200 * 1000); /* the subscription reaches the PUB */
    }
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    double c0 = cpu_us(), lat = 0;
    for (long k = 1; k <= count; k++) {
        tick(start, k, interval);
        double t0 = now_us();
        if (zmq_send(s, "request", 7, 0) != 7)
            die("send");
        if (type == ZMQ_REQ && zmq_recv(s, buf, sizeof buf, 0) != 7)
            die("recv");
        lat += now_us() - t0;
    }
    double cpu = cpu_us() - c0;
    printf("%.0f %.2f\n", cpu, lat / (double)count);
    fflush(stdout);
    /* The server ends on END (a REP answers it). */
    zmq_send(s, "END", 3, 0);
    if (type == ZMQ_REQ)
        zmq_recv(s, buf, sizeof buf, 0);
    int linger = 1000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(s);
    zmq_ctx_term(ctx);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "rep") == 0)
        serve(ZMQ_REP);
    else if (argc == 2 && strcmp(argv[1], "sub") == 0)
        serve(ZMQ_SUB);
    else if (argc == 5 && strcmp(argv[1], "req") == 0)
        drive(ZMQ_REQ, argv[2], atol(argv[3]), atol(argv[4]));
    else if (argc == 5 && strcmp(argv[1], "pub") == 0)
        drive(ZMQ_PUB, argv[2], atol(argv[3]), atol(argv[4]));
    else {
        fprintf(stderr, "usage: cpu_bench rep|sub | req|pub EP INTERVAL_US COUNT\n");
        return 2;
    }
    return 0;
}
