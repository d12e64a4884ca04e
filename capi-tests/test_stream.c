/* ZMQ_STREAM over tcp, against plain TCP peers of the test (no ZMTP on the wire):
 * - a raw client talks to a STREAM server: connect notification, data in, reply out,
 *   close by an empty data part, disconnect notification of a client that hangs up;
 * - a STREAM client connects to a raw listening socket;
 * - ZMQ_CONNECT_ROUTING_ID names the next connection, also with ZMQ_IMMEDIATE (where the
 *   pipe only comes with the connection);
 * - ZMQ_STREAM_NOTIFY=0: no notifications;
 * - send semantics: unknown peer, MORE on data parts ignored, large data both ways. */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include "rawtcp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define TIMEO_MS 5000

static void *new_stream(void *ctx, int notify)
{
    void *s = zmq_socket(ctx, ZMQ_STREAM);
    CHECK_PTR(s);
    int linger = 0, timeo = TIMEO_MS;
    CHECK_OK(zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger));
    CHECK_OK(zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeo, sizeof timeo));
    CHECK_OK(zmq_setsockopt(s, ZMQ_SNDTIMEO, &timeo, sizeof timeo));
    if (notify >= 0)
        CHECK_OK(zmq_setsockopt(s, ZMQ_STREAM_NOTIFY, &notify, sizeof notify));
    return s;
}

/* Binds `s` on an ephemeral loopback port; returns the port. */
static int bind_ephemeral(void *s)
{
    CHECK_OK(zmq_bind(s, "tcp://127.0.0.1:*"));
    char ep[256];
    size_t len = sizeof ep;
    CHECK_OK(zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &len));
    const char *colon = strrchr(ep, ':');
    CHECK(colon != NULL);
    int port = atoi(colon + 1);
    CHECK(port > 0);
    return port;
}

static void set_timeouts(int fd)
{
    struct timeval tv = {TIMEO_MS / 1000, 0};
    CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
    CHECK(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0);
}

/* A plain TCP client connected to 127.0.0.1:port. */
static int tcp_connect(int port)
{
    int fd = raw_connect(port);
    set_timeouts(fd);
    return fd;
}

static void write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        CHECK(w > 0);
        p += w;
        n -= (size_t)w;
    }
}

static void read_exact(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        CHECK(r > 0);
        p += r;
        n -= (size_t)r;
    }
}

/* Receives one STREAM message: the routing id (copied into id, its size returned through
 * id_len) and the data part (into data, its size returned). */
static int recv_two(void *s, unsigned char *id, size_t *id_len, void *data, size_t cap)
{
    zmq_msg_t m;
    CHECK_OK(zmq_msg_init(&m));
    CHECK_OK(zmq_msg_recv(&m, s, 0));
    CHECK(zmq_msg_more(&m));
    CHECK(zmq_msg_size(&m) > 0 && zmq_msg_size(&m) <= 255);
    memcpy(id, zmq_msg_data(&m), zmq_msg_size(&m));
    *id_len = zmq_msg_size(&m);
    CHECK_OK(zmq_msg_close(&m));
    int n = zmq_recv(s, data, cap, 0);
    CHECK_OK(n);
    int more = 1;
    size_t sz = sizeof more;
    CHECK_OK(zmq_getsockopt(s, ZMQ_RCVMORE, &more, &sz));
    CHECK(more == 0);
    return n;
}

static void send_two(void *s, const unsigned char *id, size_t id_len, const void *data,
                     size_t n)
{
    CHECK((int)zmq_send(s, id, id_len, ZMQ_SNDMORE) == (int)id_len);
    CHECK((int)zmq_send(s, data, n, 0) == (int)n);
}

/* No message arrives on `s` within `ms`. */
static void expect_silence(void *s, int ms)
{
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    CHECK(zmq_poll(&it, 1, ms) == 0);
}

static void raw_client_to_stream_server(void)
{
    void *ctx = zmq_ctx_new();
    CHECK_PTR(ctx);
    void *server = new_stream(ctx, -1); /* notifications on by default */
    int port = bind_ephemeral(server);

    int c = tcp_connect(port);
    unsigned char id[256], id2[256], buf[256];
    size_t id_len, id2_len;

    /* Connect notification: [id][] with the peer's address as metadata. */
    zmq_msg_t m;
    CHECK_OK(zmq_msg_init(&m));
    CHECK_OK(zmq_msg_recv(&m, server, 0));
    CHECK(zmq_msg_more(&m));
    CHECK(zmq_msg_size(&m) == 5);
    CHECK(((unsigned char *)zmq_msg_data(&m))[0] == 0);
    const char *peer = zmq_msg_gets(&m, "Peer-Address");
    CHECK(peer != NULL && strcmp(peer, "127.0.0.1") == 0);
    memcpy(id, zmq_msg_data(&m), 5);
    id_len = 5;
    CHECK_OK(zmq_msg_close(&m));
    CHECK(zmq_recv(server, buf, sizeof buf, 0) == 0);

    /* Data in: the same routing id, the bytes as sent. */
    write_all(c, "hello", 5);
    CHECK(recv_two(server, id2, &id2_len, buf, sizeof buf) == 5);
    CHECK(id2_len == id_len && memcmp(id, id2, id_len) == 0);
    CHECK(memcmp(buf, "hello", 5) == 0);

    /* Reply out, raw; MORE on the data part is ignored (each data part is the last). */
    CHECK(zmq_send(server, id, id_len, ZMQ_SNDMORE) == (int)id_len);
    CHECK(zmq_send(server, "wor", 3, ZMQ_SNDMORE) == 3);
    send_two(server, id, id_len, "ld", 2);
    read_exact(c, buf, 5);
    CHECK(memcmp(buf, "world", 5) == 0);

    /* Large data both ways: the client's bytes come in chunks, in order. */
    enum { BIG = 100000 };
    static unsigned char big[BIG], got[BIG];
    for (int i = 0; i < BIG; i++)
        big[i] = (unsigned char)(i * 7 + 3);
    write_all(c, big, BIG);
    size_t total = 0;
    while (total < BIG) {
        static unsigned char chunk[BIG];
        int n = recv_two(server, id2, &id2_len, chunk, sizeof chunk);
        CHECK(n > 0 && (size_t)n <= BIG - total);
        CHECK(id2_len == id_len && memcmp(id, id2, id_len) == 0);
        memcpy(got + total, chunk, (size_t)n);
        total += (size_t)n;
    }
    CHECK(memcmp(big, got, BIG) == 0);
    send_two(server, id, id_len, big, BIG);
    read_exact(c, got, BIG);
    CHECK(memcmp(big, got, BIG) == 0);

    /* Close by an empty data part: the reply sent before it arrives, then EOF. */
    send_two(server, id, id_len, "bye", 3);
    send_two(server, id, id_len, "", 0);
    read_exact(c, buf, 3);
    CHECK(memcmp(buf, "bye", 3) == 0);
    CHECK(recv(c, buf, sizeof buf, 0) == 0);
    close(c);
    /* Closed by us: no notification. */
    expect_silence(server, 200);

    /* Sending to that peer now: it is gone. */
    CHECK_ERRNO(zmq_send(server, id, id_len, ZMQ_SNDMORE), EHOSTUNREACH);
    /* An id nobody has. */
    CHECK_ERRNO(zmq_send(server, "nobody", 6, ZMQ_SNDMORE), EHOSTUNREACH);

    /* A second client, another id; it hangs up: disconnect notification. */
    int c2 = tcp_connect(port);
    CHECK(recv_two(server, id2, &id2_len, buf, sizeof buf) == 0);
    CHECK(id2_len == 5 && memcmp(id, id2, 5) != 0);
    write_all(c2, "x", 1);
    CHECK(recv_two(server, id, &id_len, buf, sizeof buf) == 1);
    CHECK(id_len == id2_len && memcmp(id, id2, id_len) == 0);
    close(c2);
    CHECK(recv_two(server, id, &id_len, buf, sizeof buf) == 0);
    CHECK(id_len == id2_len && memcmp(id, id2, id_len) == 0);

    CHECK_OK(zmq_close(server));
    CHECK_OK(zmq_ctx_term(ctx));
}

static void stream_client_to_raw_server(void)
{
    void *ctx = zmq_ctx_new();
    CHECK_PTR(ctx);
    int port;
    int l = raw_listen(&port);
    void *client = new_stream(ctx, 1);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    CHECK_OK(zmq_connect(client, ep));
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    set_timeouts(s);
    /* No more connections: a reconnection after the hang-up below finds nobody. */
    close(l);

    unsigned char id[256], id2[256], buf[256];
    size_t id_len, id2_len;
    CHECK(recv_two(client, id, &id_len, buf, sizeof buf) == 0);
    CHECK(id_len == 5 && id[0] == 0);
    /* ZMQ_ROUTING_ID reads the id generated for the connection, as libzmq. */
    unsigned char rid[256];
    size_t rid_len = sizeof rid;
    CHECK_OK(zmq_getsockopt(client, ZMQ_ROUTING_ID, rid, &rid_len));
    CHECK(rid_len == id_len && memcmp(rid, id, id_len) == 0);

    /* Nothing but what we send goes on the wire (no greeting). */
    send_two(client, id, id_len, "GET / HTTP/1.0\r\n\r\n", 18);
    read_exact(s, buf, 18);
    CHECK(memcmp(buf, "GET / HTTP/1.0\r\n\r\n", 18) == 0);
    write_all(s, "HTTP/1.0 200 OK\r\n\r\nhi", 21);
    size_t total = 0;
    while (total < 21) {
        int n = recv_two(client, id2, &id2_len, buf + total, sizeof buf - total);
        CHECK(n > 0);
        CHECK(id2_len == id_len && memcmp(id, id2, id_len) == 0);
        total += (size_t)n;
    }
    CHECK(total == 21 && memcmp(buf, "HTTP/1.0 200 OK\r\n\r\nhi", 21) == 0);

    /* The server hangs up: disconnect notification. */
    close(s);
    CHECK(recv_two(client, id2, &id2_len, buf, sizeof buf) == 0);
    CHECK(id2_len == id_len && memcmp(id, id2, id_len) == 0);

    CHECK_OK(zmq_close(client));
    CHECK_OK(zmq_ctx_term(ctx));
}

static void connect_routing_id(void)
{
    void *ctx = zmq_ctx_new();
    CHECK_PTR(ctx);
    void *server = new_stream(ctx, 1);
    int port = bind_ephemeral(server);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);

    void *client = new_stream(ctx, 1);
    CHECK_ERRNO(zmq_setsockopt(client, ZMQ_CONNECT_ROUTING_ID, "", 0), EINVAL);
    CHECK_OK(zmq_setsockopt(client, ZMQ_CONNECT_ROUTING_ID, "peer-A", 6));
    CHECK_OK(zmq_connect(client, ep));
    /* The next connect gets a generated id again. */
    CHECK_OK(zmq_connect(client, ep));

    /* Usable at once: queued until the connection is up. */
    send_two(client, (const unsigned char *)"peer-A", 6, "ping", 4);

    unsigned char id[256], sid[256], buf[256];
    size_t id_len, sid_len;
    /* The client sees both connections come up: one named, one generated. */
    int named = 0, generated = 0;
    for (int i = 0; i < 2; i++) {
        CHECK(recv_two(client, id, &id_len, buf, sizeof buf) == 0);
        if (id_len == 6 && memcmp(id, "peer-A", 6) == 0)
            named++;
        else if (id_len == 5 && id[0] == 0)
            generated++;
    }
    CHECK(named == 1 && generated == 1);

    /* The server: two connect notifications and the ping, from the named connection. */
    int notes = 0;
    int pinged = 0;
    while (notes < 2 || !pinged) {
        int n = recv_two(server, sid, &sid_len, buf, sizeof buf);
        if (n == 0) {
            notes++;
        } else {
            CHECK(n == 4 && memcmp(buf, "ping", 4) == 0);
            pinged = 1;
            send_two(server, sid, sid_len, "pong", 4);
        }
    }
    CHECK(recv_two(client, id, &id_len, buf, sizeof buf) == 4);
    CHECK(id_len == 6 && memcmp(id, "peer-A", 6) == 0);
    CHECK(memcmp(buf, "pong", 4) == 0);

    CHECK_OK(zmq_close(client));
    CHECK_OK(zmq_close(server));
    CHECK_OK(zmq_ctx_term(ctx));
}

/* With ZMQ_IMMEDIATE the connection's pipe is made when the connection is up, long after
 * zmq_connect returned: it still gets the id set for that connect, and only that connect. */
static void connect_routing_id_immediate(void)
{
    void *ctx = zmq_ctx_new();
    CHECK_PTR(ctx);
    void *server = new_stream(ctx, 1);
    int port = bind_ephemeral(server);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);

    void *client = new_stream(ctx, 1);
    int one = 1;
    CHECK_OK(zmq_setsockopt(client, ZMQ_IMMEDIATE, &one, sizeof one));
    CHECK_OK(zmq_setsockopt(client, ZMQ_CONNECT_ROUTING_ID, "conn1", 5));
    CHECK_OK(zmq_connect(client, ep));

    unsigned char id[256], sid[256], buf[256];
    size_t id_len, sid_len;
    /* The connect notification carries the id of the connect. */
    CHECK(recv_two(client, id, &id_len, buf, sizeof buf) == 0);
    CHECK(id_len == 5 && memcmp(id, "conn1", 5) == 0);
    CHECK(recv_two(server, sid, &sid_len, buf, sizeof buf) == 0);

    /* Sending to that id reaches the peer, and its reply comes back under the id. */
    send_two(client, (const unsigned char *)"conn1", 5, "ping", 4);
    CHECK(recv_two(server, id, &id_len, buf, sizeof buf) == 4);
    CHECK(id_len == sid_len && memcmp(id, sid, sid_len) == 0);
    CHECK(memcmp(buf, "ping", 4) == 0);
    send_two(server, sid, sid_len, "pong", 4);
    CHECK(recv_two(client, id, &id_len, buf, sizeof buf) == 4);
    CHECK(id_len == 5 && memcmp(id, "conn1", 5) == 0);
    CHECK(memcmp(buf, "pong", 4) == 0);

    /* The next connect gets a generated id again. */
    CHECK_OK(zmq_connect(client, ep));
    CHECK(recv_two(client, id, &id_len, buf, sizeof buf) == 0);
    CHECK(id_len == 5 && id[0] == 0);

    CHECK_OK(zmq_close(client));
    CHECK_OK(zmq_close(server));
    CHECK_OK(zmq_ctx_term(ctx));
}

static void stream_notify_off(void)
{
    void *ctx = zmq_ctx_new();
    CHECK_PTR(ctx);
    void *server = new_stream(ctx, 0);
    int bad = 2;
    CHECK_ERRNO(zmq_setsockopt(server, ZMQ_STREAM_NOTIFY, &bad, sizeof bad), EINVAL);
    void *dealer = zmq_socket(ctx, ZMQ_DEALER);
    CHECK_PTR(dealer);
    int one = 1;
    CHECK_ERRNO(zmq_setsockopt(dealer, ZMQ_STREAM_NOTIFY, &one, sizeof one), EINVAL);
    CHECK_OK(zmq_close(dealer));
    int port = bind_ephemeral(server);

    int c = tcp_connect(port);
    expect_silence(server, 200);
    write_all(c, "data", 4);
    unsigned char id[256], buf[256];
    size_t id_len;
    /* The first message is the data itself. */
    CHECK(recv_two(server, id, &id_len, buf, sizeof buf) == 4);
    CHECK(memcmp(buf, "data", 4) == 0);
    send_two(server, id, id_len, "back", 4);
    read_exact(c, buf, 4);
    CHECK(memcmp(buf, "back", 4) == 0);
    close(c);
    expect_silence(server, 300);

    CHECK_OK(zmq_close(server));
    CHECK_OK(zmq_ctx_term(ctx));
}

/* ZMQ_ROUTER_RAW (deprecated in libzmq, still there): a ROUTER that speaks raw TCP as a STREAM
 * socket does, but drops what goes to an unknown peer unless ZMQ_ROUTER_MANDATORY is set. */
static void router_raw(void)
{
    void *ctx = zmq_ctx_new();
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    int on = 1, timeo = TIMEO_MS, linger = 0;
    CHECK_OK(zmq_setsockopt(router, ZMQ_ROUTER_RAW, &on, sizeof on));
    CHECK_OK(zmq_setsockopt(router, ZMQ_RCVTIMEO, &timeo, sizeof timeo));
    CHECK_OK(zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger));
    int port = bind_ephemeral(router);
    int c = tcp_connect(port);
    unsigned char id[256], id2[256], buf[256];
    size_t id_len, id2_len;
    CHECK(recv_two(router, id, &id_len, buf, sizeof buf) == 0); /* the connection */
    CHECK(id_len == 5 && id[0] == 0);
    write_all(c, "hello", 5);
    CHECK(recv_two(router, id2, &id2_len, buf, sizeof buf) == 5);
    CHECK(id2_len == id_len && memcmp(id, id2, id_len) == 0 && memcmp(buf, "hello", 5) == 0);
    send_two(router, id, id_len, "world", 5);
    read_exact(c, buf, 5);
    CHECK(memcmp(buf, "world", 5) == 0);
    /* An unknown peer: dropped, as ROUTER does; with ROUTER_MANDATORY, EHOSTUNREACH. */
    send_two(router, (const unsigned char *)"nobody", 6, "lost", 4);
    CHECK_OK(zmq_setsockopt(router, ZMQ_ROUTER_MANDATORY, &on, sizeof on));
    CHECK_ERRNO(zmq_send(router, "nobody", 6, ZMQ_SNDMORE), EHOSTUNREACH);
    /* An empty data part closes the connection. */
    send_two(router, id, id_len, "", 0);
    CHECK(recv(c, buf, sizeof buf, 0) == 0);
    close(c);
    CHECK_OK(zmq_close(router));
    CHECK_OK(zmq_ctx_term(ctx));
}

int main(void)
{
    RUN(raw_client_to_stream_server);
    RUN(stream_client_to_raw_server);
    RUN(connect_routing_id);
    RUN(connect_routing_id_immediate);
    RUN(stream_notify_off);
    RUN(router_raw);
    return 0;
}
