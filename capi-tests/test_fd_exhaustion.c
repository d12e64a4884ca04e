/* Out of file descriptors, a tcp listener reports ZMQ_EVENT_ACCEPT_FAILED (EMFILE) and keeps
 * serving once descriptors are free again: the connection that queued meanwhile is accepted, and
 * a new peer gets through. Nothing aborts. The process's own limit is lowered for the test
 * (RLIMIT_NOFILE) to a little above what it already holds, and /dev/null descriptors use up the
 * rest (holes below inherited descriptors included), so that exactly one connection waits in the
 * listen queue while none is free, whatever descriptors the process inherited. */
#define _DEFAULT_SOURCE
#include "testutil.h"
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEADROOM 64 /* descriptors above the highest one open at the start */
#define EARLY 4     /* raw connections accepted while descriptors are free */

static void set_int(void *s, int option, int value) {
    CHECK_OK(zmq_setsockopt(s, option, &value, sizeof value));
}

static int highest_open_fd(void) {
    DIR *dir = opendir("/proc/self/fd");
    CHECK(dir != NULL);
    int highest = 2;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        int fd = atoi(entry->d_name);
        if (fd > highest)
            highest = fd;
    }
    closedir(dir);
    return highest;
}

static int raw_connect(int port) {
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    return fd;
}

/* Waits for N events of kind WANTED (other events are skipped); returns how many came in time.
 * Every ACCEPT_FAILED must carry EMFILE. */
static int wait_events(void *mon, int wanted, int n) {
    int seen = 0, event;
    uint32_t value;
    while (seen < n && (event = next_monitor_event(mon, 2000, &value)) != -1) {
        if (event == ZMQ_EVENT_ACCEPT_FAILED)
            CHECK(value == EMFILE);
        if (event == wanted)
            seen++;
    }
    return seen;
}

int main(void) {
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    rl.rlim_cur = (rlim_t)(highest_open_fd() + 1 + HEADROOM);
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

    /* A few connections while descriptors are free: all accepted. */
    int raw[EARLY + 1];
    for (int i = 0; i < EARLY; i++)
        raw[i] = raw_connect(port);
    CHECK(wait_events(mon, ZMQ_EVENT_ACCEPTED, EARLY) == EARLY);

    /* Use up every descriptor left, then free one for one more connection: the listener has
     * none to accept it with. It reports the failure, and goes on trying. */
    int *filler = malloc(rl.rlim_cur * sizeof *filler), fillers = 0;
    CHECK(filler != NULL);
    for (;;) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd < 0) {
            CHECK(errno == EMFILE);
            break;
        }
        CHECK((rlim_t)fillers < rl.rlim_cur);
        filler[fillers++] = fd;
    }
    CHECK(fillers > 8);
    close(filler[--fillers]);
    raw[EARLY] = raw_connect(port);
    CHECK(wait_events(mon, ZMQ_EVENT_ACCEPT_FAILED, 2) == 2);

    /* Free a few: the connection still queued gets in. */
    for (int i = 0; i < 8; i++)
        close(filler[--fillers]);
    CHECK(wait_events(mon, ZMQ_EVENT_ACCEPTED, 1) == 1);

    /* Close the rest: a real peer gets through and is served. */
    while (fillers > 0)
        close(filler[--fillers]);
    free(filler);
    for (int i = 0; i <= EARLY; i++)
        close(raw[i]);
    CHECK_OK(zmq_connect(dealer, ep));
    CHECK(zmq_send(dealer, "hello", 5, 0) == 5);
    set_int(router, ZMQ_RCVTIMEO, 5000);
    char id[256], buf[16];
    CHECK(zmq_recv(router, id, sizeof id, 0) > 0);
    CHECK(zmq_recv(router, buf, sizeof buf, 0) == 5 && memcmp(buf, "hello", 5) == 0);
    printf("  ok: %d accepted, 2 failed accepts (EMFILE), the queued one accepted later\n", EARLY);

    set_int(router, ZMQ_LINGER, 0);
    set_int(mon, ZMQ_LINGER, 0);
    CHECK_OK(zmq_close(dealer));
    CHECK_OK(zmq_close(router));
    CHECK_OK(zmq_close(mon));
    CHECK_OK(zmq_ctx_term(ctx));
    return 0;
}
