/* Security as far as this build has it: NULL only, and failing closed where a user asks for
 * more. The PLAIN options are refused (EINVAL) and ZMQ_MECHANISM stays NULL; a socket with a
 * ZAP domain refuses NULL connections while a ZAP handler is bound (it cannot ask it yet),
 * and goes on as libzmq does when none is bound. The monitor reports handshake failures
 * with libzmq's events and ZMQ_PROTOCOL_ERROR_* values. */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>

#include "rawtcp.h"

static void *ctx;

/* Each case runs in a context of its own: an inproc name (the ZAP handler's) is free again
 * only once a closed socket is reaped, which zmq_ctx_term waits for. */
#define RUN_IN_CONTEXT(fn)                                                          \
    do {                                                                            \
        ctx = zmq_ctx_new();                                                        \
        CHECK_PTR(ctx);                                                             \
        RUN(fn);                                                                    \
        CHECK_OK(zmq_ctx_term(ctx));                                                \
    } while (0)

static void *sock(int type)
{
    void *s = zmq_socket(ctx, type);
    CHECK_PTR(s);
    int linger = 0;
    CHECK_OK(zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger));
    return s;
}

static void set_int(void *s, int opt, int v)
{
    CHECK_OK(zmq_setsockopt(s, opt, &v, sizeof v));
}

/* Binds s on loopback (tcp or ipc) and writes the endpoint into ep. */
static void bind_any(void *s, const char *transport, char *ep, size_t cap)
{
    CHECK_OK(zmq_bind(s, strcmp(transport, "tcp") == 0 ? "tcp://127.0.0.1:*" : "ipc://*"));
    CHECK_OK(zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &cap));
}

/* A PAIR connected to s's monitor, for the given events. */
static void *monitor(void *s, const char *name, int events)
{
    CHECK_OK(zmq_socket_monitor(s, name, events));
    void *m = sock(ZMQ_PAIR);
    CHECK_OK(zmq_connect(m, name));
    return m;
}

/* The next monitor event within timeout_ms: its number (0 on timeout), value in *value. */
static int next_event(void *mon, int timeout_ms, unsigned *value)
{
    set_int(mon, ZMQ_RCVTIMEO, timeout_ms);
    unsigned char head[6];
    if (zmq_recv(mon, head, sizeof head, 0) != 6)
        return 0;
    char endpoint[256];
    CHECK(zmq_recv(mon, endpoint, sizeof endpoint, 0) >= 0);
    uint16_t ev;
    uint32_t v;
    memcpy(&ev, head, 2);
    memcpy(&v, head + 2, 4);
    if (value)
        *value = v;
    return ev;
}

/* Whether a message sent by `from` arrives at `to` within timeout_ms. */
static int delivered(void *from, void *to, int timeout_ms)
{
    set_int(from, ZMQ_SNDTIMEO, timeout_ms);
    set_int(to, ZMQ_RCVTIMEO, timeout_ms);
    if (zmq_send(from, "knock", 5, 0) != 5)
        return 0;
    char buf[16];
    return zmq_recv(to, buf, sizeof buf, 0) == 5;
}

static void test_plain_options_are_refused_and_the_mechanism_stays_null(void)
{
    void *s = sock(ZMQ_DEALER);
    int one = 1;
    CHECK_ERRNO(zmq_setsockopt(s, ZMQ_PLAIN_SERVER, &one, sizeof one), EINVAL);
    CHECK_ERRNO(zmq_setsockopt(s, ZMQ_PLAIN_USERNAME, "admin", 5), EINVAL);
    CHECK_ERRNO(zmq_setsockopt(s, ZMQ_PLAIN_PASSWORD, "secret", 6), EINVAL);
    int mechanism = -1;
    size_t len = sizeof mechanism;
    CHECK_OK(zmq_getsockopt(s, ZMQ_MECHANISM, &mechanism, &len));
    CHECK(mechanism == ZMQ_NULL);
    int server = -1;
    len = sizeof server;
    CHECK_OK(zmq_getsockopt(s, ZMQ_PLAIN_SERVER, &server, &len));
    CHECK(server == 0);
    CHECK(!zmq_has("plain"));
    CHECK(!zmq_has("curve"));
    CHECK_OK(zmq_close(s));
}

/* A client connects to a server whose ZAP domain is set: with a handler bound the handshake
 * fails (HANDSHAKE_FAILED_NO_DETAIL, EFAULT, as libzmq when it cannot ask ZAP) and nothing
 * gets through; the handler is never sent a request. */
static void refused_with_a_handler_bound(const char *transport)
{
    void *handler = sock(ZMQ_REP);
    CHECK_OK(zmq_bind(handler, "inproc://zeromq.zap.01"));
    void *server = sock(ZMQ_DEALER);
    CHECK_OK(zmq_setsockopt(server, ZMQ_ZAP_DOMAIN, "test", 4));
    void *mon = monitor(server, "inproc://monitor-refused",
                        ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                            ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    char ep[256];
    bind_any(server, transport, ep, sizeof ep);
    void *client = sock(ZMQ_DEALER);
    CHECK_OK(zmq_connect(client, ep));

    unsigned value = 0;
    CHECK(next_event(mon, 5000, &value) == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL);
    CHECK(value == EFAULT);
    CHECK(!delivered(client, server, 300));
    set_int(handler, ZMQ_RCVTIMEO, 0);
    char buf[16];
    CHECK_ERRNO(zmq_recv(handler, buf, sizeof buf, 0), EAGAIN);
    /* The client keeps trying; each attempt is refused the same way, never let in. */
    CHECK(next_event(mon, 5000, &value) == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL);

    CHECK_OK(zmq_close(client));
    CHECK_OK(zmq_close(mon));
    CHECK_OK(zmq_close(server));
    CHECK_OK(zmq_close(handler));
}

static void test_a_zap_domain_with_a_handler_bound_refuses_null_over_tcp(void)
{
    refused_with_a_handler_bound("tcp");
}

static void test_a_zap_domain_with_a_handler_bound_refuses_null_over_ipc(void)
{
    refused_with_a_handler_bound("ipc");
}

/* With no handler bound, libzmq ignores the ZAP domain (unless ZMQ_ZAP_ENFORCE_DOMAIN); so do
 * we. A handler bound with no domain set is not asked either. */
static void test_without_a_handler_or_a_domain_null_goes_on(void)
{
    for (int bound = 0; bound < 2; bound++) {
        if (bound) {
            CHECK_OK(zmq_ctx_term(ctx));
            ctx = zmq_ctx_new();
            CHECK_PTR(ctx);
        }
        void *handler = NULL;
        if (bound) {
            handler = sock(ZMQ_REP);
            CHECK_OK(zmq_bind(handler, "inproc://zeromq.zap.01"));
        }
        void *server = sock(ZMQ_DEALER);
        if (!bound)
            CHECK_OK(zmq_setsockopt(server, ZMQ_ZAP_DOMAIN, "test", 4));
        void *mon = monitor(server, bound ? "inproc://monitor-h" : "inproc://monitor-d",
                            ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL);
        char ep[256];
        bind_any(server, "tcp", ep, sizeof ep);
        void *client = sock(ZMQ_DEALER);
        CHECK_OK(zmq_connect(client, ep));
        CHECK(next_event(mon, 5000, NULL) == ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
        CHECK(delivered(client, server, 5000));
        CHECK(delivered(server, client, 5000));
        CHECK_OK(zmq_close(client));
        CHECK_OK(zmq_close(mon));
        CHECK_OK(zmq_close(server));
        if (handler)
            CHECK_OK(zmq_close(handler));
    }
}

/* A raw client sends `bytes` to a monitored server; returns the first handshake event the
 * server reports (and its value), then expects DISCONNECTED. */
static int handshake_event_for(const unsigned char *bytes, size_t len, unsigned *value)
{
    void *server = sock(ZMQ_DEALER);
    void *mon = monitor(server, "inproc://monitor-raw",
                        ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                            ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                            ZMQ_EVENT_DISCONNECTED);
    char ep[256];
    bind_any(server, "tcp", ep, sizeof ep);
    int port = atoi(strrchr(ep, ':') + 1);
    int fd = raw_connect(port);
    CHECK(write(fd, bytes, len) == (ssize_t)len);
    CHECK(closed_by_peer_within(fd, 5000));
    int ev = next_event(mon, 5000, value);
    if (ev != ZMQ_EVENT_DISCONNECTED)
        CHECK(next_event(mon, 5000, NULL) == ZMQ_EVENT_DISCONNECTED);
    close(fd);
    CHECK_OK(zmq_close(mon));
    CHECK_OK(zmq_close(server));
    return ev;
}

static void test_a_mechanism_mismatch_is_a_protocol_failure(void)
{
    unsigned char g[64];
    zmtp3_greeting(g, "PLAIN");
    unsigned value = 0;
    CHECK(handshake_event_for(g, sizeof g, &value) == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
    CHECK(value == (unsigned)ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH);
}

static void test_an_unexpected_handshake_command_is_a_protocol_failure(void)
{
    unsigned char b[64 + 9];
    zmtp3_greeting(b, "NULL");
    /* PING (TTL 0) where READY belongs. */
    const unsigned char ping[] = {0x04, 0x07, 0x04, 'P', 'I', 'N', 'G', 0x00, 0x00};
    memcpy(b + 64, ping, sizeof ping);
    unsigned value = 0;
    CHECK(handshake_event_for(b, sizeof b, &value) == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
    CHECK(value == (unsigned)ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND);
}

static void test_a_malformed_error_command_is_a_protocol_failure(void)
{
    unsigned char b[64 + 9];
    zmtp3_greeting(b, "NULL");
    /* ERROR whose reason length (5) runs past the command. */
    const unsigned char error[] = {0x04, 0x07, 0x05, 'E', 'R', 'R', 'O', 'R', 0x05};
    memcpy(b + 64, error, sizeof error);
    unsigned value = 0;
    CHECK(handshake_event_for(b, sizeof b, &value) == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
    CHECK(value == (unsigned)ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR);
}

/* libzmq raises the same event, but keeps such a connection open until HANDSHAKE_IVL
 * passes (its NULL mechanism notices the failure only at its next send); we close it at once. */
static void test_an_error_with_a_zap_status_is_an_authentication_failure(void)
{
    unsigned char b[64 + 12];
    zmtp3_greeting(b, "NULL");
    const unsigned char error[] = {0x04, 0x0a, 0x05, 'E', 'R', 'R', 'O', 'R', 0x03, '4', '0', '0'};
    memcpy(b + 64, error, sizeof error);
    unsigned value = 0;
    CHECK(handshake_event_for(b, sizeof b, &value) == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    CHECK(value == 400);
}

/* A connection that breaks in the handshake (not a protocol error) gives no detail. */
static void test_a_peer_that_hangs_up_in_the_handshake_gives_no_detail(void)
{
    void *server = sock(ZMQ_DEALER);
    void *mon = monitor(server, "inproc://monitor-hangup",
                        ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                            ZMQ_EVENT_DISCONNECTED);
    char ep[256];
    bind_any(server, "tcp", ep, sizeof ep);
    int fd = raw_connect(atoi(strrchr(ep, ':') + 1));
    unsigned char g[64];
    zmtp3_greeting(g, "NULL");
    CHECK(write(fd, g, 10) == 10);
    close(fd);
    CHECK(next_event(mon, 5000, NULL) == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL);
    CHECK(next_event(mon, 5000, NULL) == ZMQ_EVENT_DISCONNECTED);
    CHECK_OK(zmq_close(mon));
    CHECK_OK(zmq_close(server));
}

/* A framing error after the handshake (a frame over ZMQ_MAXMSGSIZE) is a plain disconnect,
 * no handshake event. */
static void test_a_framing_error_after_the_handshake_is_only_a_disconnect(void)
{
    unsigned char b[64];
    zmtp3_greeting(b, "NULL");
    /* READY with Socket-Type DEALER. */
    unsigned char frame[64];
    size_t n = 0;
    frame[n++] = 0x04;
    frame[n++] = 0; /* size, below */
    frame[n++] = 5;
    memcpy(frame + n, "READY", 5);
    n += 5;
    frame[n++] = 11;
    memcpy(frame + n, "Socket-Type", 11);
    n += 11;
    const unsigned char len[4] = {0, 0, 0, 6};
    memcpy(frame + n, len, 4);
    n += 4;
    memcpy(frame + n, "DEALER", 6);
    n += 6;
    frame[1] = (unsigned char)(n - 2);
    void *server = sock(ZMQ_DEALER);
    int64_t max = 64;
    CHECK_OK(zmq_setsockopt(server, ZMQ_MAXMSGSIZE, &max, sizeof max));
    void *mon = monitor(server, "inproc://monitor-framing",
                        ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                            ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_DISCONNECTED);
    char ep[256];
    bind_any(server, "tcp", ep, sizeof ep);
    int fd = raw_connect(atoi(strrchr(ep, ':') + 1));
    CHECK(write(fd, b, 64) == 64);
    CHECK(write(fd, frame, n) == (ssize_t)n);
    CHECK(next_event(mon, 5000, NULL) == ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    const unsigned char large[] = {0x00, 100}; /* a 100-byte frame, over ZMQ_MAXMSGSIZE */
    CHECK(write(fd, large, sizeof large) == (ssize_t)sizeof large);
    CHECK(closed_by_peer_within(fd, 5000));
    CHECK(next_event(mon, 5000, NULL) == ZMQ_EVENT_DISCONNECTED);
    close(fd);
    CHECK_OK(zmq_close(mon));
    CHECK_OK(zmq_close(server));
}

int main(void)
{
    RUN_IN_CONTEXT(test_plain_options_are_refused_and_the_mechanism_stays_null);
    RUN_IN_CONTEXT(test_a_zap_domain_with_a_handler_bound_refuses_null_over_tcp);
    RUN_IN_CONTEXT(test_a_zap_domain_with_a_handler_bound_refuses_null_over_ipc);
    RUN_IN_CONTEXT(test_without_a_handler_or_a_domain_null_goes_on);
    RUN_IN_CONTEXT(test_a_mechanism_mismatch_is_a_protocol_failure);
    RUN_IN_CONTEXT(test_an_unexpected_handshake_command_is_a_protocol_failure);
    RUN_IN_CONTEXT(test_a_malformed_error_command_is_a_protocol_failure);
    RUN_IN_CONTEXT(test_an_error_with_a_zap_status_is_an_authentication_failure);
    RUN_IN_CONTEXT(test_a_peer_that_hangs_up_in_the_handshake_gives_no_detail);
    RUN_IN_CONTEXT(test_a_framing_error_after_the_handshake_is_only_a_disconnect);
    return 0;
}
