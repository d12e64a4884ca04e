/* A hostile or broken peer cannot hurt the process: raw TCP clients send garbage, wrong
 * greetings, unknown mechanisms, malformed handshakes (NULL, PLAIN and CURVE) and bad frames
 * to a PULL socket of ours.
 * Each such connection must be closed by us within a bounded time, and the socket and its
 * other connection (a well-behaved PUSH of ours) must go on delivering messages. */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include "rawtcp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* How long we give the library to close a hostile connection. */
#define CLOSE_WITHIN_MS 2000

typedef struct {
    void *ctx;
    void *pull;
    void *push;
    int port;
    pthread_t zap_thread;
} fixture_t;

/* The mechanism of the next fixture's PULL (server) and PUSH (client): ZMQ_NULL, ZMQ_PLAIN
 * (with a ZAP handler that lets in admin / password) or ZMQ_CURVE (no handler: encryption
 * for anyone who knows the server key). */
static int fixture_mechanism = ZMQ_NULL;
static char curve_server_public[41], curve_server_secret[41];
static char curve_client_public[41], curve_client_secret[41];
static int zap_stop; /* set by the main thread, read by the handler: __atomic builtins */

static void *plain_zap_handler(void *h)
{
    int timeo = 50;
    CHECK_OK(zmq_setsockopt(h, ZMQ_RCVTIMEO, &timeo, sizeof timeo));
    while (!__atomic_load_n(&zap_stop, __ATOMIC_ACQUIRE)) {
        char f[10][64];
        int n = 0, more = 1;
        while (more && n < 10) {
            int r = zmq_recv(h, f[n], sizeof f[n] - 1, 0);
            if (r < 0)
                break;
            f[n][r < 63 ? r : 63] = 0;
            n++;
            size_t len = sizeof more;
            CHECK_OK(zmq_getsockopt(h, ZMQ_RCVMORE, &more, &len));
        }
        if (n == 0)
            continue;
        int ok = n == 8 && !strcmp(f[6], "admin") && !strcmp(f[7], "password");
        CHECK(zmq_send(h, "1.0", 3, ZMQ_SNDMORE) == 3);
        CHECK(zmq_send(h, "1", 1, ZMQ_SNDMORE) == 1);
        CHECK(zmq_send(h, ok ? "200" : "400", 3, ZMQ_SNDMORE) == 3);
        CHECK(zmq_send(h, "", 0, ZMQ_SNDMORE) == 0);
        CHECK(zmq_send(h, "", 0, ZMQ_SNDMORE) == 0);
        CHECK(zmq_send(h, "", 0, 0) == 0);
    }
    CHECK_OK(zmq_close(h));
    return NULL;
}

/* Sets up `s` as the server (PULL) or client (PUSH) of the fixture's mechanism. */
static void secure(fixture_t *f, void *s, int server)
{
    int one = 1;
    if (fixture_mechanism == ZMQ_PLAIN && server) {
        void *h = zmq_socket(f->ctx, ZMQ_REP);
        CHECK_PTR(h);
        CHECK_OK(zmq_bind(h, "inproc://zeromq.zap.01"));
        __atomic_store_n(&zap_stop, 0, __ATOMIC_RELEASE);
        CHECK(pthread_create(&f->zap_thread, NULL, plain_zap_handler, h) == 0);
        CHECK_OK(zmq_setsockopt(s, ZMQ_PLAIN_SERVER, &one, sizeof one));
    } else if (fixture_mechanism == ZMQ_PLAIN) {
        CHECK_OK(zmq_setsockopt(s, ZMQ_PLAIN_USERNAME, "admin", 5));
        CHECK_OK(zmq_setsockopt(s, ZMQ_PLAIN_PASSWORD, "password", 8));
    } else if (fixture_mechanism == ZMQ_CURVE && server) {
        CHECK_OK(zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof one));
        CHECK_OK(zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, curve_server_secret, 40));
    } else if (fixture_mechanism == ZMQ_CURVE) {
        CHECK_OK(zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, curve_server_public, 40));
        CHECK_OK(zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, curve_client_public, 40));
        CHECK_OK(zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, curve_client_secret, 40));
    }
}


/* A PULL bound on an ephemeral port (with the given MAXMSGSIZE and HANDSHAKE_IVL, -1 / 0
 * for the defaults), and a PUSH connected to it that has delivered a first message. */
static void setup(fixture_t *f, int64_t maxmsgsize, int handshake_ivl)
{
    f->ctx = zmq_ctx_new();
    CHECK_PTR(f->ctx);
    f->pull = zmq_socket(f->ctx, ZMQ_PULL);
    CHECK_PTR(f->pull);
    int linger = 0, timeo = 2000;
    CHECK_OK(zmq_setsockopt(f->pull, ZMQ_LINGER, &linger, sizeof linger));
    CHECK_OK(zmq_setsockopt(f->pull, ZMQ_RCVTIMEO, &timeo, sizeof timeo));
    if (maxmsgsize >= 0)
        CHECK_OK(zmq_setsockopt(f->pull, ZMQ_MAXMSGSIZE, &maxmsgsize, sizeof maxmsgsize));
    if (handshake_ivl > 0)
        CHECK_OK(zmq_setsockopt(f->pull, ZMQ_HANDSHAKE_IVL, &handshake_ivl,
                                sizeof handshake_ivl));
    secure(f, f->pull, 1);
    CHECK_OK(zmq_bind(f->pull, "tcp://127.0.0.1:*"));
    char ep[256];
    size_t len = sizeof ep;
    CHECK_OK(zmq_getsockopt(f->pull, ZMQ_LAST_ENDPOINT, ep, &len));
    const char *colon = strrchr(ep, ':');
    CHECK(colon != NULL);
    f->port = atoi(colon + 1);
    CHECK(f->port > 0);

    f->push = zmq_socket(f->ctx, ZMQ_PUSH);
    CHECK_PTR(f->push);
    CHECK_OK(zmq_setsockopt(f->push, ZMQ_LINGER, &linger, sizeof linger));
    CHECK_OK(zmq_setsockopt(f->push, ZMQ_SNDTIMEO, &timeo, sizeof timeo));
    secure(f, f->push, 0);
    CHECK_OK(zmq_connect(f->push, ep));
    char buf[16];
    CHECK(zmq_send(f->push, "first", 5, 0) == 5);
    CHECK(zmq_recv(f->pull, buf, sizeof buf, 0) == 5);
    CHECK(memcmp(buf, "first", 5) == 0);
}

/* The good PUSH still delivers to the PULL; then everything closes. */
static void still_works_and_teardown(fixture_t *f)
{
    char buf[16];
    for (int i = 0; i < 3; i++) {
        CHECK(zmq_send(f->push, "after", 5, 0) == 5);
        CHECK(zmq_recv(f->pull, buf, sizeof buf, 0) == 5);
        CHECK(memcmp(buf, "after", 5) == 0);
    }
    CHECK_OK(zmq_close(f->push));
    CHECK_OK(zmq_close(f->pull));
    if (fixture_mechanism == ZMQ_PLAIN) {
        __atomic_store_n(&zap_stop, 1, __ATOMIC_RELEASE);
        CHECK(pthread_join(f->zap_thread, NULL) == 0);
    }
    CHECK_OK(zmq_ctx_term(f->ctx));
}


/* Sends all of `data` unless the peer has already closed (errors are fine: we may have been
 * cut off already). */
static void raw_send(int fd, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}


/* A short command frame: flags 0x04, size, name length, name, then `data`. */
static size_t command(unsigned char *out, const char *name, const unsigned char *data,
                      size_t data_len)
{
    size_t nl = strlen(name);
    size_t body = 1 + nl + data_len;
    CHECK(body < 256);
    out[0] = 0x04;
    out[1] = (unsigned char)body;
    out[2] = (unsigned char)nl;
    memcpy(out + 3, name, nl);
    memcpy(out + 3 + nl, data, data_len);
    return 2 + body;
}

/* A metadata property: name length, name, 4-byte big-endian value length, value. */
static size_t property(unsigned char *out, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    out[0] = (unsigned char)nl;
    memcpy(out + 1, name, nl);
    out[1 + nl] = (unsigned char)(vl >> 24);
    out[2 + nl] = (unsigned char)(vl >> 16);
    out[3 + nl] = (unsigned char)(vl >> 8);
    out[4 + nl] = (unsigned char)vl;
    memcpy(out + 5 + nl, value, vl);
    return 5 + nl + vl;
}

/* A valid greeting (NULL) and READY with Socket-Type `type`. */
static size_t handshake(unsigned char *out, const char *type)
{
    size_t n = zmtp3_greeting(out, "NULL");
    unsigned char props[64];
    size_t pl = property(props, "Socket-Type", type);
    n += command(out + n, "READY", props, pl);
    return n;
}

/* One hostile client: connects, sends `bytes`, optionally half-closes, and must be cut off
 * by us in time while the fixture's socket goes on. */
static void hostile(const unsigned char *bytes, size_t len, int64_t maxmsgsize,
                    int handshake_ivl, int half_close, int within_ms)
{
    fixture_t f;
    setup(&f, maxmsgsize, handshake_ivl);
    int fd = raw_connect(f.port);
    if (len > 0)
        raw_send(fd, bytes, len);
    if (half_close)
        CHECK(shutdown(fd, SHUT_WR) == 0);
    long t0 = now_ms();
    int closed = closed_by_peer_within(fd, within_ms);
    if (!closed)
        fprintf(stderr, "hostile connection still open after %ld ms\n", now_ms() - t0);
    CHECK(closed);
    close(fd);
    still_works_and_teardown(&f);
}

/* Deterministic pseudo-random bytes (xorshift). */
static void fill_random(unsigned char *buf, size_t len, uint32_t seed)
{
    uint32_t x = seed ? seed : 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (unsigned char)x;
    }
}

/* Random bytes that start like a ZMTP signature, so they are not a ZMTP 1.0 frame
 * stream: FF, then random, then a 10th byte with bit 0 set, then random. */
static void test_random_garbage(void)
{
    unsigned char buf[4096];
    for (uint32_t seed = 1; seed <= 3; seed++) {
        fill_random(buf, sizeof buf, seed * 2654435761u);
        buf[0] = 0xFF;
        buf[9] |= 1;
        if (buf[10] < 3)
            buf[10] = 3; /* a 3.x greeting: the random mechanism field is unknown */
        hostile(buf, sizeof buf, -1, 0, 0, CLOSE_WITHIN_MS);
    }
}

/* Bytes that are no ZMTP at all and start with 0: read as a ZMTP 1.0 peer by the first
 * byte, whose first frame length is then 0 (invalid). */
static void test_zero_first_byte(void)
{
    unsigned char buf[1024];
    fill_random(buf, sizeof buf, 12345);
    buf[0] = 0;
    hostile(buf, sizeof buf, -1, 0, 0, CLOSE_WITHIN_MS);
}

/* A valid signature, then revision 0xFE and a greeting with an unknown mechanism. */
static void test_bad_revision(void)
{
    unsigned char buf[64];
    zmtp3_greeting(buf, "NULL");
    buf[10] = 0xFE;
    buf[11] = 0xFE;
    memset(buf + 12, 0xEE, 20);
    hostile(buf, sizeof buf, -1, 0, 0, CLOSE_WITHIN_MS);
}

/* A valid signature, then revision 2 (no such ZMTP revision; libzmq reads it as 3.x) with a
 * junk remainder; the peer then sends nothing more. */
static void test_revision_2_junk(void)
{
    unsigned char buf[64];
    zmtp3_greeting(buf, "NULL");
    buf[10] = 2;
    memset(buf + 11, 0xEE, 53);
    hostile(buf, sizeof buf, -1, 0, 0, CLOSE_WITHIN_MS);
}

static void test_mechanism_bogus(void)
{
    unsigned char buf[64];
    zmtp3_greeting(buf, "BOGUS");
    hostile(buf, sizeof buf, -1, 0, 0, CLOSE_WITHIN_MS);
}

static void test_mechanism_plain_vs_null(void)
{
    unsigned char buf[64];
    zmtp3_greeting(buf, "PLAIN");
    hostile(buf, sizeof buf, -1, 0, 0, CLOSE_WITHIN_MS);
}

static void test_mechanism_curve_vs_null(void)
{
    unsigned char buf[64];
    zmtp3_greeting(buf, "CURVE");
    buf[32] = 1;
    hostile(buf, sizeof buf, -1, 0, 0, CLOSE_WITHIN_MS);
}

/* READY whose only property claims a value longer than the command. */
static void test_ready_metadata_past_end(void)
{
    unsigned char buf[256];
    size_t n = zmtp3_greeting(buf, "NULL");
    unsigned char props[64];
    size_t pl = property(props, "Socket-Type", "PUSH");
    props[1 + 11 + 3] = 200; /* value length 200, 4 bytes present */
    n += command(buf + n, "READY", props, pl);
    hostile(buf, n, -1, 0, 0, CLOSE_WITHIN_MS);
}

/* READY whose property name length runs past the end. */
static void test_ready_name_past_end(void)
{
    unsigned char buf[256];
    size_t n = zmtp3_greeting(buf, "NULL");
    unsigned char props[4] = {50, 'S', 'o', 'c'};
    n += command(buf + n, "READY", props, sizeof props);
    hostile(buf, n, -1, 0, 0, CLOSE_WITHIN_MS);
}

/* READY without Socket-Type. */
static void test_ready_without_socket_type(void)
{
    unsigned char buf[256];
    size_t n = zmtp3_greeting(buf, "NULL");
    unsigned char props[64];
    size_t pl = property(props, "Identity", "x");
    n += command(buf + n, "READY", props, pl);
    hostile(buf, n, -1, 0, 0, CLOSE_WITHIN_MS);
}

/* READY from a PUB to our PULL. */
static void test_ready_incompatible_type(void)
{
    unsigned char buf[256];
    size_t n = handshake(buf, "PUB");
    hostile(buf, n, -1, 0, 0, CLOSE_WITHIN_MS);
}

/* READY naming no socket type at all. */
static void test_ready_unknown_type(void)
{
    unsigned char buf[256];
    size_t n = handshake(buf, "TOASTER");
    hostile(buf, n, -1, 0, 0, CLOSE_WITHIN_MS);
}

/* A command other than READY where READY is due. */
static void test_other_command_in_handshake(void)
{
    unsigned char buf[256];
    size_t n = zmtp3_greeting(buf, "NULL");
    n += command(buf + n, "BOGUS", (const unsigned char *)"xyz", 3);
    hostile(buf, n, -1, 0, 0, CLOSE_WITHIN_MS);
}

/* A message frame where READY is due. */
static void test_message_in_handshake(void)
{
    unsigned char buf[256];
    size_t n = zmtp3_greeting(buf, "NULL");
    const unsigned char msg[] = {0x00, 3, 'a', 'b', 'c'};
    memcpy(buf + n, msg, sizeof msg);
    n += sizeof msg;
    hostile(buf, n, -1, 0, 0, CLOSE_WITHIN_MS);
}

/* A command frame whose name length runs past its body. */
static void test_command_name_past_end(void)
{
    unsigned char buf[256];
    size_t n = zmtp3_greeting(buf, "NULL");
    const unsigned char cmd[] = {0x04, 3, 20, 'R', 'E'};
    memcpy(buf + n, cmd, sizeof cmd);
    n += sizeof cmd;
    hostile(buf, n, -1, 0, 0, CLOSE_WITHIN_MS);
}

/* After a valid handshake, a frame with reserved flag bits. */
static void test_reserved_flags(void)
{
    static const unsigned char flags[] = {0x08, 0x10, 0x80, 0xF9};
    for (size_t i = 0; i < sizeof flags; i++) {
        unsigned char buf[256];
        size_t n = handshake(buf, "PUSH");
        buf[n++] = flags[i];
        buf[n++] = 3;
        memcpy(buf + n, "abc", 3);
        n += 3;
        hostile(buf, n, -1, 0, 0, CLOSE_WITHIN_MS);
    }
}

/* After a valid handshake, an unknown command. */
static void test_unknown_command_after_handshake(void)
{
    unsigned char buf[256];
    size_t n = handshake(buf, "PUSH");
    n += command(buf + n, "BOGUS", (const unsigned char *)"xyz", 3);
    hostile(buf, n, -1, 0, 0, CLOSE_WITHIN_MS);
}

/* After a valid handshake, a LONG frame claiming 2^62 bytes (and a few of them). */
static void test_long_frame_2_62(void)
{
    unsigned char buf[256];
    size_t n = handshake(buf, "PUSH");
    const unsigned char hdr[] = {0x02, 0x40, 0, 0, 0, 0, 0, 0, 0};
    memcpy(buf + n, hdr, sizeof hdr);
    n += sizeof hdr;
    memset(buf + n, 'x', 16);
    n += 16;
    hostile(buf, n, -1, 0, 0, CLOSE_WITHIN_MS);
}

/* After a valid handshake, a LONG frame claiming 2^64 - 1 bytes. */
static void test_long_frame_max(void)
{
    unsigned char buf[256];
    size_t n = handshake(buf, "PUSH");
    const unsigned char hdr[] = {0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    memcpy(buf + n, hdr, sizeof hdr);
    n += sizeof hdr;
    hostile(buf, n, -1, 0, 0, CLOSE_WITHIN_MS);
}

/* MAXMSGSIZE 1000: a 1001-byte frame, sent whole. */
static void test_over_maxmsgsize(void)
{
    static unsigned char buf[2048];
    size_t n = handshake(buf, "PUSH");
    const unsigned char hdr[] = {0x02, 0, 0, 0, 0, 0, 0, 0x03, 0xE9};
    memcpy(buf + n, hdr, sizeof hdr);
    n += sizeof hdr;
    memset(buf + n, 'x', 1001);
    n += 1001;
    hostile(buf, n, 1000, 0, 0, CLOSE_WITHIN_MS);
}

/* MAXMSGSIZE 1000: only the header of a 1 MB frame (refused on the header alone). */
static void test_over_maxmsgsize_header_only(void)
{
    unsigned char buf[256];
    size_t n = handshake(buf, "PUSH");
    const unsigned char hdr[] = {0x02, 0, 0, 0, 0, 0, 0x10, 0, 0};
    memcpy(buf + n, hdr, sizeof hdr);
    n += sizeof hdr;
    hostile(buf, n, 1000, 0, 0, CLOSE_WITHIN_MS);
}

/* MAXMSGSIZE 1000: a message of 600 + 600 bytes in two frames is fine per frame
 * (libzmq checks frames), then a 1001-byte frame is not. */
static void test_maxmsgsize_after_good_frames(void)
{
    static unsigned char buf[4096];
    size_t n = handshake(buf, "PUSH");
    const unsigned char hdr600[] = {0x02, 0, 0, 0, 0, 0, 0, 0x02, 0x58};
    memcpy(buf + n, hdr600, sizeof hdr600);
    n += sizeof hdr600;
    memset(buf + n, 'y', 600);
    n += 600;
    const unsigned char hdr1001[] = {0x02, 0, 0, 0, 0, 0, 0, 0x03, 0xE9};
    memcpy(buf + n, hdr1001, sizeof hdr1001);
    n += sizeof hdr1001;
    memset(buf + n, 'x', 1001);
    n += 1001;
    fixture_t f;
    setup(&f, 1000, 0);
    int fd = raw_connect(f.port);
    raw_send(fd, buf, n);
    CHECK(closed_by_peer_within(fd, CLOSE_WITHIN_MS));
    close(fd);
    /* The good 600-byte frame from the raw peer arrived first. */
    char got[1024];
    CHECK(zmq_recv(f.pull, got, sizeof got, 0) == 600);
    CHECK(got[0] == 'y' && got[599] == 'y');
    still_works_and_teardown(&f);
}

/* After a valid handshake, half a frame, then the peer stops sending (half-close). */
static void test_truncated_frame_then_close(void)
{
    unsigned char buf[256];
    size_t n = handshake(buf, "PUSH");
    const unsigned char part[] = {0x00, 100, 'a', 'b', 'c', 'd', 'e'};
    memcpy(buf + n, part, sizeof part);
    n += sizeof part;
    hostile(buf, n, -1, 0, 1, CLOSE_WITHIN_MS);
}

/* A truncated greeting, then half-close. */
static void test_truncated_greeting_then_close(void)
{
    unsigned char buf[64];
    zmtp3_greeting(buf, "NULL");
    hostile(buf, 30, -1, 0, 1, CLOSE_WITHIN_MS);
}

/* A truncated frame, then the client closes completely: the socket goes on. */
static void test_truncated_frame_then_full_close(void)
{
    fixture_t f;
    setup(&f, -1, 0);
    unsigned char buf[256];
    size_t n = handshake(buf, "PUSH");
    const unsigned char part[] = {0x02, 0, 0, 0, 0, 0, 0, 0x10, 0, 'a', 'b'};
    memcpy(buf + n, part, sizeof part);
    n += sizeof part;
    int fd = raw_connect(f.port);
    raw_send(fd, buf, n);
    close(fd);
    still_works_and_teardown(&f);
}

/* A client that connects and sends nothing, with HANDSHAKE_IVL 200 ms. */
static void test_silent_client(void)
{
    long t0 = now_ms();
    hostile(NULL, 0, -1, 200, 0, CLOSE_WITHIN_MS);
    (void)t0;
}

/* A client that stalls mid-greeting (signature only), with HANDSHAKE_IVL 200 ms. */
static void test_stall_mid_greeting(void)
{
    unsigned char buf[64];
    zmtp3_greeting(buf, "NULL");
    hostile(buf, 11, -1, 200, 0, CLOSE_WITHIN_MS);
}

/* A client that sends a whole greeting but no READY, with HANDSHAKE_IVL 200 ms. */
static void test_stall_before_ready(void)
{
    unsigned char buf[64];
    zmtp3_greeting(buf, "NULL");
    hostile(buf, sizeof buf, -1, 200, 0, CLOSE_WITHIN_MS);
}

/* ---- PLAIN and CURVE servers ---------------------------------------------------------- */

/* Reads exactly `len` bytes within 2 s; 0 when the connection ends or time runs out. */
static int read_exact(int fd, unsigned char *buf, size_t len)
{
    long deadline = now_ms() + 2000;
    while (len > 0) {
        struct pollfd pfd = {fd, POLLIN, 0};
        long left = deadline - now_ms();
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            return 0;
        ssize_t n = read(fd, buf, len);
        if (n <= 0)
            return 0;
        buf += n;
        len -= (size_t)n;
    }
    return 1;
}

/* Reads one short frame's body into buf (at least 256 bytes); returns its size, -1 when
 * none came. */
static int read_short_frame(int fd, unsigned char *buf)
{
    unsigned char head[2];
    if (!read_exact(fd, head, 2) || (head[0] & 0x02))
        return -1;
    return read_exact(fd, buf, head[1]) ? head[1] : -1;
}

/* A hostile client of a PLAIN or CURVE server: `mechanism` for the fixture, then as
 * `hostile`. */
static void hostile_to(int mechanism, const unsigned char *bytes, size_t len, int handshake_ivl)
{
    fixture_mechanism = mechanism;
    hostile(bytes, len, -1, handshake_ivl, 0, CLOSE_WITHIN_MS);
    fixture_mechanism = ZMQ_NULL;
}

/* PLAIN HELLO frames: cut inside the username, a password longer than the frame, bytes
 * after the password, and INITIATE where HELLO belongs. */
static void test_plain_malformed_hello(void)
{
    static const struct {
        const char *name;
        const char *data;
        size_t len;
    } cases[] = {
        {"HELLO", "\x05" "adm", 4},
        {"HELLO", "\x05" "admin\x09pass", 11},
        {"HELLO", "\x05" "admin\x08passwordXX", 16},
        {"HELLO", "", 0},
        {"INITIATE", "", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char buf[256];
        size_t n = zmtp3_greeting(buf, "PLAIN");
        n += command(buf + n, cases[i].name, (const unsigned char *)cases[i].data, cases[i].len);
        hostile_to(ZMQ_PLAIN, buf, n, 0);
    }
}

/* A wrong password gets ERROR; the client then stalls: HANDSHAKE_IVL ends it. A client that
 * stops after HELLO the same. */
static void test_plain_refused_or_stalled_client(void)
{
    unsigned char buf[256];
    size_t n = zmtp3_greeting(buf, "PLAIN");
    n += command(buf + n, "HELLO", (const unsigned char *)"\x05" "admin\x05guess", 12);
    hostile_to(ZMQ_PLAIN, buf, n, 200);
    n = zmtp3_greeting(buf, "PLAIN");
    n += command(buf + n, "HELLO", (const unsigned char *)"\x05" "admin\x08password", 15);
    hostile_to(ZMQ_PLAIN, buf, n, 200);
}

/* A client that completes PLAIN (ZAP lets it in), then sends garbage: a frame with reserved
 * flags. */
static void test_plain_garbage_after_ready(void)
{
    fixture_mechanism = ZMQ_PLAIN;
    fixture_t f;
    setup(&f, -1, 0);
    int fd = raw_connect(f.port);
    unsigned char buf[512];
    size_t n = zmtp3_greeting(buf, "PLAIN");
    n += command(buf + n, "HELLO", (const unsigned char *)"\x05" "admin\x08password", 15);
    raw_send(fd, buf, n);
    CHECK(read_exact(fd, buf, 64));
    CHECK(read_short_frame(fd, buf) == 8 && memcmp(buf, "\x07WELCOME", 8) == 0);
    unsigned char props[64];
    size_t pl = property(props, "Socket-Type", "PUSH");
    n = command(buf, "INITIATE", props, pl);
    raw_send(fd, buf, n);
    int ready = read_short_frame(fd, buf);
    CHECK(ready > 6 && memcmp(buf, "\x05READY", 6) == 0);
    const unsigned char garbage[] = {0xF0, 0x03, 'x', 'y', 'z'};
    raw_send(fd, garbage, sizeof garbage);
    CHECK(closed_by_peer_within(fd, CLOSE_WITHIN_MS));
    close(fd);
    still_works_and_teardown(&f);
    fixture_mechanism = ZMQ_NULL;
}

/* CURVE HELLO commands the server must refuse: one byte short, one byte long, a box that
 * does not open (random bytes), an unknown version, and INITIATE where HELLO belongs. */
static void test_curve_malformed_hello(void)
{
    for (int i = 0; i < 5; i++) {
        unsigned char data[256];
        size_t len = 194; /* HELLO's body is 200 bytes: 6 of name, 194 of data */
        fill_random(data, sizeof data, (uint32_t)(i + 7));
        data[0] = 1;
        data[1] = 0;
        const char *name = "HELLO";
        if (i == 0)
            len = 193;
        else if (i == 1)
            len = 195;
        else if (i == 3)
            data[0] = 2;
        else if (i == 4)
            name = "INITIATE";
        unsigned char buf[512];
        size_t n = zmtp3_greeting(buf, "CURVE");
        n += command(buf + n, name, data, len);
        hostile_to(ZMQ_CURVE, buf, n, 0);
    }
}

/* A CURVE client that stalls after the greeting: HANDSHAKE_IVL (200 ms) ends it. */
static void test_curve_stalled_client(void)
{
    unsigned char buf[64];
    zmtp3_greeting(buf, "CURVE");
    hostile_to(ZMQ_CURVE, buf, sizeof buf, 200);
}

/* Many hostile clients at once against one socket, with a good PUSH throughout. */
static void test_many_at_once(void)
{
    fixture_t f;
    setup(&f, 1000, 500);
    enum { N = 16 };
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = raw_connect(f.port);
        unsigned char buf[2048];
        size_t n;
        switch (i % 4) {
        case 0:
            n = zmtp3_greeting(buf, "BOGUS");
            break;
        case 1:
            n = handshake(buf, "PUB");
            break;
        case 2:
            n = handshake(buf, "PUSH");
            buf[n++] = 0x02;
            memset(buf + n, 0xFF, 8);
            n += 8;
            break;
        default:
            n = 0; /* silent: the handshake timer ends it */
            break;
        }
        raw_send(fds[i], buf, n);
    }
    for (int i = 0; i < N; i++) {
        CHECK(closed_by_peer_within(fds[i], CLOSE_WITHIN_MS));
        close(fds[i]);
    }
    still_works_and_teardown(&f);
}

/* A slow reader still gets everything: a bound PUSH of ours sends 16 MiB to a raw PULL peer
 * that reads nothing for a while, then closes with LINGER 10 s and terminates its context.
 * zmq_ctx_term must wait for the accepted connection to flush (the peer's socket buffers
 * hold far less than 16 MiB), and the peer must receive every byte. */
typedef struct {
    void *ctx;
    void *push;
    long returned_ms;
} closer_t;

static void *close_and_term(void *arg)
{
    closer_t *c = arg;
    CHECK_OK(zmq_close(c->push));
    CHECK_OK(zmq_ctx_term(c->ctx));
    c->returned_ms = now_ms();
    return NULL;
}

static void test_slow_reader_gets_everything_before_term_returns(void)
{
    closer_t c = {zmq_ctx_new(), NULL, 0};
    c.push = zmq_socket(c.ctx, ZMQ_PUSH);
    int linger = 10000;
    CHECK_OK(zmq_setsockopt(c.push, ZMQ_LINGER, &linger, sizeof linger));
    CHECK_OK(zmq_bind(c.push, "tcp://127.0.0.1:*"));
    char ep[256];
    size_t len = sizeof ep;
    CHECK_OK(zmq_getsockopt(c.push, ZMQ_LAST_ENDPOINT, ep, &len));
    int fd = raw_connect(atoi(strrchr(ep, ':') + 1));
    unsigned char hs[128];
    raw_send(fd, hs, handshake(hs, "PULL"));
    /* The handshake completes (our greeting and READY arrive), then the message is sent. */
    unsigned char buf[1 << 16];
    size_t got = 0;
    while (got < 64) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        CHECK(n > 0);
        got += (size_t)n;
    }
    const size_t big = 16u << 20;
    zmq_msg_t m;
    CHECK_OK(zmq_msg_init_size(&m, big));
    memset(zmq_msg_data(&m), 'z', big);
    CHECK(zmq_msg_send(&m, c.push, 0) == (int)big);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, close_and_term, &c) == 0);
    usleep(300 * 1000);
    long reading_from = now_ms();
    /* Everything up to the end of the stream: the rest of READY, a 9-byte header, the body. */
    size_t total = got;
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        CHECK(n >= 0);
        if (n == 0)
            break;
        total += (size_t)n;
    }
    CHECK(pthread_join(t, NULL) == 0);
    CHECK(total >= 64 + 9 + big);
    CHECK(c.returned_ms >= reading_from);
    close(fd);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    CHECK_OK(zmq_curve_keypair(curve_server_public, curve_server_secret));
    CHECK_OK(zmq_curve_keypair(curve_client_public, curve_client_secret));
    RUN(test_random_garbage);
    RUN(test_zero_first_byte);
    RUN(test_bad_revision);
    RUN(test_revision_2_junk);
    RUN(test_mechanism_bogus);
    RUN(test_mechanism_plain_vs_null);
    RUN(test_mechanism_curve_vs_null);
    RUN(test_ready_metadata_past_end);
    RUN(test_ready_name_past_end);
    RUN(test_ready_without_socket_type);
    RUN(test_ready_incompatible_type);
    RUN(test_ready_unknown_type);
    RUN(test_other_command_in_handshake);
    RUN(test_message_in_handshake);
    RUN(test_command_name_past_end);
    RUN(test_reserved_flags);
    RUN(test_unknown_command_after_handshake);
    RUN(test_long_frame_2_62);
    RUN(test_long_frame_max);
    RUN(test_over_maxmsgsize);
    RUN(test_over_maxmsgsize_header_only);
    RUN(test_maxmsgsize_after_good_frames);
    RUN(test_truncated_frame_then_close);
    RUN(test_truncated_greeting_then_close);
    RUN(test_truncated_frame_then_full_close);
    RUN(test_silent_client);
    RUN(test_stall_mid_greeting);
    RUN(test_stall_before_ready);
    RUN(test_plain_malformed_hello);
    RUN(test_plain_refused_or_stalled_client);
    RUN(test_plain_garbage_after_ready);
    RUN(test_curve_malformed_hello);
    RUN(test_curve_stalled_client);
    RUN(test_many_at_once);
    RUN(test_slow_reader_gets_everything_before_term_returns);
    return 0;
}
