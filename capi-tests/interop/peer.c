/* Interop peer on OUR libzmq (built against include/zmq.h, linked with an rpath to our library).
 * Its twin capi-tests/interop/peer.py runs on Debian's libzmq (python3-zmq); capi-tests/interop.sh
 * pairs them in separate processes.
 *
 *   peer ROLE TYPE ENDPOINT SCENARIO
 *     ROLE      bind | connect   (bind prints ZMQ_LAST_ENDPOINT on stdout, one line)
 *     TYPE      PAIR PUSH PULL REQ REP DEALER ROUTER PUB SUB XPUB XSUB
 *     SCENARIO  basic | heartbeat | plain[-nozap|-wrong] | curve[-nozap|-wrong] | curve-heartbeat
 *   env INTEROP_SYNC   PUB/SUB only: a file the SUB creates once it got its first message,
 *                      so the PUB knows the subscription arrived
 *
 * The protocol (must match peer.py):
 *   messages M = [""], ["a"], ["one","two","three"], [1 MiB]          (echo types)
 *   PAIR/DEALER/REQ (or PAIR on connect): send each m, receive it back, compare
 *   PAIR on bind / REP / ROUTER: receive each m, compare, send it back
 *     (DEALER sets ZMQ_ROUTING_ID "dealer-id"; ROUTER checks the first frame is that)
 *   PUSH sends M, PULL receives and compares
 *   PUB/XPUB: messages P = ["topic"], ["topic.multi","two","three"], ["topic" + 1 MiB - 5]
 *     and filtered F = [""], ["x"], ["other"]; SUB/XSUB subscribe to "topic"
 *     PUB sends "topic.sync" every 20 ms until INTEROP_SYNC exists; XPUB receives "\x01topic";
 *     then both send F and P interleaved, then "topic.end"; SUB/XSUB skip "topic.sync" and
 *     must receive exactly P then "topic.end"
 *   heartbeat (PAIR, ZMQ_HEARTBEAT_IVL 100): connect side sends "hb1", bind side echoes,
 *     both stay idle ~500 ms, then "hb2" the same way
 *   plain: as basic, over PLAIN: the bind side is the server, with a ZAP handler (its own
 *     thread) that lets in "admin" / "password" with User-Id "admin"; the connect side is the
 *     client with those credentials. peer.c checks User-Id on what its server receives.
 *   curve: the same over CURVE: secret keys are bytes 1..32 (server) and 101..132 (client),
 *     public keys derived from them; the ZAP handler lets in the client's public key.
 *   curve-heartbeat: heartbeat over CURVE (PING and PONG inside the boxes).
 *   -nozap: the server runs no ZAP handler (PLAIN then lets no one in; CURVE lets in anyone
 *     who knows the server key). -wrong: the client has a wrong password, or a key the handler
 *     does not know (secret bytes 201..232).
 *   A refused client (plain-nozap, *-wrong; PUSH to PULL): the PUSH queues one message; both
 *     sides must see a HANDSHAKE_FAILED_* event on their monitor, and the PULL gets nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include <zmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#define BIG (1024 * 1024)
#define MAXPARTS 8

static void die(const char *what)
{
    fprintf(stderr, "peer.c: %s: %s (errno %d)\n", what, zmq_strerror(zmq_errno()), zmq_errno());
    exit(1);
}

static void fail(const char *what)
{
    fprintf(stderr, "peer.c: %s\n", what);
    exit(1);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

typedef struct {
    int n;
    const char *data[MAXPARTS];
    size_t len[MAXPARTS];
} parts_t;

static char *big;
/* PLAIN server: received messages must carry the ZAP handler's User-Id. */
static int check_user_id;

static void check_user(zmq_msg_t *m)
{
    const char *u = zmq_msg_gets(m, "User-Id");
    if (check_user_id && (!u || strcmp(u, "admin") != 0))
        fail("PLAIN: a received message does not carry User-Id \"admin\"");
}

static volatile int zap_stop;
/* curve: the client's public key the ZAP handler lets in. */
static unsigned char zap_curve_client[32];

/* The curve scenario's keys, as Z85 (41 bytes each); `wrong`: the client's are another pair. */
static void curve_keys(char *server_secret, char *server_public, char *client_secret,
                       char *client_public, int wrong)
{
    unsigned char ss[32], cs[32];
    for (int i = 0; i < 32; i++) {
        ss[i] = (unsigned char)(i + 1);
        cs[i] = (unsigned char)(i + (wrong ? 201 : 101));
    }
    if (!zmq_z85_encode(server_secret, ss, 32) || !zmq_z85_encode(client_secret, cs, 32) ||
        zmq_curve_public(server_public, server_secret) < 0 ||
        zmq_curve_public(client_public, client_secret) < 0)
        die("curve keys");
}

/* The ZAP handler of the plain scenario (RFC 27): admin/password gets 200, anyone else 400. */
static void *zap_handler(void *h)
{
    while (!zap_stop) {
        char f[10][64];
        int sz[10];
        int n = 0, more = 1;
        while (more && n < 10) {
            int r = zmq_recv(h, f[n], sizeof f[n] - 1, 0);
            if (r < 0)
                break;
            f[n][r < 63 ? r : 63] = 0;
            sz[n] = r;
            n++;
            size_t len = sizeof more;
            zmq_getsockopt(h, ZMQ_RCVMORE, &more, &len);
        }
        if (n == 0)
            continue;
        int ok = (n == 8 && !strcmp(f[5], "PLAIN") && !strcmp(f[6], "admin") && !strcmp(f[7], "password")) ||
                 (n == 7 && !strcmp(f[5], "CURVE") && sz[6] == 32 && !memcmp(f[6], zap_curve_client, 32));
        zmq_send(h, "1.0", 3, ZMQ_SNDMORE);
        zmq_send(h, f[1], strlen(f[1]), ZMQ_SNDMORE);
        zmq_send(h, ok ? "200" : "400", 3, ZMQ_SNDMORE);
        zmq_send(h, "", 0, ZMQ_SNDMORE);
        zmq_send(h, ok ? "admin" : "", ok ? 5 : 0, ZMQ_SNDMORE);
        zmq_send(h, "", 0, 0);
    }
    zmq_close(h);
    return NULL;
}

static parts_t mk(int n, ...);
#include <stdarg.h>
static parts_t mk(int n, ...)
{
    parts_t p;
    va_list ap;
    va_start(ap, n);
    p.n = n;
    for (int i = 0; i < n; i++) {
        p.data[i] = va_arg(ap, const char *);
        p.len[i] = va_arg(ap, size_t);
    }
    va_end(ap);
    return p;
}

static void send_parts(void *s, const parts_t *p)
{
    for (int i = 0; i < p->n; i++)
        if (zmq_send(s, p->data[i], p->len[i], i + 1 < p->n ? ZMQ_SNDMORE : 0) < 0)
            die("zmq_send");
}

/* receives one whole message into msgs[] (caller closes them); returns the part count */
static int recv_parts(void *s, zmq_msg_t *msgs)
{
    int n = 0, more = 1;
    while (more) {
        if (n == MAXPARTS)
            fail("too many parts");
        zmq_msg_init(&msgs[n]);
        if (zmq_msg_recv(&msgs[n], s, 0) < 0)
            die("zmq_msg_recv");
        more = zmq_msg_more(&msgs[n]);
        n++;
    }
    return n;
}

static void close_parts(zmq_msg_t *msgs, int n)
{
    for (int i = 0; i < n; i++)
        zmq_msg_close(&msgs[i]);
}

static int same(zmq_msg_t *msgs, int n, const parts_t *p)
{
    if (n != p->n)
        return 0;
    for (int i = 0; i < n; i++)
        if (zmq_msg_size(&msgs[i]) != p->len[i] || memcmp(zmq_msg_data(&msgs[i]), p->data[i], p->len[i]))
            return 0;
    return 1;
}

static void expect(void *s, const parts_t *p, const char *what)
{
    zmq_msg_t msgs[MAXPARTS];
    int n = recv_parts(s, msgs);
    if (!same(msgs, n, p)) {
        fprintf(stderr, "peer.c: unexpected message (%d parts, first %zu bytes) for %s\n", n,
                zmq_msg_size(&msgs[0]), what);
        exit(1);
    }
    check_user(&msgs[0]);
    close_parts(msgs, n);
}

static void setint(void *s, int opt, int v)
{
    if (zmq_setsockopt(s, opt, &v, sizeof v) < 0)
        die("zmq_setsockopt");
}

static int type_of(const char *t)
{
    static const struct { const char *n; int v; } types[] = {
        {"PAIR", ZMQ_PAIR}, {"PUSH", ZMQ_PUSH}, {"PULL", ZMQ_PULL}, {"REQ", ZMQ_REQ},
        {"REP", ZMQ_REP}, {"DEALER", ZMQ_DEALER}, {"ROUTER", ZMQ_ROUTER}, {"PUB", ZMQ_PUB},
        {"SUB", ZMQ_SUB}, {"XPUB", ZMQ_XPUB}, {"XSUB", ZMQ_XSUB}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(t, types[i].n))
            return types[i].v;
    fail("unknown socket type");
    return -1;
}

int main(int argc, char **argv)
{
    if (argc != 5)
        fail("usage: peer bind|connect TYPE ENDPOINT SCENARIO (see the top of peer.c)");
    const char *role = argv[1], *ep = argv[3], *scenario = argv[4];
    int bind = !strcmp(role, "bind");
    int type = type_of(argv[2]);
    int hb = !strcmp(scenario, "heartbeat") || !strcmp(scenario, "curve-heartbeat");
    int curve = !strncmp(scenario, "curve", 5);
    int plain = !strncmp(scenario, "plain", 5) || curve;
    int nozap = strstr(scenario, "-nozap") != NULL;
    int wrong = strstr(scenario, "-wrong") != NULL;
    int refused = wrong || (plain && !curve && nozap);
    if (!hb && !plain && strcmp(scenario, "basic"))
        fail("unknown scenario");

    big = malloc(BIG);
    if (!big)
        fail("malloc");
    for (int i = 0; i < BIG; i++)
        big[i] = (char)(i % 251);
    memcpy(big, "topic", 5);

    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, type);
    if (!s)
        die("zmq_socket");
    setint(s, ZMQ_RCVTIMEO, 5000);
    setint(s, ZMQ_SNDTIMEO, 5000);
    setint(s, ZMQ_LINGER, 5000);
    if (hb)
        setint(s, ZMQ_HEARTBEAT_IVL, 100);
    if (type == ZMQ_DEALER && zmq_setsockopt(s, ZMQ_ROUTING_ID, "dealer-id", 9) < 0)
        die("ZMQ_ROUTING_ID");
    if (type == ZMQ_SUB && zmq_setsockopt(s, ZMQ_SUBSCRIBE, "topic", 5) < 0)
        die("ZMQ_SUBSCRIBE");
    pthread_t zap_thread;
    if (plain && bind) {
        if (!nozap) {
            void *h = zmq_socket(ctx, ZMQ_REP);
            if (!h || zmq_bind(h, "inproc://zeromq.zap.01") < 0)
                die("ZAP handler");
            setint(h, ZMQ_RCVTIMEO, 50);
            setint(h, ZMQ_LINGER, 0);
            if (pthread_create(&zap_thread, NULL, zap_handler, h) != 0)
                fail("pthread_create");
        }
        /* An XPUB's subscriptions carry no metadata (in libzmq either), and without a
         * handler there is no User-Id: nothing to check. */
        check_user_id = type != ZMQ_XPUB && !nozap;
        if (curve) {
            char ss[41], sp[41], cs[41], cp[41];
            curve_keys(ss, sp, cs, cp, 0);
            if (!zmq_z85_decode(zap_curve_client, cp))
                die("zmq_z85_decode");
            setint(s, ZMQ_CURVE_SERVER, 1);
            if (zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, ss, 40) < 0)
                die("ZMQ_CURVE_SECRETKEY");
        } else {
            setint(s, ZMQ_PLAIN_SERVER, 1);
        }
    } else if (curve) {
        char ss[41], sp[41], cs[41], cp[41];
        curve_keys(ss, sp, cs, cp, wrong);
        if (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, sp, 41) < 0 ||
            zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, cp, 40) < 0 ||
            zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, cs, 41) < 0)
            die("CURVE keys");
    } else if (plain) {
        if (zmq_setsockopt(s, ZMQ_PLAIN_USERNAME, "admin", 5) < 0 ||
            zmq_setsockopt(s, ZMQ_PLAIN_PASSWORD, wrong ? "wrong" : "password", wrong ? 5 : 8) < 0)
            die("PLAIN credentials");
    }
    void *mon = NULL;
    if (refused) {
        if (zmq_socket_monitor(s, "inproc://peer-monitor",
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) < 0)
            die("zmq_socket_monitor");
        mon = zmq_socket(ctx, ZMQ_PAIR);
        if (!mon || zmq_connect(mon, "inproc://peer-monitor") < 0)
            die("monitor PAIR");
        setint(mon, ZMQ_RCVTIMEO, 3000);
        setint(mon, ZMQ_LINGER, 0);
    }

    if (bind) {
        char last[256];
        size_t len = sizeof last;
        if (zmq_bind(s, ep) < 0)
            die("zmq_bind");
        if (zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, last, &len) < 0)
            die("ZMQ_LAST_ENDPOINT");
        printf("%s\n", last);
        fflush(stdout);
    } else if (zmq_connect(s, ep) < 0) {
        die("zmq_connect");
    }

    parts_t echo[4] = {mk(1, "", (size_t)0), mk(1, "a", (size_t)1),
                       mk(3, "one", (size_t)3, "two", (size_t)3, "three", (size_t)5),
                       mk(1, (const char *)big, (size_t)BIG)};
    parts_t pubm[3] = {mk(1, "topic", (size_t)5),
                       mk(3, "topic.multi", (size_t)11, "two", (size_t)3, "three", (size_t)5),
                       mk(1, (const char *)big, (size_t)BIG)};
    parts_t filtered[3] = {mk(1, "", (size_t)0), mk(1, "x", (size_t)1), mk(1, "other", (size_t)5)};
    parts_t sync = mk(1, "topic.sync", (size_t)10), end = mk(1, "topic.end", (size_t)9);

    if (refused) {
        if (type == ZMQ_PUSH) {
            send_parts(s, &echo[1]);
        } else if (type == ZMQ_PULL) {
            char buf[8];
            setint(s, ZMQ_RCVTIMEO, 1500);
            if (zmq_recv(s, buf, sizeof buf, 0) >= 0)
                fail("a refused client got a message through");
        } else {
            fail("refused scenarios are PUSH to PULL");
        }
        unsigned char ev[6];
        if (zmq_recv(mon, ev, sizeof ev, 0) != 6)
            fail("no HANDSHAKE_FAILED event for a refused client");
        setint(s, ZMQ_LINGER, 0);
        zmq_socket_monitor(s, NULL, 0);
        zmq_close(mon);
    } else if (hb) {
        parts_t h[2] = {mk(1, "hb1", (size_t)3), mk(1, "hb2", (size_t)3)};
        if (type != ZMQ_PAIR)
            fail("heartbeat scenario is PAIR only");
        for (int i = 0; i < 2; i++) {
            if (!bind) {
                if (i)
                    sleep_ms(500);
                send_parts(s, &h[i]);
                expect(s, &h[i], "heartbeat echo");
            } else {
                expect(s, &h[i], "heartbeat");
                send_parts(s, &h[i]);
            }
        }
    } else if ((type == ZMQ_PAIR && !bind) || type == ZMQ_REQ || type == ZMQ_DEALER) {
        for (int i = 0; i < 4; i++) {
            send_parts(s, &echo[i]);
            expect(s, &echo[i], "echo reply");
        }
    } else if (type == ZMQ_PAIR || type == ZMQ_REP) {
        for (int i = 0; i < 4; i++) {
            expect(s, &echo[i], "echo request");
            send_parts(s, &echo[i]);
        }
    } else if (type == ZMQ_ROUTER) {
        for (int i = 0; i < 4; i++) {
            zmq_msg_t msgs[MAXPARTS];
            int n = recv_parts(s, msgs);
            if (n < 2 || zmq_msg_size(&msgs[0]) != 9 || memcmp(zmq_msg_data(&msgs[0]), "dealer-id", 9))
                fail("ROUTER: first frame is not the dealer's routing id");
            if (!same(msgs + 1, n - 1, &echo[i]))
                fail("ROUTER: unexpected body");
            check_user(&msgs[1]);
            for (int j = 0; j < n; j++)
                if (zmq_msg_send(&msgs[j], s, j + 1 < n ? ZMQ_SNDMORE : 0) < 0)
                    die("ROUTER zmq_msg_send");
        }
    } else if (type == ZMQ_PUSH) {
        for (int i = 0; i < 4; i++)
            send_parts(s, &echo[i]);
    } else if (type == ZMQ_PULL) {
        for (int i = 0; i < 4; i++)
            expect(s, &echo[i], "PULL");
    } else if (type == ZMQ_PUB || type == ZMQ_XPUB) {
        if (type == ZMQ_PUB) {
            const char *f = getenv("INTEROP_SYNC");
            int waited = 0;
            if (!f)
                fail("PUB needs INTEROP_SYNC");
            while (access(f, F_OK) != 0) {
                if (waited > 10000)
                    fail("PUB: the subscriber never got a message");
                send_parts(s, &sync);
                sleep_ms(20);
                waited += 20;
            }
        } else {
            parts_t sub = mk(1, "\x01topic", (size_t)6);
            expect(s, &sub, "XPUB subscription");
        }
        for (int i = 0; i < 3; i++) {
            send_parts(s, &filtered[i]);
            send_parts(s, &pubm[i]);
        }
        send_parts(s, &end);
    } else if (type == ZMQ_SUB || type == ZMQ_XSUB) {
        zmq_msg_t msgs[MAXPARTS];
        int n, got_sync = 0;
        if (type == ZMQ_XSUB)
            send_parts(s, &(parts_t){1, {"\x01topic"}, {6}});
        for (;;) { /* skip the syncs */
            n = recv_parts(s, msgs);
            if (!same(msgs, n, &sync))
                break;
            close_parts(msgs, n);
            if (!got_sync && type == ZMQ_SUB) {
                const char *f = getenv("INTEROP_SYNC");
                FILE *fp = f ? fopen(f, "w") : NULL;
                if (!fp)
                    fail("SUB needs a writable INTEROP_SYNC");
                fclose(fp);
            }
            got_sync = 1;
        }
        if (!same(msgs, n, &pubm[0]))
            fail("SUB: first message is not the first published one (filter or order broken)");
        close_parts(msgs, n);
        for (int i = 1; i < 3; i++)
            expect(s, &pubm[i], "SUB");
        expect(s, &end, "SUB end");
    }

    zmq_close(s);
    if (plain && bind && !nozap) {
        zap_stop = 1;
        pthread_join(zap_thread, NULL);
    }
    zmq_ctx_term(ctx);
    free(big);
    return 0;
}
