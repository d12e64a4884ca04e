/* Volume, between two processes over tcp, bounded in time (an alarm fails it after 120 s):
 * - 1 GiB of 64-byte messages (1/N of it under ZMQRS_TEST_SCALE=N, see testutil.h) PUSH -> PULL, every one counted and its sequence number checked;
 * - one 512 MiB message, its bytes checked;
 * - a peer killed with SIGKILL in mid-stream and started again on the same endpoint: the
 *   sender (which connected) reconnects by itself and the new peer receives an unbroken run
 *   of what follows. */
#define _DEFAULT_SOURCE
#include "spawn.h"
#include "testutil.h"
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#define SMALL 64
#define SMALL_COUNT ((1u << 30) / SMALL / test_scale())
#define HUGE_SIZE ((size_t)512 << 20)

static int set_int(void *s, int option, int value) {
    return zmq_setsockopt(s, option, &value, sizeof value);
}

/* The byte at position i of the huge message. */
static unsigned char huge_byte(size_t i) { return (unsigned char)(i * 131 + (i >> 20)); }

/* The child (`test_stress_volume sender ENDPOINT`): connects a PUSH to `ep`, sends the small messages, then the huge one. */
static void sender(const char *ep) {
    void *ctx = zmq_ctx_new();
    void *push = zmq_socket(ctx, ZMQ_PUSH);
    CHECK_OK(zmq_connect(push, ep));
    unsigned char buf[SMALL];
    memset(buf, 7, sizeof buf);
    for (uint32_t i = 0; i < SMALL_COUNT; i++) {
        memcpy(buf, &i, sizeof i);
        CHECK(zmq_send(push, buf, SMALL, 0) == SMALL);
    }
    zmq_msg_t m;
    CHECK_OK(zmq_msg_init_size(&m, HUGE_SIZE));
    unsigned char *d = zmq_msg_data(&m);
    for (size_t i = 0; i < HUGE_SIZE; i++)
        d[i] = huge_byte(i);
    CHECK(zmq_msg_send(&m, push, 0) == (int)HUGE_SIZE);
    CHECK_OK(zmq_close(push));
    CHECK_OK(zmq_ctx_term(ctx));
    _exit(0);
}

static void test_a_gib_of_small_messages_and_a_huge_one(void) {
    void *ctx = zmq_ctx_new();
    void *pull = zmq_socket(ctx, ZMQ_PULL);
    CHECK_OK(set_int(pull, ZMQ_RCVTIMEO, 10000 * (int)test_scale()));
    char ep[256];
    bind_wildcard(pull, "tcp://127.0.0.1:*", ep, sizeof ep);
    pid_t pid = spawn_self((char *[]){"test_stress_volume", "sender", ep, NULL});
    CHECK(pid > 0);
    unsigned char buf[SMALL];
    for (uint32_t i = 0; i < SMALL_COUNT; i++) {
        CHECK(zmq_recv(pull, buf, sizeof buf, 0) == SMALL);
        uint32_t seq;
        memcpy(&seq, buf, sizeof seq);
        CHECK(seq == i);
    }
    zmq_msg_t m;
    CHECK_OK(zmq_msg_init(&m));
    CHECK(zmq_msg_recv(&m, pull, 0) == (int)HUGE_SIZE);
    const unsigned char *d = zmq_msg_data(&m);
    for (size_t i = 0; i < HUGE_SIZE; i += 4093)
        CHECK(d[i] == huge_byte(i));
    CHECK(d[HUGE_SIZE - 1] == huge_byte(HUGE_SIZE - 1));
    CHECK_OK(zmq_msg_close(&m));
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_OK(zmq_close(pull));
    CHECK_OK(zmq_ctx_term(ctx));
}

/* A PULL bound at `ep` (a fixed endpoint: the restarted peer binds it again) that reads
 * until killed. */
static void victim(const char *ep, int ready_fd) {
    void *ctx = zmq_ctx_new();
    void *pull = zmq_socket(ctx, ZMQ_PULL);
    CHECK_OK(zmq_bind(pull, ep));
    CHECK(write(ready_fd, "r", 1) == 1);
    char buf[16];
    for (;;)
        CHECK(zmq_recv(pull, buf, sizeof buf, 0) >= 0);
}

static void test_a_peer_killed_in_mid_stream_and_restarted(void) {
    /* A port of our own: bound by the first victim, bound again by the second. */
    char ep[256];
    {
        void *ctx = zmq_ctx_new();
        void *probe = zmq_socket(ctx, ZMQ_PULL);
        bind_wildcard(probe, "tcp://127.0.0.1:*", ep, sizeof ep);
        CHECK_OK(zmq_close(probe));
        CHECK_OK(zmq_ctx_term(ctx)); /* the port is free once the context is gone */
    }
    int ready[2];
    CHECK(pipe(ready) == 0);
    fflush(stdout);
    pid_t first = fork();
    CHECK(first >= 0);
    if (first == 0)
        victim(ep, ready[1]);
    char r;
    CHECK(read(ready[0], &r, 1) == 1);

    void *ctx = zmq_ctx_new();
    void *push = zmq_socket(ctx, ZMQ_PUSH);
    CHECK_OK(set_int(push, ZMQ_RECONNECT_IVL, 20));
    CHECK_OK(set_int(push, ZMQ_SNDTIMEO, 10000 * (int)test_scale()));
    CHECK_OK(zmq_connect(push, ep));
    uint32_t seq = 0;
    for (; seq < 200000; seq++)
        CHECK(zmq_send(push, &seq, sizeof seq, 0) == sizeof seq);
    CHECK(kill(first, SIGKILL) == 0);
    int status;
    CHECK(waitpid(first, &status, 0) == first && WIFSIGNALED(status));

    /* The new peer, on the same endpoint; meanwhile the sender queues up to its HWM. */
    void *pull = zmq_socket(ctx, ZMQ_PULL);
    CHECK_OK(set_int(pull, ZMQ_RCVTIMEO, 10000 * (int)test_scale()));
    CHECK_OK(zmq_bind(pull, ep));
    uint32_t got, expect = 0;
    int first_one = 1;
    for (int i = 0; i < 100000; i++, seq++) {
        CHECK(zmq_send(push, &seq, sizeof seq, 0) == sizeof seq);
        CHECK(zmq_recv(pull, &got, sizeof got, 0) == sizeof got);
        if (first_one) {
            expect = got; /* what was lost with the dead peer ends here */
            first_one = 0;
        }
        CHECK(got == expect); /* no gap after that */
        expect++;
    }
    CHECK(set_int(push, ZMQ_LINGER, 0) == 0 && set_int(pull, ZMQ_LINGER, 0) == 0);
    CHECK_OK(zmq_close(push));
    CHECK_OK(zmq_close(pull));
    CHECK_OK(zmq_ctx_term(ctx));
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "sender") == 0)
        sender(argv[2]);
    alarm(120 * test_scale());
    RUN(test_a_gib_of_small_messages_and_a_huge_one);
    RUN(test_a_peer_killed_in_mid_stream_and_restarted);
    return 0;
}
