/* One side of a draft-API interop case (capi-tests/interop-draft.sh). The same source is built
 * against our library and against libzmq built with its draft API; the two run in separate
 * processes.
 *
 *   draft_peer server ENDPOINT        SERVER binds, prints its endpoint, answers N requests
 *   draft_peer client ENDPOINT        CLIENT connects, sends N requests, checks the answers
 *   draft_peer radio bind|connect EP  RADIO sends to groups "g1" and "g2" until $INTEROP_SYNC
 *                                     exists (the DISH is done), 10 s at most
 *   draft_peer dish bind|connect EP   DISH joins "g1", receives K messages: all of "g1"
 *
 * Exit 0 when the side saw what it must. */
#define _DEFAULT_SOURCE
#define ZMQ_BUILD_DRAFT_API
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

enum { N = 200, K = 20 };

#define FAIL(...)                                                                  \
    do {                                                                           \
        fprintf(stderr, __VA_ARGS__);                                              \
        fprintf(stderr, " (errno %d: %s)\n", zmq_errno(), zmq_strerror(zmq_errno())); \
        exit(1);                                                                   \
    } while (0)

static void print_endpoint(void *s)
{
    char ep[256];
    size_t len = sizeof ep;
    if (zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &len) != 0)
        FAIL("last endpoint");
    printf("%s\n", ep);
    fflush(stdout);
}

static void set_timeout(void *s, int ms)
{
    if (zmq_setsockopt(s, ZMQ_RCVTIMEO, &ms, sizeof ms) != 0)
        FAIL("rcvtimeo");
}

static void server(void *ctx, const char *ep)
{
    void *s = zmq_socket(ctx, ZMQ_SERVER);
    if (!s || zmq_bind(s, ep) != 0)
        FAIL("server bind %s", ep);
    print_endpoint(s);
    set_timeout(s, 10000);
    for (int i = 0; i < N; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s, 0) < 0)
            FAIL("server recv %d", i);
        if (zmq_msg_routing_id(&m) == 0)
            FAIL("no routing id");
        /* The answer: the request's bytes, back to its sender (the routing id stays). */
        if (zmq_msg_send(&m, s, 0) < 0)
            FAIL("server send %d", i);
    }
    zmq_close(s);
}

static void client(void *ctx, const char *ep)
{
    void *s = zmq_socket(ctx, ZMQ_CLIENT);
    if (!s || zmq_connect(s, ep) != 0)
        FAIL("client connect %s", ep);
    set_timeout(s, 10000);
    for (int i = 0; i < N; i++) {
        char out[32], in[32];
        int n = snprintf(out, sizeof out, "request %d", i);
        if (zmq_send(s, out, (size_t)n, 0) != n)
            FAIL("client send %d", i);
        int got = zmq_recv(s, in, sizeof in, 0);
        if (got != n || memcmp(in, out, (size_t)n) != 0)
            FAIL("client answer %d", i);
    }
    zmq_close(s);
}

static void open_endpoint(void *s, const char *how, const char *ep)
{
    int rc = strcmp(how, "bind") == 0 ? zmq_bind(s, ep) : zmq_connect(s, ep);
    if (rc != 0)
        FAIL("%s %s", how, ep);
    if (strcmp(how, "bind") == 0 && strncmp(ep, "udp://", 6) != 0)
        print_endpoint(s);
    else {
        printf("%s\n", ep);
        fflush(stdout);
    }
}

static int sync_exists(void)
{
    const char *path = getenv("INTEROP_SYNC");
    struct stat st;
    return path && stat(path, &st) == 0;
}

static void radio(void *ctx, const char *how, const char *ep)
{
    void *s = zmq_socket(ctx, ZMQ_RADIO);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    open_endpoint(s, how, ep);
    for (int i = 0; i < 1000 && !sync_exists(); i++) {
        for (int g = 1; g <= 2; g++) {
            zmq_msg_t m;
            char text[32];
            int n = snprintf(text, sizeof text, "g%d message %d", g, i);
            zmq_msg_init_size(&m, (size_t)n);
            memcpy(zmq_msg_data(&m), text, (size_t)n);
            zmq_msg_set_group(&m, g == 1 ? "g1" : "g2");
            if (zmq_msg_send(&m, s, 0) < 0)
                FAIL("radio send");
        }
        usleep(10 * 1000);
    }
    if (!sync_exists())
        FAIL("the dish never finished");
    zmq_close(s);
}

static void dish(void *ctx, const char *how, const char *ep)
{
    void *s = zmq_socket(ctx, ZMQ_DISH);
    if (zmq_join(s, "g1") != 0)
        FAIL("join");
    open_endpoint(s, how, ep);
    set_timeout(s, 10000);
    for (int i = 0; i < K; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s, 0) < 0)
            FAIL("dish recv %d", i);
        if (strcmp(zmq_msg_group(&m), "g1") != 0 || zmq_msg_size(&m) < 2 ||
            memcmp(zmq_msg_data(&m), "g1", 2) != 0)
            FAIL("dish got a message of group '%s'", zmq_msg_group(&m));
        zmq_msg_close(&m);
    }
    const char *path = getenv("INTEROP_SYNC");
    if (path) {
        FILE *f = fopen(path, "w");
        if (f)
            fclose(f);
    }
    zmq_close(s);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        FAIL("usage: draft_peer server|client EP | radio|dish bind|connect EP");
    void *ctx = zmq_ctx_new();
    if (strcmp(argv[1], "server") == 0)
        server(ctx, argv[2]);
    else if (strcmp(argv[1], "client") == 0)
        client(ctx, argv[2]);
    else if (argc >= 4 && strcmp(argv[1], "radio") == 0)
        radio(ctx, argv[2], argv[3]);
    else if (argc >= 4 && strcmp(argv[1], "dish") == 0)
        dish(ctx, argv[2], argv[3]);
    else
        FAIL("unknown role %s", argv[1]);
    zmq_ctx_term(ctx);
    return 0;
}
