/* Security: NULL with and without ZAP, PLAIN and CURVE with a ZAP handler, and the handshake events of
 * each failure, as libzmq raises them (events, ZMQ_PROTOCOL_ERROR_* values, ZAP status
 * codes). A ZAP handler thread answers by mechanism and credentials (see zap_handler). */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>

#include "rawtcp.h"

/* In the draft section of zmq.h; setsockopt takes it in every build, as libzmq's does. */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

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

static int get_int(void *s, int opt)
{
    int v = -1;
    size_t len = sizeof v;
    CHECK_OK(zmq_getsockopt(s, opt, &v, &len));
    return v;
}

/* The PLAIN options choose the mechanism as libzmq's do: a username or password makes a
 * client, PLAIN_SERVER a server, NULL (not an empty string) goes back to NULL. */
static void test_plain_options_choose_the_mechanism_as_libzmq(void)
{
    void *s = sock(ZMQ_DEALER);
    CHECK(get_int(s, ZMQ_MECHANISM) == ZMQ_NULL);
    set_int(s, ZMQ_PLAIN_SERVER, 1);
    CHECK(get_int(s, ZMQ_MECHANISM) == ZMQ_PLAIN);
    CHECK(get_int(s, ZMQ_PLAIN_SERVER) == 1);
    CHECK_OK(zmq_setsockopt(s, ZMQ_PLAIN_USERNAME, "admin", 5));
    CHECK(get_int(s, ZMQ_MECHANISM) == ZMQ_PLAIN);
    CHECK(get_int(s, ZMQ_PLAIN_SERVER) == 0);
    char buf[256];
    size_t len = sizeof buf;
    CHECK_OK(zmq_getsockopt(s, ZMQ_PLAIN_USERNAME, buf, &len));
    CHECK(len == 6 && strcmp(buf, "admin") == 0);
    CHECK_ERRNO(zmq_setsockopt(s, ZMQ_PLAIN_PASSWORD, "", 0), EINVAL);
    char long_name[256];
    memset(long_name, 'x', sizeof long_name);
    CHECK_ERRNO(zmq_setsockopt(s, ZMQ_PLAIN_PASSWORD, long_name, 256), EINVAL);
    CHECK_OK(zmq_setsockopt(s, ZMQ_PLAIN_PASSWORD, NULL, 0));
    CHECK(get_int(s, ZMQ_MECHANISM) == ZMQ_NULL);
    len = sizeof buf;
    CHECK_OK(zmq_getsockopt(s, ZMQ_PLAIN_USERNAME, buf, &len));
    CHECK(strcmp(buf, "admin") == 0); /* kept, as libzmq keeps it */
    int two = 2;
    CHECK_ERRNO(zmq_setsockopt(s, ZMQ_PLAIN_SERVER, &two, sizeof two), EINVAL);
    set_int(s, ZMQ_ZAP_ENFORCE_DOMAIN, 5);
    CHECK(get_int(s, ZMQ_ZAP_ENFORCE_DOMAIN) == 1);
    CHECK(!zmq_has("plain")); /* not a capability in libzmq either: always there */
    CHECK_OK(zmq_close(s));
}

/* ---- a ZAP handler --------------------------------------------------------------------- */

static int zap_stop; /* set by the main thread, read by the handler: __atomic builtins */
static int zap_requests; /* counted by the handler, read by the main thread: __atomic builtins */
static int zap_running;
static pthread_t zap_thread;

/* Receives one part into buf (NUL-terminated); returns its size, -1 on timeout. */
static int recv_part(void *s, char *buf, size_t cap, int *more)
{
    int n = zmq_recv(s, buf, cap - 1, 0);
    if (n < 0)
        return -1;
    buf[n < (int)cap - 1 ? n : (int)cap - 1] = 0;
    *more = get_int(s, ZMQ_RCVMORE);
    return n;
}

/* The CURVE keys of the tests (Z85), made once: the server's, the client the ZAP handler
 * lets in, and a stranger's. */
static char server_public[41], server_secret[41], client_public[41], client_secret[41],
    stranger_public[41], stranger_secret[41];

/* Answers: PLAIN admin/password 200 (user id "admin", metadata Hello=World), other
 * credentials 400; CURVE: client_public 200 (user id "admin"), another key 400; NULL by domain: "ok" 200 (user id "anonymous"), "later" 300, "broken" a
 * reply with version 2.0, anything else 400. */
static void *zap_handler(void *arg)
{
    void *h = arg;
    set_int(h, ZMQ_RCVTIMEO, 50);
    while (!__atomic_load_n(&zap_stop, __ATOMIC_ACQUIRE)) {
        char parts[10][256];
        int sizes[10];
        int n = 0, more = 1;
        if ((sizes[0] = recv_part(h, parts[0], sizeof parts[0], &more)) < 0)
            continue;
        for (n = 1; more && n < 10; n++)
            CHECK((sizes[n] = recv_part(h, parts[n], sizeof parts[n], &more)) >= 0);
        /* version, request id, domain, address, identity, mechanism, credentials */
        CHECK(n >= 6 && strcmp(parts[0], "1.0") == 0 && strcmp(parts[1], "1") == 0);
        /* The peer's address: its IP for tcp, localhost:UID:GID:PID for ipc, as libzmq. */
        CHECK(strcmp(parts[3], "127.0.0.1") == 0 || strncmp(parts[3], "localhost:", 10) == 0);
        const char *mech = parts[5], *domain = parts[2];
        const char *status = "400", *user = "", *version = "1.0";
        if (strcmp(mech, "PLAIN") == 0) {
            CHECK(n == 8);
            if (strcmp(parts[6], "admin") == 0 && strcmp(parts[7], "password") == 0) {
                status = "200";
                user = "admin";
            }
        } else if (strcmp(mech, "CURVE") == 0) {
            uint8_t key[32];
            CHECK(n == 7 && sizes[6] == 32);
            CHECK(zmq_z85_decode(key, client_public) != NULL);
            if (memcmp(parts[6], key, 32) == 0) {
                status = "200";
                user = "admin";
            }
        } else {
            CHECK(strcmp(mech, "NULL") == 0 && n == 6);
            if (strcmp(domain, "ok") == 0) {
                status = "200";
                user = "anonymous";
            } else if (strcmp(domain, "later") == 0) {
                status = "300";
            } else if (strcmp(domain, "broken") == 0) {
                status = "200";
                version = "2.0";
            }
        }
        /* Metadata: Hello = World. */
        const unsigned char md[] = {5, 'H', 'e', 'l', 'l', 'o', 0, 0, 0, 5, 'W', 'o', 'r', 'l', 'd'};
        __atomic_fetch_add(&zap_requests, 1, __ATOMIC_RELEASE); /* before the reply, so the test sees it once it is answered */
        CHECK(zmq_send(h, version, strlen(version), ZMQ_SNDMORE) >= 0);
        CHECK(zmq_send(h, "1", 1, ZMQ_SNDMORE) >= 0);
        CHECK(zmq_send(h, status, 3, ZMQ_SNDMORE) >= 0);
        CHECK(zmq_send(h, "text", 4, ZMQ_SNDMORE) >= 0);
        CHECK(zmq_send(h, user, strlen(user), ZMQ_SNDMORE) >= 0);
        CHECK(zmq_send(h, md, sizeof md, 0) >= 0);
    }
    CHECK_OK(zmq_close(h));
    return NULL;
}

static void start_zap_handler(void)
{
    void *h = sock(ZMQ_REP);
    CHECK_OK(zmq_bind(h, "inproc://zeromq.zap.01"));
    __atomic_store_n(&zap_stop, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&zap_requests, 0, __ATOMIC_RELEASE);
    zap_running = 1;
    CHECK(pthread_create(&zap_thread, NULL, zap_handler, h) == 0);
}

static void stop_zap_handler(void)
{
    __atomic_store_n(&zap_stop, 1, __ATOMIC_RELEASE);
    CHECK(pthread_join(zap_thread, NULL) == 0);
    zap_running = 0;
}

#define HANDSHAKE_EVENTS                                                            \
    (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |          \
     ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

/* What the server and the client saw of one connection attempt. */
struct outcome {
    int server_event, client_event;
    unsigned server_value, client_value;
    int delivered;
};

typedef void (*configure_fn)(void *s);

/* A server configured by `server_cfg` and a client by `client_cfg` connect over
 * `transport`; the first handshake event each side raises (0: none within 2 s for the
 * client, 5 s for the server) and whether a message gets through. When it does and the ZAP
 * handler runs, the received message carries its User-Id and metadata (checked here). */
static struct outcome attempt(const char *transport, configure_fn server_cfg, configure_fn client_cfg)
{
    static int n;
    char name[64];
    struct outcome o = {0, 0, 0, 0, 0};
    void *server = sock(ZMQ_DEALER);
    server_cfg(server);
    snprintf(name, sizeof name, "inproc://mon-server-%d", n);
    void *smon = monitor(server, name, HANDSHAKE_EVENTS);
    char ep[256];
    bind_any(server, transport, ep, sizeof ep);
    void *client = sock(ZMQ_DEALER);
    client_cfg(client);
    snprintf(name, sizeof name, "inproc://mon-client-%d", n++);
    void *cmon = monitor(client, name, HANDSHAKE_EVENTS);
    CHECK_OK(zmq_connect(client, ep));
    o.server_event = next_event(smon, 5000, &o.server_value);
    if (o.server_event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        o.delivered = delivered(client, server, 5000) && delivered(server, client, 5000);
        if (o.delivered && zap_running) {
            zmq_msg_t m;
            CHECK_OK(zmq_msg_init(&m));
            CHECK(zmq_send(client, "meta", 4, 0) == 4);
            CHECK(zmq_msg_recv(&m, server, 0) == 4);
            const char *hello = zmq_msg_gets(&m, "Hello");
            const char *user = zmq_msg_gets(&m, "User-Id");
            const char *type = zmq_msg_gets(&m, "Socket-Type");
            CHECK(hello && strcmp(hello, "World") == 0);
            CHECK(user && user[0]);
            CHECK(type && strcmp(type, "DEALER") == 0);
            CHECK_OK(zmq_msg_close(&m));
        }
    } else {
        CHECK(!delivered(client, server, 300));
    }
    o.client_event = next_event(cmon, o.delivered ? 5000 : 2000, &o.client_value);
    CHECK_OK(zmq_close(client));
    CHECK_OK(zmq_close(cmon));
    CHECK_OK(zmq_close(smon));
    CHECK_OK(zmq_close(server));
    return o;
}

static void plain_server(void *s) { set_int(s, ZMQ_PLAIN_SERVER, 1); }
static void plain_client(void *s)
{
    CHECK_OK(zmq_setsockopt(s, ZMQ_PLAIN_USERNAME, "admin", 5));
    CHECK_OK(zmq_setsockopt(s, ZMQ_PLAIN_PASSWORD, "password", 8));
}
static void plain_client_wrong_password(void *s)
{
    CHECK_OK(zmq_setsockopt(s, ZMQ_PLAIN_USERNAME, "admin", 5));
    CHECK_OK(zmq_setsockopt(s, ZMQ_PLAIN_PASSWORD, "guess", 5));
}
static void curve_server(void *s)
{
    set_int(s, ZMQ_CURVE_SERVER, 1);
    CHECK_OK(zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, server_secret, 40));
}
static void curve_client_as(void *s, const char *public_key, const char *secret_key)
{
    CHECK_OK(zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_public, 41));
    CHECK_OK(zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, public_key, 40));
    CHECK_OK(zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, secret_key, 40));
}
static void curve_client(void *s) { curve_client_as(s, client_public, client_secret); }
static void curve_stranger(void *s) { curve_client_as(s, stranger_public, stranger_secret); }
static void curve_client_wrong_server_key(void *s)
{
    curve_client(s);
    CHECK_OK(zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, stranger_public, 40));
}
static void null_socket(void *s) { (void)s; }
static void domain_ok(void *s) { CHECK_OK(zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, "ok", 2)); }
static void domain_later(void *s) { CHECK_OK(zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, "later", 5)); }
static void domain_no(void *s) { CHECK_OK(zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, "no", 2)); }
static void domain_broken(void *s) { CHECK_OK(zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, "broken", 6)); }
static void domain_enforced(void *s)
{
    domain_ok(s);
    set_int(s, ZMQ_ZAP_ENFORCE_DOMAIN, 1);
}

static void plain_with_zap(const char *transport)
{
    start_zap_handler();
    struct outcome o = attempt(transport, plain_server, plain_client);
    CHECK(o.server_event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED && o.delivered);
    CHECK(o.client_event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    /* A wrong password: ERROR 400 to the client, AUTH 400 on both sides, nothing through. */
    o = attempt(transport, plain_server, plain_client_wrong_password);
    CHECK(o.server_event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && o.server_value == 400);
    CHECK(o.client_event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && o.client_value == 400);
    CHECK(__atomic_load_n(&zap_requests, __ATOMIC_ACQUIRE) == 2);
    stop_zap_handler();
}

static void test_plain_lets_in_whom_zap_lets_in_over_tcp(void) { plain_with_zap("tcp"); }
static void test_plain_lets_in_whom_zap_lets_in_over_ipc(void) { plain_with_zap("ipc"); }

/* With no ZAP handler to check the password, a PLAIN server lets no one in. */
static void test_a_plain_server_without_a_zap_handler_refuses_everyone(void)
{
    struct outcome o = attempt("tcp", plain_server, plain_client);
    CHECK(o.server_event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL && o.server_value == EFAULT);
    CHECK(!o.delivered);
}

/* NULL with a ZAP domain asks the handler: 200 lets in (with its metadata), 400 sends ERROR,
 * 300 says nothing to the client, a malformed reply is a ZAP protocol error. */
static void test_null_with_a_zap_domain_asks_the_handler(void)
{
    start_zap_handler();
    struct outcome o = attempt("tcp", domain_ok, null_socket);
    CHECK(o.server_event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED && o.delivered);
    o = attempt("tcp", domain_no, null_socket);
    CHECK(o.server_event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && o.server_value == 400);
    CHECK(o.client_event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && o.client_value == 400);
    o = attempt("tcp", domain_later, null_socket);
    CHECK(o.server_event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && o.server_value == 300);
    CHECK(o.client_event == 0);
    o = attempt("tcp", domain_broken, null_socket);
    CHECK(o.server_event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
    CHECK(o.server_value == (unsigned)ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION);
    /* The last client sees its connection dropped and tries again: asked again each time. */
    CHECK(__atomic_load_n(&zap_requests, __ATOMIC_ACQUIRE) >= 4);
    stop_zap_handler();
}

/* With no handler bound, libzmq ignores the ZAP domain unless ZMQ_ZAP_ENFORCE_DOMAIN is set;
 * a handler bound with no domain set is not asked. */
static void test_without_a_handler_the_domain_is_enforced_only_on_request(void)
{
    struct outcome o = attempt("tcp", domain_ok, null_socket);
    CHECK(o.server_event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    o = attempt("tcp", domain_enforced, null_socket);
    CHECK(o.server_event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL && o.server_value == EFAULT);
    start_zap_handler();
    void *server = sock(ZMQ_DEALER);
    char ep[256];
    bind_any(server, "tcp", ep, sizeof ep);
    void *client = sock(ZMQ_DEALER);
    CHECK_OK(zmq_connect(client, ep));
    CHECK(delivered(client, server, 5000));
    CHECK(__atomic_load_n(&zap_requests, __ATOMIC_ACQUIRE) == 0);
    CHECK_OK(zmq_close(client));
    CHECK_OK(zmq_close(server));
    stop_zap_handler();
}

/* The CURVE options take and give keys as libzmq's: 32 binary bytes or 40 Z85 characters
 * (41 with the NUL) in, 32 or 41 bytes out by the buffer's size; any other size is EINVAL. */
static void test_curve_options_and_key_helpers_as_libzmq(void)
{
    CHECK(zmq_has("curve"));
    char pub[41], sec[41], derived[41];
    CHECK_OK(zmq_curve_keypair(pub, sec));
    CHECK(strlen(pub) == 40 && strlen(sec) == 40);
    CHECK_OK(zmq_curve_public(derived, sec));
    CHECK(strcmp(derived, pub) == 0);
    CHECK_ERRNO(zmq_curve_public(derived, "tooshort"), EINVAL);
    void *s = sock(ZMQ_DEALER);
    set_int(s, ZMQ_CURVE_SERVER, 1);
    CHECK(get_int(s, ZMQ_MECHANISM) == ZMQ_CURVE);
    CHECK(get_int(s, ZMQ_CURVE_SERVER) == 1);
    uint8_t bin[32];
    CHECK(zmq_z85_decode(bin, pub) != NULL);
    CHECK_OK(zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, bin, 32));
    CHECK_OK(zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40));
    CHECK_OK(zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 41));
    CHECK_ERRNO(zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 39), EINVAL);
    CHECK_ERRNO(zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~", 40),
                EINVAL);
    uint8_t out[64];
    size_t len = 32;
    CHECK_OK(zmq_getsockopt(s, ZMQ_CURVE_PUBLICKEY, out, &len));
    CHECK(len == 32 && memcmp(out, bin, 32) == 0);
    len = 41;
    CHECK_OK(zmq_getsockopt(s, ZMQ_CURVE_PUBLICKEY, out, &len));
    CHECK(len == 41 && strcmp((char *)out, pub) == 0);
    len = 40;
    CHECK_ERRNO(zmq_getsockopt(s, ZMQ_CURVE_PUBLICKEY, out, &len), EINVAL);
    len = 64;
    CHECK_ERRNO(zmq_getsockopt(s, ZMQ_CURVE_PUBLICKEY, out, &len), EINVAL);
    CHECK_OK(zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, pub, 41));
    CHECK(get_int(s, ZMQ_CURVE_SERVER) == 0); /* a server key makes a client */
    CHECK(get_int(s, ZMQ_MECHANISM) == ZMQ_CURVE);
    CHECK_OK(zmq_close(s));
}

static void curve_with_zap(const char *transport)
{
    start_zap_handler();
    struct outcome o = attempt(transport, curve_server, curve_client);
    CHECK(o.server_event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED && o.delivered);
    CHECK(o.client_event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    /* A key the handler does not know: ERROR 400, AUTH 400 on both sides. */
    o = attempt(transport, curve_server, curve_stranger);
    CHECK(o.server_event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && o.server_value == 400);
    CHECK(o.client_event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && o.client_value == 400);
    CHECK(__atomic_load_n(&zap_requests, __ATOMIC_ACQUIRE) == 2);
    /* The wrong server key: the server cannot open HELLO. */
    o = attempt(transport, curve_server, curve_client_wrong_server_key);
    CHECK(o.server_event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
    CHECK(o.server_value == (unsigned)ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC);
    CHECK(!o.delivered);
    stop_zap_handler();
}

static void test_curve_lets_in_the_keys_zap_lets_in_over_tcp(void) { curve_with_zap("tcp"); }
static void test_curve_lets_in_the_keys_zap_lets_in_over_ipc(void) { curve_with_zap("ipc"); }

/* Without a ZAP handler a CURVE server encrypts without authenticating ("Stonehouse"), as
 * libzmq does; any client that knows the server key gets in. */
static void test_curve_without_a_handler_encrypts_for_anyone(void)
{
    struct outcome o = attempt("tcp", curve_server, curve_stranger);
    CHECK(o.server_event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED && o.delivered);
}

/* Misuse: two CURVE servers wait for each other's HELLO until HANDSHAKE_IVL ends it (no
 * event but NO_DETAIL, as in libzmq); a client without a server key cannot make its HELLO
 * (CRYPTOGRAPHIC, as libsodium refuses the all-zero key). Nothing is delivered. */
static void short_handshake(void *s) { set_int(s, ZMQ_HANDSHAKE_IVL, 300); }
static void curve_server_short(void *s)
{
    curve_server(s);
    short_handshake(s);
}
static void curve_client_without_server_key(void *s)
{
    CHECK_OK(zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, client_public, 40));
    CHECK_OK(zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, client_secret, 40));
}

static void test_curve_misuse_fails_the_handshake(void)
{
    struct outcome o = attempt("tcp", curve_server_short, curve_server_short);
    CHECK(o.server_event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL && !o.delivered);
    o = attempt("tcp", curve_server, curve_client_without_server_key);
    CHECK(!o.delivered);
    CHECK(o.client_event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
    CHECK(o.client_value == (unsigned)ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC);
}

/* CURVE against PLAIN: a mechanism mismatch on both sides. */
static void test_curve_against_plain_is_a_mechanism_mismatch(void)
{
    struct outcome o = attempt("tcp", curve_server, plain_client);
    CHECK(o.server_event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
    CHECK(o.server_value == (unsigned)ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH);
    CHECK(o.client_event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
}

/* PLAIN against NULL: neither side sends ERROR; both report the mismatch. */
static void test_plain_against_null_is_a_mechanism_mismatch(void)
{
    struct outcome o = attempt("tcp", null_socket, plain_client);
    CHECK(o.server_event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
    CHECK(o.server_value == (unsigned)ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH);
    CHECK(o.client_event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
    CHECK(o.client_value == (unsigned)ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH);
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
    CHECK_OK(zmq_curve_keypair(server_public, server_secret));
    CHECK_OK(zmq_curve_keypair(client_public, client_secret));
    CHECK_OK(zmq_curve_keypair(stranger_public, stranger_secret));
    RUN_IN_CONTEXT(test_plain_options_choose_the_mechanism_as_libzmq);
    RUN_IN_CONTEXT(test_plain_lets_in_whom_zap_lets_in_over_tcp);
    RUN_IN_CONTEXT(test_plain_lets_in_whom_zap_lets_in_over_ipc);
    RUN_IN_CONTEXT(test_a_plain_server_without_a_zap_handler_refuses_everyone);
    RUN_IN_CONTEXT(test_null_with_a_zap_domain_asks_the_handler);
    RUN_IN_CONTEXT(test_without_a_handler_the_domain_is_enforced_only_on_request);
    RUN_IN_CONTEXT(test_plain_against_null_is_a_mechanism_mismatch);
    RUN_IN_CONTEXT(test_curve_options_and_key_helpers_as_libzmq);
    RUN_IN_CONTEXT(test_curve_lets_in_the_keys_zap_lets_in_over_tcp);
    RUN_IN_CONTEXT(test_curve_lets_in_the_keys_zap_lets_in_over_ipc);
    RUN_IN_CONTEXT(test_curve_without_a_handler_encrypts_for_anyone);
    RUN_IN_CONTEXT(test_curve_against_plain_is_a_mechanism_mismatch);
    RUN_IN_CONTEXT(test_curve_misuse_fails_the_handshake);
    RUN_IN_CONTEXT(test_a_mechanism_mismatch_is_a_protocol_failure);
    RUN_IN_CONTEXT(test_an_unexpected_handshake_command_is_a_protocol_failure);
    RUN_IN_CONTEXT(test_a_malformed_error_command_is_a_protocol_failure);
    RUN_IN_CONTEXT(test_an_error_with_a_zap_status_is_an_authentication_failure);
    RUN_IN_CONTEXT(test_a_peer_that_hangs_up_in_the_handshake_gives_no_detail);
    RUN_IN_CONTEXT(test_a_framing_error_after_the_handshake_is_only_a_disconnect);
    return 0;
}
