/* PUB/SUB: a subscriber that wants only "weather" messages.
 *
 * A subscription reaches the publisher asynchronously, so the subscriber is not "joined" the
 * instant zmq_connect returns: publish a probe until one arrives, then send the real messages. */
#include <stdio.h>
#include <string.h>
#include <zmq.h>

static int fail(const char *what)
{
    fprintf(stderr, "pubsub: %s failed: %s\n", what, zmq_strerror(zmq_errno()));
    return 1;
}

int main(void)
{
    char buf[64];
    int n;
    void *ctx = zmq_ctx_new();
    if (!ctx)
        return fail("zmq_ctx_new");
    void *pub = zmq_socket(ctx, ZMQ_PUB);
    void *sub = zmq_socket(ctx, ZMQ_SUB);
    if (!pub || !sub)
        return fail("zmq_socket");
    if (zmq_bind(pub, "inproc://example-pubsub") != 0)
        return fail("zmq_bind");
    if (zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "weather", 7) != 0)
        return fail("zmq_setsockopt ZMQ_SUBSCRIBE");
    if (zmq_connect(sub, "inproc://example-pubsub") != 0)
        return fail("zmq_connect");

    /* Wait until the subscription has arrived: up to 5 s of probes, 10 ms apart. */
    int joined = 0;
    for (int i = 0; i < 500 && !joined; i++) {
        if (zmq_send(pub, "weather probe", 13, 0) != 13)
            return fail("zmq_send probe");
        zmq_pollitem_t item = {sub, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll(&item, 1, 10);
        if (rc < 0)
            return fail("zmq_poll");
        joined = rc > 0;
    }
    if (!joined) {
        fprintf(stderr, "pubsub: the subscriber never received a probe\n");
        return 1;
    }
    /* Drain the probes. */
    while (zmq_recv(sub, buf, sizeof buf, ZMQ_DONTWAIT) >= 0)
        ;
    printf("pubsub: subscriber joined\n");

    if (zmq_send(pub, "sports 3-1", 10, 0) != 10)
        return fail("zmq_send sports");
    if (zmq_send(pub, "weather sunny", 13, 0) != 13)
        return fail("zmq_send weather");
    n = zmq_recv(sub, buf, sizeof buf, 0);
    if (n < 0)
        return fail("zmq_recv");
    if (n != 13 || memcmp(buf, "weather sunny", 13) != 0) {
        fprintf(stderr, "pubsub: got \"%.*s\", expected \"weather sunny\"\n", n, buf);
        return 1;
    }
    printf("pubsub: received \"%.*s\" (and not the sports news)\n", n, buf);
    if (zmq_recv(sub, buf, sizeof buf, ZMQ_DONTWAIT) != -1 || zmq_errno() != EAGAIN) {
        fprintf(stderr, "pubsub: an unsubscribed message got through\n");
        return 1;
    }

    zmq_close(pub);
    zmq_close(sub);
    if (zmq_ctx_term(ctx) != 0)
        return fail("zmq_ctx_term");
    printf("pubsub: ok\n");
    return 0;
}
