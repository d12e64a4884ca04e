/* PAIR and PUSH/PULL over inproc: round trips, multipart, DONTWAIT, connect before bind, close. */
#include "testutil.h"
int main(void) {
    void *ctx = zmq_ctx_new(); CHECK_PTR(ctx);
    void *a = zmq_socket(ctx, ZMQ_PAIR), *b = zmq_socket(ctx, ZMQ_PAIR);
    CHECK_OK(zmq_bind(a, "inproc://x"));
    CHECK_OK(zmq_connect(b, "inproc://x"));
    CHECK(zmq_send(b, "hello", 5, 0) == 5);
    char buf[10]; CHECK(zmq_recv(a, buf, 10, 0) == 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK(zmq_send(a, "w", 1, ZMQ_SNDMORE) == 1);
    CHECK(zmq_send(a, "x", 1, 0) == 1);
    CHECK(zmq_recv(b, buf, 10, 0) == 1);
    int more; size_t sz = sizeof more; CHECK_OK(zmq_getsockopt(b, ZMQ_RCVMORE, &more, &sz)); CHECK(more == 1);
    CHECK(zmq_recv(b, buf, 10, 0) == 1);
    CHECK_ERRNO(zmq_recv(b, buf, 10, ZMQ_DONTWAIT), EAGAIN);
    /* connect before bind */
    void *c = zmq_socket(ctx, ZMQ_PUSH), *d = zmq_socket(ctx, ZMQ_PULL);
    CHECK_OK(zmq_connect(c, "inproc://y"));
    CHECK(zmq_send(c, "early", 5, 0) == 5);
    CHECK_OK(zmq_bind(d, "inproc://y"));
    CHECK(zmq_recv(d, buf, 10, 0) == 5);
    CHECK_OK(zmq_close(a)); CHECK_OK(zmq_close(b)); CHECK_OK(zmq_close(c)); CHECK_OK(zmq_close(d));
    CHECK_ERRNO(zmq_close(a), ENOTSOCK);
    CHECK_OK(zmq_ctx_term(ctx));
    printf("ok\n");
    return 0;
}
