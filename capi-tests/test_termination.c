/* Closing and terminating in awkward states: an unfinished multipart message spanning the
 * pipe's internal chunks, a PUSH whose peer goes away, a DEALER that loses a peer while a
 * message is in progress, a closed socket whose peer never reads, and a forked child that
 * closes its copy of the parent's context. */
#define _DEFAULT_SOURCE
#include "testutil.h"
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_close_with_unfinished_multipart_across_chunks(void) {
    void *ctx = zmq_ctx_new();
    void *push = zmq_socket(ctx, ZMQ_PUSH), *pull = zmq_socket(ctx, ZMQ_PULL);
    CHECK_OK(zmq_bind(push, "inproc://chunks"));
    CHECK_OK(zmq_connect(pull, "inproc://chunks"));
    for (int i = 0; i < 250; i++)
        CHECK(zmq_send(push, "m", 1, 0) == 1);
    for (int i = 0; i < 10; i++)
        CHECK(zmq_send(push, "p", 1, ZMQ_SNDMORE) == 1);
    CHECK_OK(zmq_close(push));
    /* the 250 complete messages arrive; the unfinished one never does */
    char buf[4];
    for (int i = 0; i < 250; i++)
        CHECK(zmq_recv(pull, buf, sizeof buf, 0) == 1 && buf[0] == 'm');
    CHECK_ERRNO(zmq_recv(pull, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    CHECK_OK(zmq_close(pull));
    CHECK_OK(zmq_ctx_term(ctx));
}

static void test_disconnect_with_unfinished_multipart(void) {
    void *ctx = zmq_ctx_new();
    void *push = zmq_socket(ctx, ZMQ_PUSH), *pull = zmq_socket(ctx, ZMQ_PULL);
    CHECK_OK(zmq_bind(pull, "inproc://unfinished"));
    CHECK_OK(zmq_connect(push, "inproc://unfinished"));
    for (int i = 0; i < 250; i++)
        CHECK(zmq_send(push, "m", 1, 0) == 1);
    for (int i = 0; i < 10; i++)
        CHECK(zmq_send(push, "p", 1, ZMQ_SNDMORE) == 1);
    CHECK_OK(zmq_disconnect(push, "inproc://unfinished"));
    CHECK_OK(zmq_close(push));
    CHECK_OK(zmq_close(pull));
    CHECK_OK(zmq_ctx_term(ctx));
}

static void test_push_outlives_its_pulls(void) {
    void *ctx = zmq_ctx_new();
    void *push = zmq_socket(ctx, ZMQ_PUSH);
    CHECK_OK(zmq_bind(push, "inproc://outlive"));
    for (int round = 0; round < 20; round++) {
        void *pull = zmq_socket(ctx, ZMQ_PULL);
        CHECK_OK(zmq_connect(pull, "inproc://outlive"));
        CHECK_OK(zmq_close(pull));
        /* let the PUSH see the connection and its end */
        int events;
        size_t sz = sizeof events;
        CHECK_OK(zmq_getsockopt(push, ZMQ_EVENTS, &events, &sz));
    }
    /* the last PULL gets what is sent now, whatever happened to the others */
    void *pull = zmq_socket(ctx, ZMQ_PULL);
    CHECK_OK(zmq_connect(pull, "inproc://outlive"));
    /* a message can still go to a pipe whose end the PUSH has not seen yet (as in libzmq):
       retry until one arrives */
    int timeout = 100, got = 0;
    CHECK_OK(zmq_setsockopt(pull, ZMQ_RCVTIMEO, &timeout, sizeof timeout));
    char buf[2];
    for (int i = 0; i < 50 && !got; i++) {
        CHECK(zmq_send(push, "x", 1, 0) == 1);
        got = zmq_recv(pull, buf, sizeof buf, 0) == 1;
    }
    CHECK(got);
    CHECK_OK(zmq_close(pull));
    CHECK_OK(zmq_close(push));
    CHECK_OK(zmq_ctx_term(ctx));
}

static void test_dealer_keeps_a_message_on_its_pipe_when_another_peer_leaves(void) {
    void *ctx = zmq_ctx_new();
    void *dealer = zmq_socket(ctx, ZMQ_DEALER);
    void *peers[3];
    const char *names[3] = {"inproc://pa", "inproc://pb", "inproc://pc"};
    for (int i = 0; i < 3; i++) {
        peers[i] = zmq_socket(ctx, ZMQ_DEALER);
        CHECK_OK(zmq_bind(peers[i], names[i]));
        CHECK_OK(zmq_connect(dealer, names[i]));
    }
    CHECK(zmq_send(dealer, "1", 1, 0) == 1);
    CHECK(zmq_send(dealer, "2", 1, 0) == 1);
    CHECK(zmq_send(dealer, "part1", 5, ZMQ_SNDMORE) == 5); /* goes to the third peer */
    CHECK_OK(zmq_disconnect(dealer, names[1]));
    CHECK(zmq_send(dealer, "part2", 5, 0) == 5);
    char buf[8];
    int more;
    size_t sz = sizeof more;
    CHECK(zmq_recv(peers[2], buf, sizeof buf, 0) == 5 && memcmp(buf, "part1", 5) == 0);
    CHECK_OK(zmq_getsockopt(peers[2], ZMQ_RCVMORE, &more, &sz));
    CHECK(more == 1);
    CHECK(zmq_recv(peers[2], buf, sizeof buf, 0) == 5 && memcmp(buf, "part2", 5) == 0);
    CHECK_OK(zmq_close(dealer));
    for (int i = 0; i < 3; i++)
        CHECK_OK(zmq_close(peers[i]));
    CHECK_OK(zmq_ctx_term(ctx));
}

static void test_linger_does_not_spin_the_reaper(void) {
    void *ctx = zmq_ctx_new();
    void *push = zmq_socket(ctx, ZMQ_PUSH), *pull = zmq_socket(ctx, ZMQ_PULL);
    CHECK_OK(zmq_bind(pull, "inproc://linger"));
    CHECK_OK(zmq_connect(push, "inproc://linger"));
    int linger = 50;
    CHECK_OK(zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger));
    CHECK(zmq_send(push, "late", 4, 0) == 4);
    CHECK_OK(zmq_close(push));
    clock_t before = clock();
    usleep(300 * 1000);
    /* the reaper waits for the peer without burning CPU (well under the 300 ms slept) */
    CHECK((double)(clock() - before) / CLOCKS_PER_SEC < 0.1);
    char buf[8];
    CHECK(zmq_recv(pull, buf, sizeof buf, 0) == 4); /* the message is still delivered */
    CHECK_OK(zmq_close(pull));
    CHECK_OK(zmq_ctx_term(ctx));
}

static void test_many_unclaimed_connects_do_not_hang_term(void) {
    void *ctx = zmq_ctx_new();
    void *push = zmq_socket(ctx, ZMQ_PUSH);
    char ep[64];
    for (int i = 0; i < 1100; i++) {
        snprintf(ep, sizeof ep, "inproc://unclaimed-%d", i);
        CHECK_OK(zmq_connect(push, ep));
    }
    CHECK_OK(zmq_close(push));
    CHECK_OK(zmq_ctx_term(ctx));
}

static void test_forked_child_drops_the_parents_context_and_uses_its_own(void) {
    /* libzmq's test_fork: the child closes its copies of the parent's socket and context
     * (which must return, not wait for threads the child does not have), then talks to the
     * parent through a new context. The parent's context is untouched by all that. */
    void *ctx = zmq_ctx_new();
    void *pull = zmq_socket(ctx, ZMQ_PULL);
    CHECK_OK(zmq_bind(pull, "tcp://127.0.0.1:*"));
    char ep[256];
    size_t len = sizeof ep;
    CHECK_OK(zmq_getsockopt(pull, ZMQ_LAST_ENDPOINT, ep, &len));
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(10);
        if (zmq_close(pull) != 0 || zmq_ctx_term(ctx) != 0)
            _exit(2);
        void *child_ctx = zmq_ctx_new();
        void *push = zmq_socket(child_ctx, ZMQ_PUSH);
        if (!push || zmq_connect(push, ep) != 0)
            _exit(3);
        for (int i = 0; i < 5; i++)
            if (zmq_send(push, "hello", 5, 0) != 5)
                _exit(4);
        zmq_close(push);
        _exit(zmq_ctx_term(child_ctx) == 0 ? 0 : 5);
    }
    int timeo = 5000;
    CHECK_OK(zmq_setsockopt(pull, ZMQ_RCVTIMEO, &timeo, sizeof timeo));
    char buf[8];
    for (int i = 0; i < 5; i++)
        CHECK(zmq_recv(pull, buf, sizeof buf, 0) == 5 && memcmp(buf, "hello", 5) == 0);
    int status;
    while (waitpid(pid, &status, 0) == -1)
        CHECK(errno == EINTR);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* The parent's sockets still work after the child's close and term. */
    void *push = zmq_socket(ctx, ZMQ_PUSH);
    CHECK_OK(zmq_connect(push, ep));
    CHECK(zmq_send(push, "after", 5, 0) == 5);
    CHECK(zmq_recv(pull, buf, sizeof buf, 0) == 5 && memcmp(buf, "after", 5) == 0);
    CHECK_OK(zmq_close(push));
    CHECK_OK(zmq_close(pull));
    CHECK_OK(zmq_ctx_term(ctx));
}

int main(void) {
    RUN(test_close_with_unfinished_multipart_across_chunks);
    RUN(test_disconnect_with_unfinished_multipart);
    RUN(test_push_outlives_its_pulls);
    RUN(test_dealer_keeps_a_message_on_its_pipe_when_another_peer_leaves);
    RUN(test_linger_does_not_spin_the_reaper);
    RUN(test_many_unclaimed_connects_do_not_hang_term);
    /* A child that forks from a process whose threads run, and then allocates, hangs under
     * this gcc's sanitizer runtimes (ASan's allocator lock is not taken around fork; TSan
     * refuses the child's threads). The case runs in the normal suite. */
    if (getenv("ZMQRS_SANITIZER"))
        printf("  skipped under the sanitizers: "
               "test_forked_child_drops_the_parents_context_and_uses_its_own\n");
    else
        RUN(test_forked_child_drops_the_parents_context_and_uses_its_own);
    return 0;
}
