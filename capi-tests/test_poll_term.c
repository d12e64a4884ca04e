/* zmq_poll on sockets, ZMQ_FD, RCVTIMEO, HWM, and zmq_ctx_term making a blocked recv return ETERM. */
#define _DEFAULT_SOURCE
#include "testutil.h"
#include <pthread.h>
#include <unistd.h>
static void *blocker(void *s) { char b[4]; int rc = zmq_recv(s, b, 4, 0); int e = zmq_errno(); CHECK(rc == -1 && e == ETERM); CHECK_OK(zmq_close(s)); return NULL; }
int main(void) {
    void *ctx = zmq_ctx_new();
    void *a = zmq_socket(ctx, ZMQ_PULL), *b = zmq_socket(ctx, ZMQ_PUSH);
    CHECK_OK(zmq_bind(a, "inproc://p")); CHECK_OK(zmq_connect(b, "inproc://p"));
    zmq_pollitem_t it[] = {{a, 0, ZMQ_POLLIN, 0}};
    CHECK(zmq_poll(it, 1, 10) == 0);
    CHECK(zmq_send(b, "x", 1, 0) == 1);
    CHECK(zmq_poll(it, 1, 1000) == 1 && it[0].revents == ZMQ_POLLIN);
    char buf[4]; CHECK(zmq_recv(a, buf, 4, 0) == 1);
    int fd; size_t sz = sizeof fd; CHECK_OK(zmq_getsockopt(a, ZMQ_FD, &fd, &sz));
    int hwm = 5; CHECK_OK(zmq_setsockopt(b, ZMQ_SNDHWM, &hwm, sizeof hwm));
    int t = 50; CHECK_OK(zmq_setsockopt(a, ZMQ_RCVTIMEO, &t, sizeof t));
    CHECK_ERRNO(zmq_recv(a, buf, 4, 0), EAGAIN);
    int n = 0; while (zmq_send(b, "y", 1, ZMQ_DONTWAIT) == 1) n++;
    printf("sent until HWM: %d\n", n);
    /* New SNDHWM 5 applies to the existing pipe: 5 + the PULL side RCVHWM 1000, and one
       slot is still held by "x" (credit comes back per LWM). */
    CHECK(n == 1004);
    void *c = zmq_socket(ctx, ZMQ_PAIR); CHECK_OK(zmq_bind(c, "inproc://blk"));
    pthread_t th; pthread_create(&th, NULL, blocker, c);
    usleep(50000);
    CHECK_OK(zmq_close(a)); CHECK_OK(zmq_close(b));
    CHECK_OK(zmq_ctx_term(ctx));
    pthread_join(th, NULL);
    printf("ok\n"); return 0;
}
