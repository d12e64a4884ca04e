/* udp://: RADIO/DISH groups and DGRAM peers over loopback, the socket types that may use it,
 * and datagrams a DISH cannot parse (dropped, nothing else lost). Unicast only here; multicast
 * runs in libzmq's test_radio_dish, inside a network namespace of its own (reference.sh). */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include "testutil.h"

static void *ctx;

/* A free udp port on 127.0.0.1 (free when asked; the test binds it right after). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t len = sizeof a;
    CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void send_in_group(void *radio, const char *group, const char *text)
{
    zmq_msg_t m;
    CHECK_OK(zmq_msg_init_buffer(&m, text, strlen(text)));
    CHECK_OK(zmq_msg_set_group(&m, group));
    CHECK(zmq_msg_send(&m, radio, 0) == (int)strlen(text));
}

/* The next message of the dish: its text and group must be these. */
static void expect(void *dish, const char *group, const char *text)
{
    zmq_msg_t m;
    CHECK_OK(zmq_msg_init(&m));
    CHECK(zmq_msg_recv(&m, dish, 0) == (int)strlen(text));
    CHECK(memcmp(zmq_msg_data(&m), text, strlen(text)) == 0);
    CHECK(strcmp(zmq_msg_group(&m), group) == 0);
    CHECK_OK(zmq_msg_close(&m));
}

static void only_radio_dish_and_dgram_take_udp(void)
{
    char ep[64];
    snprintf(ep, sizeof ep, "udp://127.0.0.1:%d", free_port());
    void *pub = zmq_socket(ctx, ZMQ_PUB), *radio = zmq_socket(ctx, ZMQ_RADIO);
    void *dish = zmq_socket(ctx, ZMQ_DISH), *dgram = zmq_socket(ctx, ZMQ_DGRAM);
    CHECK_ERRNO(zmq_bind(pub, ep), ENOCOMPATPROTO);
    CHECK_ERRNO(zmq_connect(pub, ep), ENOCOMPATPROTO);
    /* A RADIO only sends (connect), a DISH only receives (bind), a DGRAM binds. */
    CHECK_ERRNO(zmq_bind(radio, ep), ENOCOMPATPROTO);
    CHECK_ERRNO(zmq_connect(dish, ep), ENOCOMPATPROTO);
    CHECK_ERRNO(zmq_connect(dgram, ep), ENOCOMPATPROTO);
    /* An interface names where a group goes: the address must then be a group. */
    CHECK_ERRNO(zmq_bind(dish, "udp://127.0.0.1;127.0.0.2:5555"), EINVAL);
    CHECK_OK(zmq_close(pub));
    CHECK_OK(zmq_close(radio));
    CHECK_OK(zmq_close(dish));
    CHECK_OK(zmq_close(dgram));
}

static void a_dish_gets_the_groups_it_joined(void)
{
    char ep[64];
    snprintf(ep, sizeof ep, "udp://127.0.0.1:%d", free_port());
    void *radio = zmq_socket(ctx, ZMQ_RADIO), *dish = zmq_socket(ctx, ZMQ_DISH);
    int timeout = 5000;
    CHECK_OK(zmq_setsockopt(dish, ZMQ_RCVTIMEO, &timeout, sizeof timeout));
    CHECK_OK(zmq_join(dish, "tv"));
    CHECK_OK(zmq_bind(dish, ep));
    CHECK_OK(zmq_connect(radio, ep));
    /* The datagram socket is bound once zmq_bind returns: nothing sent after is lost on
     * loopback. */
    send_in_group(radio, "radio", "not joined");
    send_in_group(radio, "tv", "news");
    expect(dish, "tv", "news");
    CHECK_OK(zmq_leave(dish, "tv"));
    CHECK_OK(zmq_join(dish, "radio"));
    send_in_group(radio, "tv", "left");
    send_in_group(radio, "radio", "song");
    expect(dish, "radio", "song");
    /* The endpoint ends with an unbind, and can be bound again. */
    CHECK_OK(zmq_unbind(dish, ep));
    usleep(100 * 1000);
    CHECK_OK(zmq_bind(dish, ep));
    CHECK_OK(zmq_close(radio));
    CHECK_OK(zmq_close(dish));
}

static void datagrams_a_dish_cannot_read_are_dropped(void)
{
    int port = free_port();
    char ep[64];
    snprintf(ep, sizeof ep, "udp://127.0.0.1:%d", port);
    void *dish = zmq_socket(ctx, ZMQ_DISH);
    int timeout = 5000;
    CHECK_OK(zmq_setsockopt(dish, ZMQ_RCVTIMEO, &timeout, sizeof timeout));
    CHECK_OK(zmq_join(dish, "g"));
    CHECK_OK(zmq_bind(dish, ep));
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    /* Empty; a group longer than the datagram; a group with a NUL in it; then a good one. */
    const char *bad[] = {"", "\x09g", "\x02g\0x"};
    const size_t bad_len[] = {0, 2, 4};
    for (int i = 0; i < 3; i++)
        CHECK(sendto(fd, bad[i], bad_len[i], 0, (struct sockaddr *)&to, sizeof to) ==
              (ssize_t)bad_len[i]);
    CHECK(sendto(fd, "\x01gok", 4, 0, (struct sockaddr *)&to, sizeof to) == 4);
    expect(dish, "g", "ok");
    CHECK_ERRNO(zmq_recv(dish, ep, sizeof ep, ZMQ_DONTWAIT), EAGAIN);
    close(fd);
    CHECK_OK(zmq_close(dish));
}

static void dgram_peers_are_named_by_address(void)
{
    int pa = free_port(), pb = free_port();
    char ea[64], eb[64], addr_b[32];
    snprintf(ea, sizeof ea, "udp://127.0.0.1:%d", pa);
    snprintf(eb, sizeof eb, "udp://127.0.0.1:%d", pb);
    snprintf(addr_b, sizeof addr_b, "127.0.0.1:%d", pb);
    void *a = zmq_socket(ctx, ZMQ_DGRAM), *b = zmq_socket(ctx, ZMQ_DGRAM);
    int timeout = 5000;
    CHECK_OK(zmq_setsockopt(a, ZMQ_RCVTIMEO, &timeout, sizeof timeout));
    CHECK_OK(zmq_bind(a, ea));
    CHECK_OK(zmq_bind(b, eb));
    /* A message is an address then a body: a body alone is EINVAL. */
    CHECK_ERRNO(zmq_send(b, "x", 1, 0), EINVAL);
    char to_a[32];
    int n = snprintf(to_a, sizeof to_a, "127.0.0.1:%d", pa);
    CHECK(zmq_send(b, to_a, (size_t)n, ZMQ_SNDMORE) == n);
    CHECK(zmq_send(b, "hello", 5, 0) == 5);
    char from[32] = {0}, body[16] = {0};
    CHECK(zmq_recv(a, from, sizeof from, 0) > 0);
    CHECK(strcmp(from, addr_b) == 0); /* "ip:port", with its NUL */
    CHECK(zmq_recv(a, body, sizeof body, 0) == 5 && memcmp(body, "hello", 5) == 0);
    CHECK_OK(zmq_close(a));
    CHECK_OK(zmq_close(b));
}

int main(void)
{
    ctx = zmq_ctx_new();
    CHECK_PTR(ctx);
    RUN(only_radio_dish_and_dgram_take_udp);
    RUN(a_dish_gets_the_groups_it_joined);
    RUN(datagrams_a_dish_cannot_read_are_dropped);
    RUN(dgram_peers_are_named_by_address);
    CHECK_OK(zmq_ctx_term(ctx));
    return 0;
}
