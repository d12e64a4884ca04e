/* What a first program against an installed libzmq does: check the version, pass one message. */
#include <stdio.h>
#include <string.h>
#include <zmq.h>

int main(void)
{
    int major, minor, patch;
    zmq_version(&major, &minor, &patch);
    printf("libzmq %d.%d.%d (header %d.%d.%d)\n", major, minor, patch, ZMQ_VERSION_MAJOR,
           ZMQ_VERSION_MINOR, ZMQ_VERSION_PATCH);
    if (major != 4 || minor != 3 || patch != 5) {
        fprintf(stderr, "hello: expected libzmq 4.3.5\n");
        return 1;
    }
    if (ZMQ_VERSION != ZMQ_MAKE_VERSION(4, 3, 5)) {
        fprintf(stderr, "hello: zmq.h is not 4.3.5\n");
        return 1;
    }

    void *ctx = zmq_ctx_new();
    void *a = ctx ? zmq_socket(ctx, ZMQ_PAIR) : NULL;
    void *b = ctx ? zmq_socket(ctx, ZMQ_PAIR) : NULL;
    if (!a || !b || zmq_bind(a, "inproc://hello") != 0 || zmq_connect(b, "inproc://hello") != 0) {
        fprintf(stderr, "hello: setup failed: %s\n", zmq_strerror(zmq_errno()));
        return 1;
    }
    zmq_msg_t msg;
    zmq_msg_init_size(&msg, 5);
    memcpy(zmq_msg_data(&msg), "hello", 5);
    if (zmq_msg_send(&msg, b, 0) != 5) {
        fprintf(stderr, "hello: send failed: %s\n", zmq_strerror(zmq_errno()));
        return 1;
    }
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, a, 0) != 5 || memcmp(zmq_msg_data(&msg), "hello", 5) != 0) {
        fprintf(stderr, "hello: recv failed: %s\n", zmq_strerror(zmq_errno()));
        return 1;
    }
    zmq_msg_close(&msg);
    zmq_close(a);
    zmq_close(b);
    if (zmq_ctx_term(ctx) != 0) {
        fprintf(stderr, "hello: zmq_ctx_term failed: %s\n", zmq_strerror(zmq_errno()));
        return 1;
    }
    printf("hello: passed a message over inproc\n");
    return 0;
}
