/* REQ/REP: a client asks, a server in another thread answers, three times. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#define ROUNDS 3

static void *server(void *ctx)
{
    void *rep = zmq_socket(ctx, ZMQ_REP);
    if (!rep || zmq_bind(rep, "inproc://example-reqrep") != 0) {
        fprintf(stderr, "reqrep: server setup failed: %s\n", zmq_strerror(zmq_errno()));
        return (void *)1;
    }
    for (int i = 0; i < ROUNDS; i++) {
        char buf[32];
        int n = zmq_recv(rep, buf, sizeof buf - 1, 0);
        if (n < 0 || n > (int)sizeof buf - 1)
            break;
        buf[n] = '\0';
        char reply[48];
        int len = snprintf(reply, sizeof reply, "re: %s", buf);
        if (zmq_send(rep, reply, (size_t)len, 0) != len)
            break;
    }
    zmq_close(rep);
    return NULL;
}

static int fail(const char *what)
{
    fprintf(stderr, "reqrep: %s failed: %s\n", what, zmq_strerror(zmq_errno()));
    return 1;
}

int main(void)
{
    void *ctx = zmq_ctx_new();
    if (!ctx)
        return fail("zmq_ctx_new");
    pthread_t thread;
    if (pthread_create(&thread, NULL, server, ctx) != 0) {
        fprintf(stderr, "reqrep: pthread_create failed\n");
        return 1;
    }
    void *req = zmq_socket(ctx, ZMQ_REQ);
    if (!req)
        return fail("zmq_socket");
    /* An inproc connect may come before the bind (libzmq >= 4.0): it waits for it. */
    if (zmq_connect(req, "inproc://example-reqrep") != 0)
        return fail("zmq_connect");

    for (int i = 0; i < ROUNDS; i++) {
        char request[16], expected[32], buf[32];
        int len = snprintf(request, sizeof request, "hello %d", i);
        int elen = snprintf(expected, sizeof expected, "re: %s", request);
        if (zmq_send(req, request, (size_t)len, 0) != len)
            return fail("zmq_send");
        int n = zmq_recv(req, buf, sizeof buf, 0);
        if (n < 0)
            return fail("zmq_recv");
        if (n != elen || memcmp(buf, expected, (size_t)elen) != 0) {
            fprintf(stderr, "reqrep: got \"%.*s\", expected \"%s\"\n", n, buf, expected);
            return 1;
        }
        printf("reqrep: sent \"%s\", got \"%.*s\"\n", request, n, buf);
    }

    void *result = NULL;
    pthread_join(thread, &result);
    zmq_close(req);
    if (zmq_ctx_term(ctx) != 0)
        return fail("zmq_ctx_term");
    if (result != NULL)
        return 1;
    printf("reqrep: ok\n");
    return 0;
}
