/* Interop with peers of the old protocol revisions, written here as raw TCP code since no
 * libzmq 2.x / 3.x is at hand:
 *   - ZMTP 1.0 (libzmq 2.x, 13/ZMTP): no greeting; the first frame is the identity. Frames:
 *     length (counting the flags byte) in 1 byte, or FF + 8 bytes; flags (MORE = 1); body.
 *   - ZMTP 1.0 with a greeting (revision 0): the 12-byte greeting below, then 1.0 frames.
 *   - ZMTP 2.0 (libzmq 3.x, 15/ZMTP): greeting FF, 8 bytes, 7F, revision 01, socket type;
 *     then the identity frame. Frames: flags (MORE = 1, LONG = 2), size in 1 or 8 bytes, body.
 * Our sockets bind (the old peer connects) and connect (to an old peer listening); messages
 * go both ways, multipart, empty and long; identities become routing ids; subscriptions
 * travel as messages (first byte 1 = subscribe, 0 = cancel); incompatible socket types are
 * refused; we greet as 23/ZMTP's backwards-compatibility section says (signature first, the
 * rest only after the peer's revision), so that a 1.0 peer is detected; and no ZMTP 3.1
 * command (PING) is ever sent to an old peer.
 *
 * usage: test_legacy_peer [NAME-PART]   (only the tests whose name contains NAME-PART;
 *        LEGACY_VERBOSE=1 names each revision and side as it runs) */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include "rawtcp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 2000

/* How the old peer greets. */
enum { V10 = 1, V10_REV0 = 2, V20 = 3 };

static const char *ver_name(int ver)
{
    return ver == V10 ? "1.0" : ver == V10_REV0 ? "1.0+greeting" : "2.0";
}

/* One of our sockets and the raw old peer at the other end of its connection. */
typedef struct {
    void *ctx;
    void *sock;
    int our_type;
    int fd;
    int ver;
    int framing; /* 1 or 2 */
    /* The identity our socket announced, as the old peer read it. */
    unsigned char our_id[256];
    size_t our_id_len;
} conn_t;

/* ---- raw I/O */


static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)v;
        v >>= 8;
    }
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Reads exactly n bytes within timeout_ms: 1, or 0 on timeout, EOF or error. */
static int read_exact(int fd, void *buf, size_t n, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    unsigned char *p = buf;
    while (n > 0) {
        long left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd pfd = {fd, POLLIN, 0};
        int rc = poll(&pfd, 1, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            return 0;
        ssize_t r = read(fd, p, n);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0)
            return 0;
        p += r;
        n -= (size_t)r;
    }
    return 1;
}

#define READ(fd, buf, n) CHECK(read_exact((fd), (buf), (n), TIMEOUT_MS))

static void write_all(int fd, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        CHECK(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

/* Nothing arrives (and the connection stays open) for ms milliseconds. */
static int quiet_for(int fd, int ms)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    int rc;
    do
        rc = poll(&pfd, 1, ms);
    while (rc < 0 && errno == EINTR);
    return rc == 0;
}


/* The raw peer writes frame headers and bodies apart: no Nagle delay between them. */
static void no_delay(int fd)
{
    int one = 1;
    CHECK(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0);
}

static int peer_connect(int port)
{
    int fd = raw_connect(port);
    no_delay(fd);
    return fd;
}


static int raw_accept(int lfd)
{
    struct pollfd pfd = {lfd, POLLIN, 0};
    CHECK(poll(&pfd, 1, TIMEOUT_MS) == 1);
    int fd = accept(lfd, NULL, NULL);
    CHECK(fd >= 0);
    no_delay(fd);
    return fd;
}

/* ---- the old peer's framing */

static void peer_send_frame(const conn_t *c, const void *data, size_t len, int more)
{
    unsigned char hdr[10];
    size_t h = 0;
    if (c->framing == 2) {
        hdr[h++] = (unsigned char)((more ? 1 : 0) | (len > 255 ? 2 : 0));
        if (len > 255) {
            put_u64(hdr + h, len);
            h += 8;
        } else {
            hdr[h++] = (unsigned char)len;
        }
    } else {
        uint64_t l = (uint64_t)len + 1;
        if (l < 255) {
            hdr[h++] = (unsigned char)l;
        } else {
            hdr[h++] = 0xFF;
            put_u64(hdr + h, l);
            h += 8;
        }
        hdr[h++] = more ? 1 : 0;
    }
    write_all(c->fd, hdr, h);
    if (len > 0)
        write_all(c->fd, data, len);
}

/* Reads one frame into buf (it must fit); its size, and its MORE flag in *more. Any flag
 * the old framing does not know (such as ZMTP 3.x's COMMAND) fails the test. */
static size_t peer_recv_frame(const conn_t *c, void *buf, size_t cap, int *more,
                              int timeout_ms)
{
    unsigned char b[8];
    uint64_t len;
    unsigned flags;
    if (c->framing == 2) {
        CHECK(read_exact(c->fd, b, 1, timeout_ms));
        flags = b[0];
        if (flags & ~3u)
            fprintf(stderr, "ZMTP 2.0 frame with flags %#x\n", flags);
        CHECK((flags & ~3u) == 0);
        if (flags & 2) {
            READ(c->fd, b, 8);
            len = get_u64(b);
        } else {
            READ(c->fd, b, 1);
            len = b[0];
        }
    } else {
        CHECK(read_exact(c->fd, b, 1, timeout_ms));
        if (b[0] == 0xFF) {
            READ(c->fd, b, 8);
            len = get_u64(b);
        } else {
            len = b[0];
        }
        CHECK(len >= 1);
        len -= 1;
        READ(c->fd, b, 1);
        flags = b[0];
        CHECK((flags & ~1u) == 0);
    }
    CHECK(len <= cap);
    if (len > 0)
        READ(c->fd, buf, (size_t)len);
    *more = (int)(flags & 1);
    return (size_t)len;
}

/* ---- messages */

typedef struct {
    int n;
    const void *part[4];
    size_t len[4];
} tmsg_t;

static unsigned char big[300];      /* above 255: the long frame forms */
static unsigned char huge[100000];  /* more than a socket buffer */
static unsigned char frame_buf[sizeof huge];

static const tmsg_t cases[] = {
    {1, {"hello"}, {5}},
    {3, {"multi", "", "part"}, {5, 0, 4}},
    {1, {""}, {0}},
    {1, {big}, {sizeof big}},
    {2, {"head", huge}, {4, sizeof huge}},
    {2, {big, "tail"}, {sizeof big, 4}},
};
#define NCASES (sizeof cases / sizeof cases[0])

static const tmsg_t empty_env = {1, {""}, {0}};

static tmsg_t one(const void *data, size_t len)
{
    tmsg_t m = {1, {data}, {len}};
    return m;
}

static void ours_send(void *s, const tmsg_t *env, const tmsg_t *m)
{
    for (int i = 0; env && i < env->n; i++)
        CHECK(zmq_send(s, env->part[i], env->len[i], ZMQ_SNDMORE) == (int)env->len[i]);
    for (int i = 0; i < m->n; i++)
        CHECK(zmq_send(s, m->part[i], m->len[i], i + 1 < m->n ? ZMQ_SNDMORE : 0) ==
              (int)m->len[i]);
}

static void ours_expect_part(void *s, const void *data, size_t len, int more)
{
    zmq_msg_t msg;
    CHECK_OK(zmq_msg_init(&msg));
    int n = zmq_msg_recv(&msg, s, 0);
    if (n != (int)len)
        fprintf(stderr, "received %d bytes, expected %zu\n", n, len);
    CHECK(n == (int)len);
    CHECK(len == 0 || memcmp(zmq_msg_data(&msg), data, len) == 0);
    CHECK(zmq_msg_more(&msg) == more);
    CHECK_OK(zmq_msg_close(&msg));
}

static void ours_expect(void *s, const tmsg_t *env, const tmsg_t *m)
{
    for (int i = 0; env && i < env->n; i++)
        ours_expect_part(s, env->part[i], env->len[i], 1);
    for (int i = 0; i < m->n; i++)
        ours_expect_part(s, m->part[i], m->len[i], i + 1 < m->n);
}

static void peer_send(const conn_t *c, const tmsg_t *env, const tmsg_t *m)
{
    for (int i = 0; env && i < env->n; i++)
        peer_send_frame(c, env->part[i], env->len[i], 1);
    for (int i = 0; i < m->n; i++)
        peer_send_frame(c, m->part[i], m->len[i], i + 1 < m->n);
}

static void peer_expect_part(const conn_t *c, const void *data, size_t len, int more)
{
    int m;
    size_t n = peer_recv_frame(c, frame_buf, sizeof frame_buf, &m, TIMEOUT_MS);
    if (n != len)
        fprintf(stderr, "old peer received %zu bytes, expected %zu\n", n, len);
    CHECK(n == len);
    CHECK(len == 0 || memcmp(frame_buf, data, len) == 0);
    CHECK(m == more);
}

static void peer_expect(const conn_t *c, const tmsg_t *env, const tmsg_t *m)
{
    for (int i = 0; env && i < env->n; i++)
        peer_expect_part(c, env->part[i], env->len[i], 1);
    for (int i = 0; i < m->n; i++)
        peer_expect_part(c, m->part[i], m->len[i], i + 1 < m->n);
}

/* ---- connections */

/* Our socket of the given type, with short timeouts (and a routing id, if not NULL). */
static void conn_socket(conn_t *c, int ver, int our_type, const char *our_id)
{
    memset(c, 0, sizeof *c);
    c->ver = ver;
    c->framing = ver == V20 ? 2 : 1;
    c->our_type = our_type;
    c->fd = -1;
    c->ctx = zmq_ctx_new();
    CHECK_PTR(c->ctx);
    c->sock = zmq_socket(c->ctx, our_type);
    CHECK_PTR(c->sock);
    int linger = 0, timeo = TIMEOUT_MS;
    CHECK_OK(zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof linger));
    CHECK_OK(zmq_setsockopt(c->sock, ZMQ_RCVTIMEO, &timeo, sizeof timeo));
    CHECK_OK(zmq_setsockopt(c->sock, ZMQ_SNDTIMEO, &timeo, sizeof timeo));
    if (our_id)
        CHECK_OK(zmq_setsockopt(c->sock, ZMQ_ROUTING_ID, our_id, strlen(our_id)));
}

/* The TCP connection between our socket and the raw peer: ours binds and the peer
 * connects, or the peer listens and ours connects. */
static void conn_tcp(conn_t *c, int binds)
{
    if (binds) {
        CHECK_OK(zmq_bind(c->sock, "tcp://127.0.0.1:*"));
        char ep[256];
        size_t len = sizeof ep;
        CHECK_OK(zmq_getsockopt(c->sock, ZMQ_LAST_ENDPOINT, ep, &len));
        const char *colon = strrchr(ep, ':');
        CHECK(colon != NULL);
        c->fd = peer_connect(atoi(colon + 1));
    } else {
        int port;
        int lfd = raw_listen(&port);
        char ep[64];
        snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
        CHECK_OK(zmq_connect(c->sock, ep));
        c->fd = raw_accept(lfd);
        close(lfd);
    }
}

/* The old peer's side of the greeting: it sends all of its greeting and identity at once,
 * as old libzmq does, then reads ours and checks it. */
static void peer_greet(conn_t *c, int peer_type, const void *id, size_t idlen)
{
    unsigned char g[12];
    if (c->ver == V10) {
        peer_send_frame(c, id, idlen, 0);
        /* Our signature, read as the header of a 1.0 identity frame: FF, the length
         * (identity + 1), flags 7F; then the identity itself. */
        READ(c->fd, g, 10);
        CHECK(g[0] == 0xFF && g[9] == 0x7F);
        uint64_t l = get_u64(g + 1);
        CHECK(l >= 1 && l <= 256);
        c->our_id_len = (size_t)(l - 1);
        if (c->our_id_len > 0)
            READ(c->fd, c->our_id, c->our_id_len);
        return;
    }
    g[0] = 0xFF;
    put_u64(g + 1, (uint64_t)idlen + 1);
    g[9] = 0x7F;
    g[10] = c->ver == V20 ? 1 : 0;
    g[11] = (unsigned char)peer_type;
    write_all(c->fd, g, sizeof g);
    peer_send_frame(c, id, idlen, 0);
    /* Ours: the signature, our major version 3, then (the peer being older) our socket
     * type in place of the minor version; then our identity frame in the peer's framing. */
    READ(c->fd, g, 12);
    CHECK(g[0] == 0xFF && g[9] == 0x7F);
    CHECK(g[10] == 3);
    CHECK(g[11] == c->our_type);
    int more;
    c->our_id_len = peer_recv_frame(c, c->our_id, sizeof c->our_id, &more, TIMEOUT_MS);
    CHECK(!more);
    CHECK(get_u64(g + 1) == c->our_id_len + 1);
}

/* Our socket, connected to an old peer of type peer_type with identity peer_id. */
static void conn_open(conn_t *c, int ver, int our_type, int peer_type, int binds,
                      const char *peer_id, const char *our_id)
{
    conn_socket(c, ver, our_type, our_id);
    conn_tcp(c, binds);
    peer_greet(c, peer_type, peer_id, strlen(peer_id));
    const char *expect = our_id ? our_id : "";
    CHECK(c->our_id_len == strlen(expect));
    CHECK(memcmp(c->our_id, expect, c->our_id_len) == 0);
}

static void conn_close(conn_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    CHECK_OK(zmq_close(c->sock));
    CHECK_OK(zmq_ctx_term(c->ctx));
}

/* Runs the block with `ver` each old revision and `binds` 0 (ours connects) and 1. */
#define FOR_VERSIONS_AND_SIDES(...)                                                 \
    do {                                                                            \
        static const int vers_[] = {V10, V10_REV0, V20};                            \
        for (size_t vi_ = 0; vi_ < sizeof vers_ / sizeof vers_[0]; vi_++)           \
            for (int binds = 0; binds < 2; binds++) {                               \
                int ver = vers_[vi_];                                               \
                if (getenv("LEGACY_VERBOSE"))                                       \
                    fprintf(stderr, "    ZMTP %s, ours %s\n", ver_name(ver),        \
                            binds ? "binds" : "connects");                          \
                __VA_ARGS__                                                         \
            }                                                                       \
    } while (0)

/* ---- tests */

static void test_pair(void)
{
    FOR_VERSIONS_AND_SIDES({
        conn_t c;
        conn_open(&c, ver, ZMQ_PAIR, ZMQ_PAIR, binds, "", NULL);
        for (size_t i = 0; i < NCASES; i++) {
            peer_send(&c, NULL, &cases[i]);
            ours_expect(c.sock, NULL, &cases[i]);
            ours_send(c.sock, NULL, &cases[i]);
            peer_expect(&c, NULL, &cases[i]);
        }
        conn_close(&c);
    });
}

static void test_push_to_old_pull(void)
{
    FOR_VERSIONS_AND_SIDES({
        conn_t c;
        conn_open(&c, ver, ZMQ_PUSH, ZMQ_PULL, binds, "old-pull", NULL);
        for (size_t i = 0; i < NCASES; i++)
            ours_send(c.sock, NULL, &cases[i]);
        for (size_t i = 0; i < NCASES; i++)
            peer_expect(&c, NULL, &cases[i]);
        conn_close(&c);
    });
}

static void test_pull_from_old_push(void)
{
    FOR_VERSIONS_AND_SIDES({
        conn_t c;
        conn_open(&c, ver, ZMQ_PULL, ZMQ_PUSH, binds, "", NULL);
        for (size_t i = 0; i < NCASES; i++)
            peer_send(&c, NULL, &cases[i]);
        for (size_t i = 0; i < NCASES; i++)
            ours_expect(c.sock, NULL, &cases[i]);
        conn_close(&c);
    });
}

/* Our DEALER (with a routing id the old peer sees in the greeting) and an old ROUTER. */
static void test_dealer_with_old_router(void)
{
    FOR_VERSIONS_AND_SIDES({
        conn_t c;
        conn_open(&c, ver, ZMQ_DEALER, ZMQ_ROUTER, binds, "", "our-dealer");
        for (size_t i = 0; i < NCASES; i++) {
            ours_send(c.sock, NULL, &cases[i]);
            peer_expect(&c, NULL, &cases[i]);
            peer_send(&c, NULL, &cases[i]);
            ours_expect(c.sock, NULL, &cases[i]);
        }
        conn_close(&c);
    });
}

/* The identity of an old DEALER is the routing id our ROUTER sees, and replies to. */
static void test_router_sees_old_identity(void)
{
    FOR_VERSIONS_AND_SIDES({
        conn_t c;
        conn_open(&c, ver, ZMQ_ROUTER, ZMQ_DEALER, binds, "old-dealer", "our-router");
        tmsg_t id = one("old-dealer", 10);
        for (size_t i = 0; i < NCASES; i++) {
            peer_send(&c, NULL, &cases[i]);
            ours_expect(c.sock, &id, &cases[i]);
            ours_send(c.sock, &id, &cases[i]);
            peer_expect(&c, NULL, &cases[i]);
        }
        conn_close(&c);
    });
}

/* An old peer without identity gets one made up by our ROUTER; long identities (a 1.0
 * identity of 254 bytes has the long frame header, detected at the 10th byte). */
static void test_router_generated_and_long_identities(void)
{
    FOR_VERSIONS_AND_SIDES({
        conn_t c;
        conn_open(&c, ver, ZMQ_ROUTER, ZMQ_DEALER, binds, "", NULL);
        peer_send(&c, NULL, &cases[0]);
        zmq_msg_t id;
        CHECK_OK(zmq_msg_init(&id));
        CHECK(zmq_msg_recv(&id, c.sock, 0) > 0);
        CHECK(zmq_msg_more(&id));
        ours_expect(c.sock, NULL, &cases[0]);
        tmsg_t env = one(zmq_msg_data(&id), zmq_msg_size(&id));
        ours_send(c.sock, &env, &cases[1]);
        peer_expect(&c, NULL, &cases[1]);
        CHECK_OK(zmq_msg_close(&id));
        conn_close(&c);

        for (size_t len = 253; len <= 255; len++) {
            char long_id[256];
            memset(long_id, 'L', len);
            long_id[0] = (char)('a' + len % 26);
            long_id[len] = 0;
            conn_open(&c, ver, ZMQ_ROUTER, ZMQ_DEALER, binds, long_id, NULL);
            tmsg_t lid = one(long_id, len);
            peer_send(&c, NULL, &cases[1]);
            ours_expect(c.sock, &lid, &cases[1]);
            ours_send(c.sock, &lid, &cases[3]);
            peer_expect(&c, NULL, &cases[3]);
            conn_close(&c);
        }
    });
}

/* Our REQ and an old REP: the empty delimiter frame travels as a frame. */
static void test_req_with_old_rep(void)
{
    FOR_VERSIONS_AND_SIDES({
        conn_t c;
        conn_open(&c, ver, ZMQ_REQ, ZMQ_REP, binds, "", "our-req");
        for (size_t i = 0; i < NCASES; i++) {
            ours_send(c.sock, NULL, &cases[i]);
            peer_expect(&c, &empty_env, &cases[i]);
            const tmsg_t *reply = &cases[(i + 1) % NCASES];
            peer_send(&c, &empty_env, reply);
            ours_expect(c.sock, NULL, reply);
        }
        conn_close(&c);
    });
}

/* Our REP and an old REQ. */
static void test_rep_with_old_req(void)
{
    FOR_VERSIONS_AND_SIDES({
        conn_t c;
        conn_open(&c, ver, ZMQ_REP, ZMQ_REQ, binds, "old-req", NULL);
        for (size_t i = 0; i < NCASES; i++) {
            peer_send(&c, &empty_env, &cases[i]);
            ours_expect(c.sock, NULL, &cases[i]);
            const tmsg_t *reply = &cases[(i + 2) % NCASES];
            ours_send(c.sock, NULL, reply);
            peer_expect(&c, &empty_env, reply);
        }
        conn_close(&c);
    });
}

/* One ROUTER of ours with an old 1.0 peer, an old 2.0 peer and a DEALER of ours at once. */
static void test_router_mixed_peers(void)
{
    void *ctx = zmq_ctx_new();
    CHECK_PTR(ctx);
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    CHECK_PTR(router);
    int linger = 0, timeo = TIMEOUT_MS;
    CHECK_OK(zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger));
    CHECK_OK(zmq_setsockopt(router, ZMQ_RCVTIMEO, &timeo, sizeof timeo));
    CHECK_OK(zmq_bind(router, "tcp://127.0.0.1:*"));
    char ep[256];
    size_t len = sizeof ep;
    CHECK_OK(zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, ep, &len));
    int port = atoi(strrchr(ep, ':') + 1);

    conn_t p1, p2;
    memset(&p1, 0, sizeof p1);
    memset(&p2, 0, sizeof p2);
    p1.ver = V10;
    p1.framing = 1;
    p1.our_type = ZMQ_ROUTER;
    p1.fd = peer_connect(port);
    p2.ver = V20;
    p2.framing = 2;
    p2.our_type = ZMQ_ROUTER;
    p2.fd = peer_connect(port);
    peer_greet(&p1, ZMQ_DEALER, "one", 3);
    peer_greet(&p2, ZMQ_DEALER, "two", 3);
    CHECK(p1.our_id_len == 0 && p2.our_id_len == 0);

    void *dealer = zmq_socket(ctx, ZMQ_DEALER);
    CHECK_PTR(dealer);
    CHECK_OK(zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger));
    CHECK_OK(zmq_setsockopt(dealer, ZMQ_RCVTIMEO, &timeo, sizeof timeo));
    CHECK_OK(zmq_setsockopt(dealer, ZMQ_ROUTING_ID, "three", 5));
    CHECK_OK(zmq_connect(dealer, ep));

    tmsg_t m1 = one("from-one", 8), m2 = one("from-two", 8), m3 = one("from-three", 10);
    tmsg_t id1 = one("one", 3), id2 = one("two", 3), id3 = one("three", 5);
    peer_send(&p1, NULL, &m1);
    ours_expect(router, &id1, &m1);
    peer_send(&p2, NULL, &m2);
    ours_expect(router, &id2, &m2);
    ours_send(dealer, NULL, &m3);
    ours_expect(router, &id3, &m3);
    ours_send(router, &id3, &m1);
    ours_send(router, &id2, &m3);
    ours_send(router, &id1, &m2);
    peer_expect(&p1, NULL, &m2);
    peer_expect(&p2, NULL, &m3);
    ours_expect(dealer, NULL, &m1);

    close(p1.fd);
    close(p2.fd);
    CHECK_OK(zmq_close(dealer));
    CHECK_OK(zmq_close(router));
    CHECK_OK(zmq_ctx_term(ctx));
}

/* Until the old peer has bytes to read, lets our socket process its commands (as any
 * libzmq socket, a bound SUB takes a new connection's pipe, and sends its subscriptions
 * there, only inside a call on the socket). */
static void ours_process_until_peer_readable(const conn_t *c)
{
    for (int i = 0; i < TIMEOUT_MS / 10; i++) {
        int events;
        size_t len = sizeof events;
        CHECK_OK(zmq_getsockopt(c->sock, ZMQ_EVENTS, &events, &len));
        struct pollfd pfd = {c->fd, POLLIN, 0};
        if (poll(&pfd, 1, 10) == 1)
            return;
    }
}

static void peer_expect_sub(const conn_t *c, int subscribe, const char *topic)
{
    unsigned char m[64];
    size_t n = strlen(topic);
    m[0] = (unsigned char)subscribe;
    memcpy(m + 1, topic, n);
    peer_expect_part(c, m, n + 1, 0);
}

static void peer_send_sub(const conn_t *c, int subscribe, const char *topic)
{
    unsigned char m[64];
    size_t n = strlen(topic);
    m[0] = (unsigned char)subscribe;
    memcpy(m + 1, topic, n);
    peer_send_frame(c, m, n + 1, 0);
}

/* Our SUB with an old PUB: our subscriptions reach it as 1/0-prefixed messages (made
 * before the connection, and after), and we filter what it sends. */
static void test_sub_with_old_pub(void)
{
    FOR_VERSIONS_AND_SIDES({
        conn_t c;
        conn_socket(&c, ver, ZMQ_SUB, NULL);
        CHECK_OK(zmq_setsockopt(c.sock, ZMQ_SUBSCRIBE, "A", 1));
        conn_tcp(&c, binds);
        peer_greet(&c, ZMQ_PUB, "", 0);
        CHECK(c.our_id_len == 0);
        ours_process_until_peer_readable(&c);
        peer_expect_sub(&c, 1, "A");

        tmsg_t no = one("Bno", 3), yes = one("Ayes", 4);
        tmsg_t multi = {2, {"Amulti", big}, {6, sizeof big}};
        peer_send(&c, NULL, &no);
        peer_send(&c, NULL, &yes);
        peer_send(&c, NULL, &multi);
        ours_expect(c.sock, NULL, &yes);
        ours_expect(c.sock, NULL, &multi);

        CHECK_OK(zmq_setsockopt(c.sock, ZMQ_SUBSCRIBE, "Bx", 2));
        peer_expect_sub(&c, 1, "Bx");
        CHECK_OK(zmq_setsockopt(c.sock, ZMQ_UNSUBSCRIBE, "A", 1));
        peer_expect_sub(&c, 0, "A");
        tmsg_t a2 = one("Agone", 5), b2 = one("Bxhere", 6);
        peer_send(&c, NULL, &a2);
        peer_send(&c, NULL, &b2);
        ours_expect(c.sock, NULL, &b2);
        conn_close(&c);
    });
}

/* Our XPUB with an old 2.0 SUB: its 1/0-prefixed messages are subscriptions (the XPUB
 * reads them), and what we publish is filtered by them. */
static void test_xpub_with_old_sub(void)
{
    for (int binds = 0; binds < 2; binds++) {
        conn_t c;
        conn_open(&c, V20, ZMQ_XPUB, ZMQ_SUB, binds, "", NULL);
        peer_send_sub(&c, 1, "A");
        ours_expect(c.sock, NULL, &(tmsg_t){1, {"\x01" "A"}, {2}});
        tmsg_t no = one("Bno", 3), yes = one("Ayes", 4);
        tmsg_t multi = {2, {"Amulti", huge}, {6, sizeof huge}};
        ours_send(c.sock, NULL, &no);
        ours_send(c.sock, NULL, &yes);
        ours_send(c.sock, NULL, &multi);
        peer_expect(&c, NULL, &yes);
        peer_expect(&c, NULL, &multi);

        peer_send_sub(&c, 0, "A");
        ours_expect(c.sock, NULL, &(tmsg_t){1, {"\x00" "A"}, {2}});
        peer_send_sub(&c, 1, "B");
        ours_expect(c.sock, NULL, &(tmsg_t){1, {"\x01" "B"}, {2}});
        tmsg_t a2 = one("Agone", 5), b2 = one("Bhere", 5);
        ours_send(c.sock, NULL, &a2);
        ours_send(c.sock, NULL, &b2);
        peer_expect(&c, NULL, &b2);
        conn_close(&c);
    }
}

/* Publishes "<topic><i>" until the old peer receives one of them (a PUB has no other way
 * to tell when a subscription took effect); returns with that frame read. */
static void publish_until_received(conn_t *c, const char *topic)
{
    size_t tl = strlen(topic);
    for (int i = 0; i < 500; i++) {
        char m[64];
        int n = snprintf(m, sizeof m, "%s%d", topic, i);
        CHECK(zmq_send(c->sock, m, (size_t)n, 0) == n);
        struct pollfd pfd = {c->fd, POLLIN, 0};
        if (poll(&pfd, 1, 10) == 1) {
            int more;
            size_t got = peer_recv_frame(c, frame_buf, sizeof frame_buf, &more, TIMEOUT_MS);
            CHECK(!more && got > tl && memcmp(frame_buf, topic, tl) == 0);
            return;
        }
    }
    fprintf(stderr, "nothing published on '%s' reached the old peer\n", topic);
    CHECK(0);
}

/* Reads single-frame messages until the frame `end`, failing on any that starts with
 * `banned`. */
static void peer_read_until(conn_t *c, const char *end, const char *banned)
{
    for (;;) {
        int more;
        size_t n = peer_recv_frame(c, frame_buf, sizeof frame_buf - 1, &more, TIMEOUT_MS);
        frame_buf[n] = 0;
        if (n == strlen(end) && memcmp(frame_buf, end, n) == 0)
            return;
        CHECK(!more);
        if (strncmp((char *)frame_buf, banned, strlen(banned)) == 0)
            fprintf(stderr, "old peer got '%s', not subscribed\n", (char *)frame_buf);
        CHECK(strncmp((char *)frame_buf, banned, strlen(banned)) != 0);
    }
}

/* Our PUB with an old 2.0 SUB: subscribe and cancel by message. */
static void test_pub_with_old_sub(void)
{
    for (int binds = 0; binds < 2; binds++) {
        conn_t c;
        conn_open(&c, V20, ZMQ_PUB, ZMQ_SUB, binds, "", NULL);
        peer_send_sub(&c, 1, "A");
        publish_until_received(&c, "A");
        ours_send(c.sock, NULL, &(tmsg_t){1, {"Bno"}, {3}});
        ours_send(c.sock, NULL, &(tmsg_t){1, {"Aend"}, {4}});
        peer_read_until(&c, "Aend", "B");
        /* The cancel and the new subscription are read in order: once a C message
         * arrives, A is no longer subscribed. */
        peer_send_sub(&c, 0, "A");
        peer_send_sub(&c, 1, "C");
        publish_until_received(&c, "C");
        ours_send(c.sock, NULL, &(tmsg_t){1, {"Ax"}, {2}});
        ours_send(c.sock, NULL, &(tmsg_t){1, {"Cend"}, {4}});
        peer_read_until(&c, "Cend", "Ax");
        conn_close(&c);
    }
}

/* A 1.0 SUB (libzmq 2.x) filters by itself and sends no subscriptions: our PUB / XPUB
 * subscribe it to everything when it connects (libzmq does the same). */
static void test_pub_with_zmtp10_sub(void)
{
    for (int binds = 0; binds < 2; binds++) {
        conn_t c;
        conn_open(&c, V10, ZMQ_XPUB, ZMQ_SUB, binds, "", NULL);
        ours_expect(c.sock, NULL, &(tmsg_t){1, {"\x01"}, {1}});
        ours_send(c.sock, NULL, &cases[1]);
        peer_expect(&c, NULL, &cases[1]);
        conn_close(&c);

        conn_open(&c, V10, ZMQ_PUB, ZMQ_SUB, binds, "", NULL);
        publish_until_received(&c, "any");
        ours_send(c.sock, NULL, &cases[4]);
        peer_read_until(&c, "head", "-");
        peer_expect_part(&c, huge, sizeof huge, 0);
        conn_close(&c);
    }
}

/* Old peers whose socket type byte does not match ours are disconnected. */
static void test_incompatible_socket_type(void)
{
    static const int pairs[][2] = {
        {ZMQ_PULL, ZMQ_PUB}, {ZMQ_REP, ZMQ_REP},    {ZMQ_SUB, ZMQ_PUSH},
        {ZMQ_PUB, ZMQ_PUB},  {ZMQ_ROUTER, ZMQ_PAIR}, {ZMQ_PAIR, 200},
    };
    static const int vers[] = {V10_REV0, V20};
    for (size_t v = 0; v < 2; v++)
        for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
            for (int binds = 0; binds < 2; binds++) {
                conn_t c;
                conn_socket(&c, vers[v], pairs[i][0], NULL);
                conn_tcp(&c, binds);
                unsigned char g[12] = {0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F};
                g[10] = vers[v] == V20 ? 1 : 0;
                g[11] = (unsigned char)pairs[i][1];
                write_all(c.fd, g, sizeof g);
                peer_send_frame(&c, "", 0, 0);
                if (!closed_by_peer_within(c.fd, TIMEOUT_MS))
                    fprintf(stderr, "ZMTP %s: our type %d accepted peer type %d\n",
                            ver_name(vers[v]), pairs[i][0], pairs[i][1]);
                CHECK(closed_by_peer_within(c.fd, TIMEOUT_MS));
                conn_close(&c);
            }
}

/* We send our signature, then wait for the peer's before sending our version, and for its
 * revision before sending the rest: a 1.0 peer never sees more than a frame header. */
static void test_greeting_is_sent_in_steps(void)
{
    for (int binds = 0; binds < 2; binds++) {
        /* 2.0, byte by byte. */
        conn_t c;
        conn_socket(&c, V20, ZMQ_DEALER, "me");
        conn_tcp(&c, binds);
        unsigned char g[12], peer[12] = {0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 1, ZMQ_ROUTER};
        READ(c.fd, g, 10);
        CHECK(g[0] == 0xFF && g[9] == 0x7F && get_u64(g + 1) == 3);
        CHECK(quiet_for(c.fd, 100));
        write_all(c.fd, peer, 9);
        CHECK(quiet_for(c.fd, 50));
        write_all(c.fd, peer + 9, 1);
        READ(c.fd, g, 1);
        CHECK(g[0] == 3);
        CHECK(quiet_for(c.fd, 100));
        write_all(c.fd, peer + 10, 1);
        READ(c.fd, g, 1);
        CHECK(g[0] == ZMQ_DEALER);
        CHECK(quiet_for(c.fd, 50));
        write_all(c.fd, peer + 11, 1);
        int more;
        CHECK(peer_recv_frame(&c, g, sizeof g, &more, TIMEOUT_MS) == 2);
        CHECK(memcmp(g, "me", 2) == 0 && !more);
        peer_send_frame(&c, "r", 1, 0);
        peer_send(&c, NULL, &cases[1]);
        ours_expect(c.sock, NULL, &cases[1]);
        ours_send(c.sock, NULL, &cases[3]);
        peer_expect(&c, NULL, &cases[3]);
        conn_close(&c);

        /* 1.0: the peer reads our signature (a frame header), sends its identity frame
         * after it, then gets the body of our identity frame and messages. */
        conn_socket(&c, V10, ZMQ_DEALER, "me");
        conn_tcp(&c, binds);
        READ(c.fd, g, 10);
        CHECK(g[0] == 0xFF && g[9] == 0x7F && get_u64(g + 1) == 3);
        CHECK(quiet_for(c.fd, 100));
        peer_send_frame(&c, "old", 3, 0);
        READ(c.fd, g, 2);
        CHECK(memcmp(g, "me", 2) == 0);
        ours_send(c.sock, NULL, &cases[1]);
        peer_expect(&c, NULL, &cases[1]);
        peer_send(&c, NULL, &cases[5]);
        ours_expect(c.sock, NULL, &cases[5]);
        conn_close(&c);
    }
}

/* The old peer writes its greeting, identity and first messages in one go before reading
 * anything; our socket has a routing id of the maximum length (255 bytes). */
static void test_burst_and_longest_routing_id(void)
{
    char our_id[256];
    memset(our_id, 'r', 255);
    our_id[255] = 0;
    FOR_VERSIONS_AND_SIDES({
        conn_t c;
        conn_socket(&c, ver, ZMQ_DEALER, our_id);
        conn_tcp(&c, binds);
        static unsigned char wire[1024];
        size_t n = 0;
        if (ver != V10) {
            static const unsigned char g[12] = {0xFF, 0, 0, 0, 0, 0, 0, 0, 3, 0x7F, 0,
                                                ZMQ_DEALER};
            memcpy(wire, g, sizeof g);
            wire[10] = ver == V20 ? 1 : 0;
            n = sizeof g;
        }
        /* Identity "id", then "one", then ["two", "three"], in the peer's framing. */
        static const char *frames[] = {"id", "one", "two", "three"};
        static const int more[] = {0, 0, 1, 0};
        for (int i = 0; i < 4; i++) {
            size_t l = strlen(frames[i]);
            if (c.framing == 2) {
                wire[n++] = (unsigned char)more[i];
                wire[n++] = (unsigned char)l;
            } else {
                wire[n++] = (unsigned char)(l + 1);
                wire[n++] = (unsigned char)more[i];
            }
            memcpy(wire + n, frames[i], l);
            n += l;
        }
        write_all(c.fd, wire, n);
        ours_expect(c.sock, NULL, &(tmsg_t){1, {"one"}, {3}});
        ours_expect(c.sock, NULL, &(tmsg_t){2, {"two", "three"}, {3, 5}});
        /* Our greeting as the old peer reads it, then a message. */
        unsigned char g[12];
        READ(c.fd, g, 10);
        CHECK(g[0] == 0xFF && g[9] == 0x7F && get_u64(g + 1) == 256);
        if (ver == V10) {
            READ(c.fd, c.our_id, 255);
        } else {
            READ(c.fd, g + 10, 2);
            CHECK(g[10] == 3 && g[11] == ZMQ_DEALER);
            int m;
            CHECK(peer_recv_frame(&c, c.our_id, sizeof c.our_id, &m, TIMEOUT_MS) == 255);
        }
        CHECK(memcmp(c.our_id, our_id, 255) == 0);
        ours_send(c.sock, NULL, &cases[1]);
        peer_expect(&c, NULL, &cases[1]);
        conn_close(&c);
    });
}

/* Some libzmq 2.x releases set flag bits other than MORE in 1.0 frames: only bit 0 counts. */
static void test_zmtp10_reserved_flag_bits(void)
{
    for (int binds = 0; binds < 2; binds++) {
        conn_t c;
        conn_open(&c, V10, ZMQ_PULL, ZMQ_PUSH, binds, "", NULL);
        static const unsigned char wire[] = {
            6, 0x7E, 'h', 'e', 'l', 'l', 'o', /* one part, reserved bits set */
            2, 0xFF, 'a',                     /* MORE and reserved bits */
            2, 0x02, 'b',                     /* last part */
        };
        write_all(c.fd, wire, sizeof wire);
        ours_expect(c.sock, NULL, &cases[0]);
        ours_expect(c.sock, NULL, &(tmsg_t){2, {"a", "b"}, {1, 1}});
        conn_close(&c);
    }
}

/* Heartbeats are ZMTP 3.1 commands: an old peer gets none, and its silence does not
 * time the connection out. */
static void test_no_heartbeats_to_old_peers(void)
{
    static const int vers[] = {V10, V20};
    for (size_t v = 0; v < 2; v++) {
        conn_t c;
        conn_socket(&c, vers[v], ZMQ_PAIR, NULL);
        int ivl = 50, timeout = 100, ttl = 300;
        CHECK_OK(zmq_setsockopt(c.sock, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl));
        CHECK_OK(zmq_setsockopt(c.sock, ZMQ_HEARTBEAT_TIMEOUT, &timeout, sizeof timeout));
        CHECK_OK(zmq_setsockopt(c.sock, ZMQ_HEARTBEAT_TTL, &ttl, sizeof ttl));
        conn_tcp(&c, 1);
        peer_greet(&c, ZMQ_PAIR, "", 0);
        if (!quiet_for(c.fd, 500))
            fprintf(stderr, "ZMTP %s: the old peer got bytes or a close\n",
                    ver_name(vers[v]));
        CHECK(quiet_for(c.fd, 1));
        peer_send(&c, NULL, &cases[0]);
        ours_expect(c.sock, NULL, &cases[0]);
        ours_send(c.sock, NULL, &cases[1]);
        peer_expect(&c, NULL, &cases[1]);
        conn_close(&c);
    }
}

/* Runs the test unless a name filter (argv[1]) leaves it out. */
#define RUN_MATCHING(fn)                                                            \
    do {                                                                            \
        if (only == NULL || strstr(#fn, only) != NULL)                              \
            RUN(fn);                                                                \
    } while (0)

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (unsigned char)(i * 7 + 1);
    for (size_t i = 0; i < sizeof huge; i++)
        huge[i] = (unsigned char)(i * 13 + i / 256);
    RUN_MATCHING(test_greeting_is_sent_in_steps);
    RUN_MATCHING(test_pair);
    RUN_MATCHING(test_push_to_old_pull);
    RUN_MATCHING(test_pull_from_old_push);
    RUN_MATCHING(test_dealer_with_old_router);
    RUN_MATCHING(test_router_sees_old_identity);
    RUN_MATCHING(test_router_generated_and_long_identities);
    RUN_MATCHING(test_req_with_old_rep);
    RUN_MATCHING(test_rep_with_old_req);
    RUN_MATCHING(test_router_mixed_peers);
    RUN_MATCHING(test_sub_with_old_pub);
    RUN_MATCHING(test_xpub_with_old_sub);
    RUN_MATCHING(test_pub_with_old_sub);
    RUN_MATCHING(test_pub_with_zmtp10_sub);
    RUN_MATCHING(test_incompatible_socket_type);
    RUN_MATCHING(test_burst_and_longest_routing_id);
    RUN_MATCHING(test_zmtp10_reserved_flag_bits);
    RUN_MATCHING(test_no_heartbeats_to_old_peers);
    return 0;
}
