/* PUSH/PULL: a pipeline; the pusher queues ten tasks, the puller takes them in order. */
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#define TASKS 10

static int fail(const char *what)
{
    fprintf(stderr, "pushpull: %s failed: %s\n", what, zmq_strerror(zmq_errno()));
    return 1;
}

int main(void)
{
    void *ctx = zmq_ctx_new();
    if (!ctx)
        return fail("zmq_ctx_new");
    void *push = zmq_socket(ctx, ZMQ_PUSH);
    void *pull = zmq_socket(ctx, ZMQ_PULL);
    if (!push || !pull)
        return fail("zmq_socket");
    if (zmq_bind(pull, "inproc://example-pipeline") != 0)
        return fail("zmq_bind");
    if (zmq_connect(push, "inproc://example-pipeline") != 0)
        return fail("zmq_connect");

    for (int i = 0; i < TASKS; i++) {
        char task[16];
        int len = snprintf(task, sizeof task, "task %d", i);
        if (zmq_send(push, task, (size_t)len, 0) != len)
            return fail("zmq_send");
    }
    printf("pushpull: pushed %d tasks\n", TASKS);

    for (int i = 0; i < TASKS; i++) {
        char expected[16], buf[16];
        int len = snprintf(expected, sizeof expected, "task %d", i);
        int n = zmq_recv(pull, buf, sizeof buf, 0);
        if (n < 0)
            return fail("zmq_recv");
        if (n != len || memcmp(buf, expected, (size_t)len) != 0) {
            fprintf(stderr, "pushpull: got \"%.*s\", expected \"%s\"\n", n, buf, expected);
            return 1;
        }
    }
    printf("pushpull: pulled %d tasks in order\n", TASKS);

    zmq_close(push);
    zmq_close(pull);
    if (zmq_ctx_term(ctx) != 0)
        return fail("zmq_ctx_term");
    printf("pushpull: ok\n");
    return 0;
}
