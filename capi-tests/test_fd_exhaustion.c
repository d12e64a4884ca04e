/* Out of file descriptors, a tcp listener reports ZMQ_EVENT_ACCEPT_FAILED (EMFILE) and keeps
 * serving once descriptors are free again: the connections that queued meanwhile are accepted,
 * and a new peer gets through. Nothing aborts. The process's own limit is lowered for the
 * test (RLIMIT_NOFILE), and raw TCP connections use up the rest. */
#define _DEFAULT_SOURCE
#include "testutil.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define LIMIT 96
#define MAX_RAW LIMIT

static void set_int(void *s, int option, int value) {
    CHECK_OK(zmq_setsockopt(s, option, &value, sizeof value));
}

int main(void) {
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    rl.rlim_cur = LIMIT;
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);

    void *ctx = zmq_ctx_new();
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    char ep[256];
    bind_wildcard(router, "tcp://127.0.0.1:*", ep, sizeof ep);
    int port = atoi(strrchr(ep, ':') + 1);
    CHECK_OK(zmq_socket_monitor(router, "inproc://fd-monitor",
                                ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_ACCEPT_FAILED));
    void *mon = zmq_socket(ctx, ZMQ_PAIR);
    CHECK_OK(zmq_connect(mon, "inproc://fd-monitor"));
    /* The peer that comes at the end, made now while descriptors are free. */
    void *dealer = zmq_socket(ctx, ZMQ_DEALER);
    set_int(dealer, ZMQ_LINGER, 0);

    /* Use up the descriptors: raw connections until socket() itself fails. */
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int raw[MAX_RAW], n = 0;
    while (n < MAX_RAW) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) {
            CHECK(errno == EMFILE);
            break;
        }
        CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
        raw[n++] = fd;
        usleep(2000); /* let the listener take it while it can */
    }
    CHECK(n > 0 && n < MAX_RAW);

    /* The listener ran out too: it reports the failure, and goes on trying. */
    int accepted = 0, failed = 0, event;
    uint32_t value;
    while (failed < 2 && (event = next_monitor_event(mon, 2000, &value)) != -1) {
        if (event == ZMQ_EVENT_ACCEPTED)
            accepted++;
        if (event == ZMQ_EVENT_ACCEPT_FAILED) {
            CHECK(value == EMFILE);
            failed++;
        }
    }
    CHECK(failed == 2);
    CHECK(accepted > 0 && accepted < n);

    /* Free half of the raw connections: the one still queued gets in. */
    for (int i = 0; i < n / 2; i++)
        close(raw[i]);
    int later = 0;
    while (later == 0 && (event = next_monitor_event(mon, 2000, &value)) != -1)
        if (event == ZMQ_EVENT_ACCEPTED)
            later++;
    CHECK(later > 0);

    /* Close the rest: a real peer gets through and is served. */
    for (int i = n / 2; i < n; i++)
        close(raw[i]);
    CHECK_OK(zmq_connect(dealer, ep));
    CHECK(zmq_send(dealer, "hello", 5, 0) == 5);
    set_int(router, ZMQ_RCVTIMEO, 5000);
    char id[256], buf[16];
    CHECK(zmq_recv(router, id, sizeof id, 0) > 0);
    CHECK(zmq_recv(router, buf, sizeof buf, 0) == 5 && memcmp(buf, "hello", 5) == 0);
    printf("  ok: %d raw connections, %d accepted before, %d failed accepts, %d accepted after\n",
           n, accepted, failed, later);

    set_int(router, ZMQ_LINGER, 0);
    set_int(mon, ZMQ_LINGER, 0);
    CHECK_OK(zmq_close(dealer));
    CHECK_OK(zmq_close(router));
    CHECK_OK(zmq_close(mon));
    CHECK_OK(zmq_ctx_term(ctx));
    return 0;
}
