/* ZMQ_SOCKS_PROXY: a tcp connect through a SOCKS5 proxy (RFC 1928, RFC 1929 username /
 * password). The proxy here is a small one-connection relay in a thread that records what
 * the client asked for, and can be told to refuse the first request: the client then
 * reconnects and succeeds. Also the option rules (NULL clears, "" is EINVAL for the proxy,
 * usernames and passwords up to 255 bytes). */
#define _DEFAULT_SOURCE
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef ZMQ_SOCKS_USERNAME
#define ZMQ_SOCKS_USERNAME 99
#define ZMQ_SOCKS_PASSWORD 100
#endif

struct proxy {
    int listen_fd;
    char address[64]; /* host:port for ZMQ_SOCKS_PROXY */
    const char *user; /* NULL: offer no authentication */
    const char *pass;
    int refuse_first; /* answer the first CONNECT with REP 05 (connection refused) */
    /* recorded */
    int requests;
    int atyp;
    char host[256];
    int auth_ok;
};

static void read_all(int fd, void *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        CHECK(r > 0);
        got += (size_t)r;
    }
}

static void write_all(int fd, const void *buf, size_t n) {
    CHECK(write(fd, buf, n) == (ssize_t)n);
}

/* Relays bytes both ways until one side closes. */
static void relay(int a, int b) {
    struct pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    char buf[4096];
    for (;;) {
        CHECK(poll(p, 2, -1) > 0);
        for (int i = 0; i < 2; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(p[i].fd, buf, sizeof buf);
            if (n <= 0)
                return;
            write_all(p[1 - i].fd, buf, (size_t)n);
        }
    }
}

/* Serves one client handshake; returns the fd of the target connection, or -1 after a
 * refusal. */
static int serve_handshake(struct proxy *px, int c) {
    unsigned char b[300];
    read_all(c, b, 2);
    CHECK(b[0] == 5);
    int n = b[1];
    read_all(c, b, (size_t)n);
    int want = px->user ? 2 : 0, method = 0xff;
    for (int i = 0; i < n; i++)
        if (b[i] == want)
            method = want;
    unsigned char choice[2] = {5, (unsigned char)method};
    write_all(c, choice, 2);
    CHECK(method != 0xff);
    if (method == 2) {
        char user[256], pass[256];
        read_all(c, b, 2);
        CHECK(b[0] == 1);
        read_all(c, user, b[1]);
        user[b[1]] = 0;
        read_all(c, b, 1);
        read_all(c, pass, b[0]);
        pass[b[0]] = 0;
        px->auth_ok = strcmp(user, px->user) == 0 && strcmp(pass, px->pass) == 0;
        unsigned char status[2] = {1, (unsigned char)(px->auth_ok ? 0 : 1)};
        write_all(c, status, 2);
        CHECK(px->auth_ok);
    }
    read_all(c, b, 4);
    CHECK(b[0] == 5 && b[1] == 1 && b[2] == 0);
    px->atyp = b[3];
    px->requests++;
    struct sockaddr_in target;
    memset(&target, 0, sizeof target);
    target.sin_family = AF_INET;
    target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (b[3] == 1) {
        read_all(c, b, 4);
        snprintf(px->host, sizeof px->host, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
    } else if (b[3] == 3) {
        read_all(c, b, 1);
        int len = b[0];
        read_all(c, px->host, (size_t)len);
        px->host[len] = 0;
    } else {
        CHECK(b[3] == 4);
        read_all(c, b, 16);
        strcpy(px->host, "ipv6");
    }
    unsigned char port[2];
    read_all(c, port, 2);
    memcpy(&target.sin_port, port, 2);
    if (px->refuse_first && px->requests == 1) {
        unsigned char reply[10] = {5, 5, 0, 1, 0, 0, 0, 0, 0, 0};
        write_all(c, reply, sizeof reply);
        return -1;
    }
    int t = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(t >= 0);
    CHECK(connect(t, (struct sockaddr *)&target, sizeof target) == 0);
    /* Reply with a host-name bound address: the client must read it to its end. */
    unsigned char reply[4 + 1 + 9 + 2] = {5, 0, 0, 3, 9};
    memcpy(reply + 5, "localhost", 9);
    write_all(c, reply, sizeof reply);
    return t;
}

static void *proxy_thread(void *arg) {
    struct proxy *px = arg;
    for (;;) {
        int c = accept(px->listen_fd, NULL, NULL);
        CHECK(c >= 0);
        int t = serve_handshake(px, c);
        if (t < 0) {
            close(c);
            continue;
        }
        relay(c, t);
        close(c);
        close(t);
        return NULL;
    }
}

static void start_proxy(struct proxy *px, pthread_t *th) {
    px->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(px->listen_fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(px->listen_fd, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t len = sizeof a;
    CHECK(getsockname(px->listen_fd, (struct sockaddr *)&a, &len) == 0);
    CHECK(listen(px->listen_fd, 4) == 0);
    snprintf(px->address, sizeof px->address, "127.0.0.1:%u", ntohs(a.sin_port));
    CHECK(pthread_create(th, NULL, proxy_thread, px) == 0);
}

/* PUSH bound on 127.0.0.1; a PULL connects to `host` (with the PUSH's port) through `px`. */
static void talk_through(struct proxy *px, const char *host) {
    void *ctx = zmq_ctx_new();
    void *push = zmq_socket(ctx, ZMQ_PUSH), *pull = zmq_socket(ctx, ZMQ_PULL);
    int zero = 0;
    CHECK_OK(zmq_setsockopt(push, ZMQ_LINGER, &zero, sizeof zero));
    CHECK_OK(zmq_setsockopt(pull, ZMQ_LINGER, &zero, sizeof zero));
    CHECK_OK(zmq_bind(push, "tcp://127.0.0.1:*"));
    char ep[256], target[300];
    size_t len = sizeof ep;
    CHECK_OK(zmq_getsockopt(push, ZMQ_LAST_ENDPOINT, ep, &len));
    snprintf(target, sizeof target, "tcp://%s%s", host, strrchr(ep, ':'));
    pthread_t th;
    start_proxy(px, &th);
    CHECK_OK(zmq_setsockopt(pull, ZMQ_SOCKS_PROXY, px->address, strlen(px->address)));
    if (px->user) {
        CHECK_OK(zmq_setsockopt(pull, ZMQ_SOCKS_USERNAME, px->user, strlen(px->user)));
        CHECK_OK(zmq_setsockopt(pull, ZMQ_SOCKS_PASSWORD, px->pass, strlen(px->pass)));
    }
    CHECK_OK(zmq_connect(pull, target));
    int timeo = 5000;
    CHECK_OK(zmq_setsockopt(pull, ZMQ_RCVTIMEO, &timeo, sizeof timeo));
    CHECK(zmq_send(push, "through", 7, 0) == 7);
    char buf[16];
    CHECK(zmq_recv(pull, buf, sizeof buf, 0) == 7 && memcmp(buf, "through", 7) == 0);
    CHECK_OK(zmq_close(pull));
    CHECK_OK(zmq_close(push));
    CHECK(pthread_join(th, NULL) == 0);
    close(px->listen_fd);
    CHECK_OK(zmq_ctx_term(ctx));
}

static void test_connect_through_a_proxy_by_ipv4_address(void) {
    struct proxy px = {0};
    talk_through(&px, "127.0.0.1");
    CHECK(px.requests == 1 && px.atyp == 1 && strcmp(px.host, "127.0.0.1") == 0);
}

static void test_host_names_are_left_to_the_proxy_to_resolve(void) {
    struct proxy px = {0};
    talk_through(&px, "name.invalid");
    CHECK(px.atyp == 3 && strcmp(px.host, "name.invalid") == 0);
}

static void test_ipv6_targets_are_sent_as_ipv6_addresses(void) {
    struct proxy px = {0};
    talk_through(&px, "[::1]");
    CHECK(px.atyp == 4);
}

static void test_username_and_password_authenticate(void) {
    struct proxy px = {0};
    px.user = "someone";
    px.pass = "secret";
    talk_through(&px, "127.0.0.1");
    CHECK(px.auth_ok);
}

static void test_a_refused_request_is_retried_after_the_reconnect_interval(void) {
    struct proxy px = {0};
    px.refuse_first = 1;
    talk_through(&px, "127.0.0.1");
    CHECK(px.requests == 2);
}

static void test_option_rules(void) {
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_SUB);
    char buf[300];
    size_t len = sizeof buf;
    CHECK_OK(zmq_setsockopt(s, ZMQ_SOCKS_PROXY, NULL, 0));
    CHECK_OK(zmq_getsockopt(s, ZMQ_SOCKS_PROXY, buf, &len));
    CHECK(len == 1 && buf[0] == 0);
    CHECK_ERRNO(zmq_setsockopt(s, ZMQ_SOCKS_PROXY, "", 0), EINVAL);
    CHECK_OK(zmq_setsockopt(s, ZMQ_SOCKS_PROXY, "host:1080", 9));
    len = sizeof buf;
    CHECK_OK(zmq_getsockopt(s, ZMQ_SOCKS_PROXY, buf, &len));
    CHECK(len == 10 && strcmp(buf, "host:1080") == 0);
    /* Username and password: "" and NULL both clear; 255 bytes at most. */
    char big[256];
    memset(big, 'u', sizeof big);
    CHECK_OK(zmq_setsockopt(s, ZMQ_SOCKS_USERNAME, "", 0));
    CHECK_OK(zmq_setsockopt(s, ZMQ_SOCKS_USERNAME, big, 255));
    CHECK_ERRNO(zmq_setsockopt(s, ZMQ_SOCKS_USERNAME, big, 256), EINVAL);
    len = sizeof buf;
    CHECK_OK(zmq_getsockopt(s, ZMQ_SOCKS_USERNAME, buf, &len));
    CHECK(len == 256);
    CHECK_OK(zmq_setsockopt(s, ZMQ_SOCKS_PASSWORD, NULL, 0));
    CHECK_ERRNO(zmq_setsockopt(s, ZMQ_SOCKS_PASSWORD, big, 256), EINVAL);
    CHECK_OK(zmq_close(s));
    CHECK_OK(zmq_ctx_term(ctx));
}

int main(void) {
    RUN(test_option_rules);
    RUN(test_connect_through_a_proxy_by_ipv4_address);
    RUN(test_host_names_are_left_to_the_proxy_to_resolve);
    RUN(test_ipv6_targets_are_sent_as_ipv6_addresses);
    RUN(test_username_and_password_authenticate);
    RUN(test_a_refused_request_is_retried_after_the_reconnect_interval);
    printf("test_socks: all passed\n");
    return 0;
}
