/* PAIR: two sockets joined one-to-one over inproc, talking both ways. */
#include <stdio.h>
#include <string.h>
#include <zmq.h>

static int fail(const char *what)
{
    fprintf(stderr, "pair: %s failed: %s\n", what, zmq_strerror(zmq_errno()));
    return 1;
}

int main(void)
{
    char buf[32];
    int n;
    void *ctx = zmq_ctx_new();
    if (!ctx)
        return fail("zmq_ctx_new");
    void *a = zmq_socket(ctx, ZMQ_PAIR);
    void *b = zmq_socket(ctx, ZMQ_PAIR);
    if (!a || !b)
        return fail("zmq_socket");
    if (zmq_bind(a, "inproc://example-pair") != 0)
        return fail("zmq_bind");
    if (zmq_connect(b, "inproc://example-pair") != 0)
        return fail("zmq_connect");

    if (zmq_send(b, "ping", 4, 0) != 4)
        return fail("zmq_send ping");
    n = zmq_recv(a, buf, sizeof buf, 0);
    if (n != 4 || memcmp(buf, "ping", 4) != 0)
        return fail("zmq_recv ping");
    printf("pair: a received \"%.*s\"\n", n, buf);

    if (zmq_send(a, "pong", 4, 0) != 4)
        return fail("zmq_send pong");
    n = zmq_recv(b, buf, sizeof buf, 0);
    if (n != 4 || memcmp(buf, "pong", 4) != 0)
        return fail("zmq_recv pong");
    printf("pair: b received \"%.*s\"\n", n, buf);

    zmq_close(a);
    zmq_close(b);
    if (zmq_ctx_term(ctx) != 0)
        return fail("zmq_ctx_term");
    printf("pair: ok\n");
    return 0;
}
