/* Publish-subscribe over inproc (and tcp where the session matters): PUB/SUB filtering, XPUB
 * subscription messages and its options, XSUB upstream messages, HWM behaviour. Subscriptions travel asynchronously; the
 * tests synchronise by receiving them on an XPUB, or rely on a socket processing its
 * pending commands on its next call (deterministic within one thread over inproc). */
#define _POSIX_C_SOURCE 200809L

#include <time.h>

#include "testutil.h"

static void *ctx;

static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

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

static void send_str(void *s, const char *str, int flags)
{
    CHECK((size_t)zmq_send(s, str, strlen(str), flags) == strlen(str));
}

static void send_bytes(void *s, const char *b, size_t n)
{
    CHECK((size_t)zmq_send(s, b, n, 0) == n);
}

/* Receives one part (waiting up to a second) and checks it equals `n` bytes of `want`. */
static void recv_bytes(void *s, const char *want, size_t n)
{
    int timeo = 1000;
    CHECK_OK(zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeo, sizeof timeo));
    char buf[256];
    int rc = zmq_recv(s, buf, sizeof buf, 0);
    if (rc != (int)n || memcmp(buf, want, n) != 0) {
        fprintf(stderr, "received %d bytes '%.*s', wanted '%.*s'\n", rc, rc < 0 ? 0 : rc, buf,
                (int)n, want);
    }
    CHECK(rc == (int)n);
    CHECK(memcmp(buf, want, n) == 0);
}

static void recv_str(void *s, const char *want)
{
    recv_bytes(s, want, strlen(want));
}

static void recv_nothing(void *s)
{
    char buf[256];
    CHECK_ERRNO(zmq_recv(s, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
}

static int rcvmore(void *s)
{
    int more;
    size_t len = sizeof more;
    CHECK_OK(zmq_getsockopt(s, ZMQ_RCVMORE, &more, &len));
    return more;
}

/* ---- PUB / SUB ------------------------------------------------------------------------ */

static void test_prefix_matching(void)
{
    void *pub = sock(ZMQ_PUB);
    void *sub = sock(ZMQ_SUB);
    CHECK_OK(zmq_bind(pub, "inproc://prefix"));
    CHECK_OK(zmq_connect(sub, "inproc://prefix"));
    CHECK_OK(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "A", 1));
    send_str(pub, "B1", 0);
    send_str(pub, "A1", 0);
    send_str(pub, "", 0);
    send_str(pub, "AB", 0);
    send_str(pub, "C", 0);
    recv_str(sub, "A1");
    recv_str(sub, "AB");
    recv_nothing(sub);
    zmq_close(pub);
    zmq_close(sub);
}

static void test_empty_subscription_gets_all(void)
{
    void *pub = sock(ZMQ_PUB);
    void *sub = sock(ZMQ_SUB);
    CHECK_OK(zmq_bind(pub, "inproc://all"));
    CHECK_OK(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0));
    CHECK_OK(zmq_connect(sub, "inproc://all"));
    send_str(pub, "x", 0);
    send_str(pub, "", 0);
    send_str(pub, "yz", 0);
    recv_str(sub, "x");
    recv_str(sub, "");
    recv_str(sub, "yz");
    recv_nothing(sub);
    zmq_close(pub);
    zmq_close(sub);
}

static void test_unsubscribe_is_refcounted(void)
{
    void *pub = sock(ZMQ_PUB);
    void *sub = sock(ZMQ_SUB);
    CHECK_OK(zmq_bind(pub, "inproc://unsub"));
    CHECK_OK(zmq_connect(sub, "inproc://unsub"));
    CHECK_OK(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "A", 1));
    CHECK_OK(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "A", 1));
    CHECK_OK(zmq_setsockopt(sub, ZMQ_UNSUBSCRIBE, "A", 1));
    send_str(pub, "A1", 0);
    recv_str(sub, "A1");
    CHECK_OK(zmq_setsockopt(sub, ZMQ_UNSUBSCRIBE, "A", 1));
    send_str(pub, "A2", 0);
    recv_nothing(sub);
    /* Unsubscribing what was never subscribed is harmless. */
    CHECK_OK(zmq_setsockopt(sub, ZMQ_UNSUBSCRIBE, "Q", 1));
    zmq_close(pub);
    zmq_close(sub);
}

static void test_multiple_subscribers(void)
{
    void *pub = sock(ZMQ_PUB);
    void *s1 = sock(ZMQ_SUB);
    void *s2 = sock(ZMQ_SUB);
    void *s3 = sock(ZMQ_SUB);
    CHECK_OK(zmq_bind(pub, "inproc://multi"));
    CHECK_OK(zmq_connect(s1, "inproc://multi"));
    CHECK_OK(zmq_connect(s2, "inproc://multi"));
    CHECK_OK(zmq_connect(s3, "inproc://multi"));
    CHECK_OK(zmq_setsockopt(s1, ZMQ_SUBSCRIBE, "a", 1));
    CHECK_OK(zmq_setsockopt(s2, ZMQ_SUBSCRIBE, "b", 1));
    CHECK_OK(zmq_setsockopt(s3, ZMQ_SUBSCRIBE, "", 0));
    send_str(pub, "a1", 0);
    send_str(pub, "b1", 0);
    recv_str(s1, "a1");
    recv_nothing(s1);
    recv_str(s2, "b1");
    recv_nothing(s2);
    recv_str(s3, "a1");
    recv_str(s3, "b1");
    zmq_close(s2);
    /* The publisher goes on with the others. */
    send_str(pub, "a2", 0);
    recv_str(s1, "a2");
    recv_str(s3, "a2");
    zmq_close(pub);
    zmq_close(s1);
    zmq_close(s3);
}

static void test_connect_before_bind(void)
{
    void *sub = sock(ZMQ_SUB);
    CHECK_OK(zmq_connect(sub, "inproc://early"));
    CHECK_OK(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "t", 1));
    void *pub = sock(ZMQ_PUB);
    CHECK_OK(zmq_bind(pub, "inproc://early"));
    send_str(pub, "u", 0);
    send_str(pub, "t1", 0);
    recv_str(sub, "t1");
    recv_nothing(sub);
    zmq_close(pub);
    zmq_close(sub);
}

static void test_multipart_matches_first_part(void)
{
    void *pub = sock(ZMQ_PUB);
    void *sub = sock(ZMQ_SUB);
    CHECK_OK(zmq_bind(pub, "inproc://mp"));
    CHECK_OK(zmq_connect(sub, "inproc://mp"));
    CHECK_OK(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "A", 1));
    send_str(pub, "B", ZMQ_SNDMORE);
    send_str(pub, "A-but-second", 0);
    send_str(pub, "A", ZMQ_SNDMORE);
    send_str(pub, "body", ZMQ_SNDMORE);
    send_str(pub, "end", 0);
    recv_str(sub, "A");
    CHECK(rcvmore(sub));
    recv_str(sub, "body");
    CHECK(rcvmore(sub));
    recv_str(sub, "end");
    CHECK(!rcvmore(sub));
    recv_nothing(sub);
    zmq_close(pub);
    zmq_close(sub);
}

static void test_invert_matching(void)
{
    void *pub = sock(ZMQ_PUB);
    void *sub = sock(ZMQ_SUB);
    set_int(pub, ZMQ_INVERT_MATCHING, 1);
    set_int(sub, ZMQ_INVERT_MATCHING, 1);
    int v = 0;
    size_t len = sizeof v;
    CHECK_OK(zmq_getsockopt(sub, ZMQ_INVERT_MATCHING, &v, &len));
    CHECK(v == 1 && len == sizeof v);
    CHECK_OK(zmq_bind(pub, "inproc://invert"));
    CHECK_OK(zmq_connect(sub, "inproc://invert"));
    CHECK_OK(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "prefix", 6));
    send_str(pub, "prefix-match", 0);
    send_str(pub, "p-other", 0);
    recv_str(sub, "p-other");
    recv_nothing(sub);
    zmq_close(pub);
    zmq_close(sub);
}

static void test_pub_drops_at_hwm(void)
{
    void *pub = sock(ZMQ_PUB);
    void *sub = sock(ZMQ_SUB);
    set_int(pub, ZMQ_SNDHWM, 10);
    set_int(sub, ZMQ_RCVHWM, 10);
    CHECK_OK(zmq_bind(pub, "inproc://drop"));
    CHECK_OK(zmq_connect(sub, "inproc://drop"));
    CHECK_OK(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0));
    /* Never blocks, never fails: messages beyond the HWM are dropped. */
    for (int i = 0; i < 100; i++)
        send_str(pub, "m", 0);
    int n = 0;
    char buf[8];
    while (zmq_recv(sub, buf, sizeof buf, ZMQ_DONTWAIT) == 1)
        n++;
    CHECK(zmq_errno() == EAGAIN);
    /* Inproc: the pipe's limit is the sum of both sides' HWMs. */
    CHECK(n == 20);
    /* Once drained, messages flow again (libzmq looks at its commands, where the
     * reader's credit is, at most about once a millisecond while sending). */
    sleep_ms(10);
    send_str(pub, "again", 0);
    recv_str(sub, "again");
    zmq_close(pub);
    zmq_close(sub);
}

/* Count the messages a SUB can take now (without waiting). */
static int drain(void *s)
{
    int n = 0;
    while (zmq_recv(s, NULL, 0, ZMQ_DONTWAIT) == 0)
        n++;
    CHECK(zmq_errno() == EAGAIN);
    return n;
}

static void test_pub_gets_credit_after_half_its_hwm_over_tcp(void)
{
    /* A burst of 5/8 of the HWM, all read, must not leave the PUB's pipe short of credit:
     * the reader gives credit back every HWM/2 messages, so the next burst of 1/2 HWM fits
     * (libzmq's test_hwm_pubsub, "reset HWM"). */
    void *pub = sock(ZMQ_PUB);
    void *sub = sock(ZMQ_SUB);
    set_int(pub, ZMQ_SNDHWM, 4000);
    set_int(sub, ZMQ_RCVHWM, 4000);
    CHECK_OK(zmq_bind(pub, "tcp://127.0.0.1:*"));
    char ep[256];
    size_t len = sizeof ep;
    CHECK_OK(zmq_getsockopt(pub, ZMQ_LAST_ENDPOINT, ep, &len));
    CHECK_OK(zmq_connect(sub, ep));
    CHECK_OK(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0));
    sleep_ms(200);
    for (int i = 0; i < 2500; i++)
        CHECK(zmq_send(pub, NULL, 0, ZMQ_DONTWAIT) == 0);
    sleep_ms(200);
    CHECK(drain(sub) == 2500);
    sleep_ms(200);
    for (int i = 0; i < 2000; i++)
        CHECK(zmq_send(pub, NULL, 0, ZMQ_DONTWAIT) == 0);
    sleep_ms(200);
    CHECK(drain(sub) == 2000);
    zmq_close(pub);
    zmq_close(sub);
}

static void test_xpub_nodrop_eagain(void)
{
    void *pub = sock(ZMQ_XPUB);
    void *sub = sock(ZMQ_SUB);
    set_int(pub, ZMQ_XPUB_NODROP, 1);
    set_int(pub, ZMQ_SNDHWM, 10);
    set_int(sub, ZMQ_RCVHWM, 10);
    CHECK_OK(zmq_bind(pub, "inproc://nodrop"));
    CHECK_OK(zmq_connect(sub, "inproc://nodrop"));
    CHECK_OK(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0));
    recv_bytes(pub, "\x01", 1);
    int sent = 0;
    while (zmq_send(pub, "m", 1, ZMQ_DONTWAIT) == 1)
        sent++;
    CHECK(zmq_errno() == EAGAIN);
    CHECK(sent == 20);
    /* With a send timeout, a full subscriber makes the send time out with EAGAIN. */
    int timeo = 50;
    CHECK_OK(zmq_setsockopt(pub, ZMQ_SNDTIMEO, &timeo, sizeof timeo));
    CHECK_ERRNO(zmq_send(pub, "m", 1, 0), EAGAIN);
    /* After the subscriber reads, there is room again. */
    int got = 0;
    char buf[8];
    while (zmq_recv(sub, buf, sizeof buf, ZMQ_DONTWAIT) == 1)
        got++;
    CHECK(got == 20);
    CHECK(zmq_send(pub, "n", 1, 0) == 1);
    recv_str(sub, "n");
    zmq_close(pub);
    zmq_close(sub);
}

/* ---- XPUB ------------------------------------------------------------------------------ */

static void test_xpub_receives_subscriptions(void)
{
    void *pub = sock(ZMQ_XPUB);
    void *s1 = sock(ZMQ_SUB);
    void *s2 = sock(ZMQ_SUB);
    CHECK_OK(zmq_bind(pub, "inproc://xpub"));
    CHECK_OK(zmq_connect(s1, "inproc://xpub"));
    CHECK_OK(zmq_connect(s2, "inproc://xpub"));
    CHECK_OK(zmq_setsockopt(s1, ZMQ_SUBSCRIBE, "topic", 5));
    recv_bytes(pub, "\x01topic", 6);
    /* A second subscriber to the same topic: not reported (not verbose). */
    CHECK_OK(zmq_setsockopt(s2, ZMQ_SUBSCRIBE, "topic", 5));
    CHECK_OK(zmq_setsockopt(s2, ZMQ_SUBSCRIBE, "other", 5));
    recv_bytes(pub, "\x01other", 6);
    recv_nothing(pub);
    send_str(pub, "topic-1", 0);
    recv_str(s1, "topic-1");
    recv_str(s2, "topic-1");
    /* s1 unsubscribes: s2 still has the topic, nothing reported. */
    CHECK_OK(zmq_setsockopt(s1, ZMQ_UNSUBSCRIBE, "topic", 5));
    send_str(pub, "topic-2", 0);
    recv_str(s2, "topic-2");
    recv_nothing(pub);
    recv_nothing(s1);
    /* s2 goes away: its topics nobody else has are reported as unsubscribed. */
    zmq_close(s2);
    char buf[16];
    int timeo = 1000;
    CHECK_OK(zmq_setsockopt(pub, ZMQ_RCVTIMEO, &timeo, sizeof timeo));
    int got_topic = 0, got_other = 0;
    for (int i = 0; i < 2; i++) {
        int rc = zmq_recv(pub, buf, sizeof buf, 0);
        CHECK(rc == 6 && buf[0] == 0);
        if (memcmp(buf + 1, "topic", 5) == 0)
            got_topic++;
        if (memcmp(buf + 1, "other", 5) == 0)
            got_other++;
    }
    CHECK(got_topic == 1 && got_other == 1);
    recv_nothing(pub);
    zmq_close(pub);
    zmq_close(s1);
}

static void test_xpub_verbose(void)
{
    void *pub = sock(ZMQ_XPUB);
    void *s1 = sock(ZMQ_SUB);
    void *s2 = sock(ZMQ_SUB);
    set_int(pub, ZMQ_XPUB_VERBOSE, 1);
    CHECK_OK(zmq_bind(pub, "inproc://verbose"));
    CHECK_OK(zmq_connect(s1, "inproc://verbose"));
    CHECK_OK(zmq_connect(s2, "inproc://verbose"));
    CHECK_OK(zmq_setsockopt(s1, ZMQ_SUBSCRIBE, "A", 1));
    recv_bytes(pub, "\x01" "A", 2);
    CHECK_OK(zmq_setsockopt(s2, ZMQ_SUBSCRIBE, "A", 1));
    recv_bytes(pub, "\x01" "A", 2);
    /* Verbose passes every subscribe, but only the last unsubscribe. */
    CHECK_OK(zmq_setsockopt(s1, ZMQ_UNSUBSCRIBE, "A", 1));
    CHECK_OK(zmq_setsockopt(s2, ZMQ_UNSUBSCRIBE, "A", 1));
    recv_bytes(pub, "\x00" "A", 2);
    recv_nothing(pub);

    /* Verboser passes unsubscribes too. */
    set_int(pub, ZMQ_XPUB_VERBOSER, 1);
    CHECK_OK(zmq_setsockopt(s1, ZMQ_SUBSCRIBE, "B", 1));
    recv_bytes(pub, "\x01" "B", 2);
    CHECK_OK(zmq_setsockopt(s2, ZMQ_SUBSCRIBE, "B", 1));
    recv_bytes(pub, "\x01" "B", 2);
    CHECK_OK(zmq_setsockopt(s1, ZMQ_UNSUBSCRIBE, "B", 1));
    recv_bytes(pub, "\x00" "B", 2);
    CHECK_OK(zmq_setsockopt(s2, ZMQ_UNSUBSCRIBE, "B", 1));
    recv_bytes(pub, "\x00" "B", 2);
    recv_nothing(pub);
    zmq_close(pub);
    zmq_close(s1);
    zmq_close(s2);
}

static void test_xpub_manual(void)
{
    void *pub = sock(ZMQ_XPUB);
    set_int(pub, ZMQ_XPUB_MANUAL, 1);
    CHECK_OK(zmq_bind(pub, "inproc://manual"));
    void *sub = sock(ZMQ_XSUB);
    CHECK_OK(zmq_connect(sub, "inproc://manual"));
    send_bytes(sub, "\x01" "A", 2);
    recv_bytes(pub, "\x01" "A", 2);
    /* The application subscribes that subscriber to B instead. */
    CHECK_OK(zmq_setsockopt(pub, ZMQ_SUBSCRIBE, "B", 1));
    send_str(pub, "A", 0);
    send_str(pub, "B", 0);
    recv_str(sub, "B");
    recv_nothing(sub);
    /* Manual mode reports every subscription message, even repeated ones. */
    send_bytes(sub, "\x01" "A", 2);
    recv_bytes(pub, "\x01" "A", 2);
    CHECK_OK(zmq_setsockopt(pub, ZMQ_UNSUBSCRIBE, "B", 1));
    send_str(pub, "B", 0);
    recv_nothing(sub);
    zmq_close(pub);
    zmq_close(sub);
}

static void test_xpub_welcome_message(void)
{
    void *pub = sock(ZMQ_XPUB);
    CHECK_OK(zmq_setsockopt(pub, ZMQ_XPUB_WELCOME_MSG, "W", 1));
    CHECK_OK(zmq_bind(pub, "inproc://welcome"));
    void *sub = sock(ZMQ_SUB);
    CHECK_OK(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "W", 1));
    CHECK_OK(zmq_connect(sub, "inproc://welcome"));
    recv_bytes(pub, "\x01W", 2);
    recv_str(sub, "W");
    recv_nothing(sub);
    zmq_close(pub);
    zmq_close(sub);
}

/* ---- XSUB ------------------------------------------------------------------------------ */

static void test_xsub_sends_subscriptions_and_messages(void)
{
    void *pub = sock(ZMQ_XPUB);
    void *sub = sock(ZMQ_XSUB);
    CHECK_OK(zmq_bind(pub, "inproc://xsub"));
    CHECK_OK(zmq_connect(sub, "inproc://xsub"));
    send_bytes(sub, "\x01" "A", 2);
    recv_bytes(pub, "\x01" "A", 2);
    /* Subscribing again: refcounted on the XSUB, the XPUB sees no new subscription. */
    send_bytes(sub, "\x01" "A", 2);
    send_bytes(sub, "\x00" "A", 2);
    send_str(pub, "A1", 0);
    send_str(pub, "B1", 0);
    recv_str(sub, "A1");
    recv_nothing(sub);
    /* Other messages go upstream as they are. */
    send_str(sub, "hello", 0);
    recv_str(pub, "hello");
    /* The last unsubscribe reaches the publisher. */
    send_bytes(sub, "\x00" "A", 2);
    recv_bytes(pub, "\x00" "A", 2);
    send_str(pub, "A2", 0);
    recv_nothing(sub);
    zmq_close(pub);
    zmq_close(sub);
}

static void test_xsub_resends_subscriptions_to_new_publishers(void)
{
    void *sub = sock(ZMQ_XSUB);
    send_bytes(sub, "\x01" "K", 2);
    void *pub = sock(ZMQ_XPUB);
    CHECK_OK(zmq_bind(pub, "inproc://resend"));
    CHECK_OK(zmq_connect(sub, "inproc://resend"));
    recv_bytes(pub, "\x01K", 2);
    send_str(pub, "K1", 0);
    recv_str(sub, "K1");
    zmq_close(pub);
    zmq_close(sub);
}

/* A SUB whose tcp connection comes back (its publisher restarted on the same port) sends its
 * subscriptions again, once it processes its commands (any call; libzmq's hiccup), and not
 * what it had queued for the old connection twice. */
static void test_sub_resubscribes_when_its_connection_comes_back(void)
{
    void *xpub = sock(ZMQ_XPUB);
    CHECK_OK(zmq_bind(xpub, "tcp://127.0.0.1:*"));
    char ep[64];
    size_t len = sizeof ep;
    CHECK_OK(zmq_getsockopt(xpub, ZMQ_LAST_ENDPOINT, ep, &len));
    void *sub = sock(ZMQ_SUB);
    set_int(sub, ZMQ_RECONNECT_IVL, 20);
    CHECK_OK(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "A", 1));
    CHECK_OK(zmq_connect(sub, ep));
    recv_bytes(xpub, "\x01" "A", 2);
    zmq_close(xpub);
    /* The same port again (just freed by us; its listener is gone when close returns). */
    xpub = sock(ZMQ_XPUB);
    int bound = -1;
    for (int i = 0; i < 100 && bound != 0; i++) {
        bound = zmq_bind(xpub, ep);
        if (bound != 0)
            sleep_ms(20);
    }
    CHECK_OK(bound);
    set_int(xpub, ZMQ_RCVTIMEO, 50);
    char buf[8];
    int rc = -1;
    for (int i = 0; i < 200 && rc < 0; i++) {
        /* The SUB takes its commands (the hiccup among them) on any call. */
        int ev;
        size_t evlen = sizeof ev;
        CHECK_OK(zmq_getsockopt(sub, ZMQ_EVENTS, &ev, &evlen));
        rc = zmq_recv(xpub, buf, sizeof buf, 0);
    }
    CHECK(rc == 2 && memcmp(buf, "\x01" "A", 2) == 0);
    /* Once. */
    sleep_ms(50);
    int ev;
    size_t evlen = sizeof ev;
    CHECK_OK(zmq_getsockopt(sub, ZMQ_EVENTS, &ev, &evlen));
    recv_nothing(xpub);
    send_str(xpub, "A again", 0);
    recv_str(sub, "A again");
    zmq_close(xpub);
    zmq_close(sub);
}

/* Subscriptions are control traffic: none is dropped at the HWM, whether they were made
 * before the connection (sent when it comes up) or while it was down (queued in the pipe).
 * libzmq drops every one past SNDHWM. */
#define MANY_TOPICS 5000

static void count_subscriptions(void *xpub, int want)
{
    set_int(xpub, ZMQ_RCVTIMEO, 5000);
    char buf[16];
    for (int i = 0; i < want; i++) {
        int rc = zmq_recv(xpub, buf, sizeof buf, 0);
        if (rc != 7) {
            fprintf(stderr, "subscription %d of %d: rc %d\n", i, want, rc);
        }
        CHECK(rc == 7 && buf[0] == 1);
    }
}

static void test_no_subscription_is_lost_at_hwm(void)
{
    for (int when = 0; when < 2; when++) {
        void *xpub = sock(ZMQ_XPUB);
        CHECK_OK(zmq_bind(xpub, "tcp://127.0.0.1:*"));
        char ep[256];
        size_t len = sizeof ep;
        CHECK_OK(zmq_getsockopt(xpub, ZMQ_LAST_ENDPOINT, ep, &len));
        void *sub = sock(ZMQ_SUB);
        if (when == 1)
            CHECK_OK(zmq_connect(sub, ep)); /* the pipe exists, the connection is not up */
        char topic[16];
        for (int i = 0; i < MANY_TOPICS; i++) {
            snprintf(topic, sizeof topic, "t%05d", i);
            CHECK_OK(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, topic, 6));
        }
        if (when == 0)
            CHECK_OK(zmq_connect(sub, ep));
        count_subscriptions(xpub, MANY_TOPICS);
        snprintf(topic, sizeof topic, "t%05d", MANY_TOPICS - 1);
        send_str(xpub, topic, 0);
        recv_str(sub, topic);
        zmq_close(sub);
        zmq_close(xpub);
    }
}

/* ---- threads -------------------------------------------------------------------------- */

#define FANOUT_MSGS 20000

static void subscriber_thread(void *arg)
{
    void *sub = arg;
    char buf[16];
    for (int i = 0; i < FANOUT_MSGS; i++) {
        int rc = zmq_recv(sub, buf, sizeof buf, 0);
        CHECK(rc == 1 && buf[0] == (char)('a' + i % 26));
        CHECK(rcvmore(sub));
        rc = zmq_recv(sub, buf, sizeof buf, 0);
        CHECK(rc == 4 && !rcvmore(sub));
    }
    zmq_close(sub);
}

/* Two subscribers in their own threads, small HWMs, NODROP: every message arrives once,
 * in order, whole, with the publisher blocking while a subscriber is behind. */
static void test_threaded_fanout_without_loss(void)
{
    void *pub = sock(ZMQ_XPUB);
    set_int(pub, ZMQ_XPUB_NODROP, 1);
    set_int(pub, ZMQ_XPUB_VERBOSE, 1);
    set_int(pub, ZMQ_SNDHWM, 5);
    CHECK_OK(zmq_bind(pub, "inproc://fanout"));
    void *threads[2];
    for (int t = 0; t < 2; t++) {
        void *sub = sock(ZMQ_SUB);
        set_int(sub, ZMQ_RCVHWM, 3);
        CHECK_OK(zmq_connect(sub, "inproc://fanout"));
        CHECK_OK(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0));
        recv_bytes(pub, "\x01", 1);
        threads[t] = zmq_threadstart(subscriber_thread, sub);
    }
    for (int i = 0; i < FANOUT_MSGS; i++) {
        char c = (char)('a' + i % 26);
        CHECK(zmq_send(pub, &c, 1, ZMQ_SNDMORE) == 1);
        CHECK(zmq_send(pub, "body", 4, 0) == 4);
    }
    for (int t = 0; t < 2; t++)
        zmq_threadclose(threads[t]);
    zmq_close(pub);
}

/* ---- errors ---------------------------------------------------------------------------- */

static void test_wrong_direction_is_enotsup(void)
{
    void *pub = sock(ZMQ_PUB);
    void *sub = sock(ZMQ_SUB);
    char buf[4];
    CHECK_ERRNO(zmq_send(sub, "x", 1, ZMQ_DONTWAIT), ENOTSUP);
    CHECK_ERRNO(zmq_recv(pub, buf, sizeof buf, ZMQ_DONTWAIT), ENOTSUP);
    int ev = 0;
    size_t len = sizeof ev;
    CHECK_OK(zmq_getsockopt(pub, ZMQ_EVENTS, &ev, &len));
    CHECK(ev == ZMQ_POLLOUT);
    CHECK_OK(zmq_getsockopt(sub, ZMQ_EVENTS, &ev, &len));
    CHECK(ev == 0);
    zmq_close(pub);
    zmq_close(sub);
}

static void test_options_of_other_types_are_einval(void)
{
    void *pub = sock(ZMQ_PUB);
    void *sub = sock(ZMQ_SUB);
    void *xsub = sock(ZMQ_XSUB);
    void *xpub = sock(ZMQ_XPUB);
    void *push = sock(ZMQ_PUSH);
    int one = 1, minus = -1;
    CHECK_ERRNO(zmq_setsockopt(pub, ZMQ_SUBSCRIBE, "a", 1), EINVAL);
    CHECK_ERRNO(zmq_setsockopt(xpub, ZMQ_SUBSCRIBE, "a", 1), EINVAL); /* not manual */
    CHECK_ERRNO(zmq_setsockopt(xsub, ZMQ_SUBSCRIBE, "a", 1), EINVAL);
    CHECK_ERRNO(zmq_setsockopt(push, ZMQ_SUBSCRIBE, "a", 1), EINVAL);
    CHECK_ERRNO(zmq_setsockopt(sub, ZMQ_XPUB_VERBOSE, &one, sizeof one), EINVAL);
    CHECK_ERRNO(zmq_setsockopt(xpub, ZMQ_XPUB_NODROP, &minus, sizeof minus), EINVAL);
    CHECK_ERRNO(zmq_setsockopt(xpub, ZMQ_XPUB_VERBOSE, &one, 2), EINVAL);
    /* PUB accepts the XPUB options, as in libzmq. */
    CHECK_OK(zmq_setsockopt(pub, ZMQ_XPUB_NODROP, &one, sizeof one));
    /* They are write-only. */
    int v;
    size_t len = sizeof v;
    CHECK_ERRNO(zmq_getsockopt(xpub, ZMQ_XPUB_VERBOSE, &v, &len), EINVAL);
    CHECK_ERRNO(zmq_getsockopt(sub, ZMQ_SUBSCRIBE, &v, &len), EINVAL);
    len = sizeof v;
    CHECK_OK(zmq_getsockopt(xpub, ZMQ_INVERT_MATCHING, &v, &len));
    CHECK(v == 0);
    zmq_close(pub);
    zmq_close(sub);
    zmq_close(xsub);
    zmq_close(xpub);
    zmq_close(push);
}

int main(void)
{
    ctx = zmq_ctx_new();
    CHECK_PTR(ctx);
    RUN(test_prefix_matching);
    RUN(test_empty_subscription_gets_all);
    RUN(test_unsubscribe_is_refcounted);
    RUN(test_multiple_subscribers);
    RUN(test_connect_before_bind);
    RUN(test_multipart_matches_first_part);
    RUN(test_invert_matching);
    RUN(test_pub_drops_at_hwm);
    RUN(test_pub_gets_credit_after_half_its_hwm_over_tcp);
    RUN(test_xpub_nodrop_eagain);
    RUN(test_xpub_receives_subscriptions);
    RUN(test_xpub_verbose);
    RUN(test_xpub_manual);
    RUN(test_xpub_welcome_message);
    RUN(test_xsub_sends_subscriptions_and_messages);
    RUN(test_xsub_resends_subscriptions_to_new_publishers);
    RUN(test_sub_resubscribes_when_its_connection_comes_back);
    RUN(test_no_subscription_is_lost_at_hwm);
    RUN(test_threaded_fanout_without_loss);
    RUN(test_wrong_direction_is_enotsup);
    RUN(test_options_of_other_types_are_einval);
    CHECK_OK(zmq_ctx_term(ctx));
    printf("test_pubsub: all passed\n");
    return 0;
}
