/* zmq_poller: argument checks as libzmq's, readiness of sockets and descriptors, sockets
 * that stay ready, many items with one ready, thread-safe sockets and zmq_poller_fd. */
#define _DEFAULT_SOURCE
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include "testutil.h"

static void *ctx;

static void bad_arguments_get_libzmq_errnos(void)
{
    void *null_poller = NULL;
    CHECK_ERRNO(zmq_poller_destroy(NULL), EFAULT);
    CHECK_ERRNO(zmq_poller_destroy(&null_poller), EFAULT);
    CHECK_ERRNO(zmq_poller_size(NULL), EFAULT);
    zmq_fd_t fd;
    CHECK_ERRNO(zmq_poller_fd(&null_poller, &fd), EFAULT);

    void *p = zmq_poller_new();
    CHECK_PTR(p);
    void *s = zmq_socket(ctx, ZMQ_PAIR);
    CHECK_ERRNO(zmq_poller_add(p, NULL, NULL, ZMQ_POLLIN), ENOTSOCK);
    CHECK_ERRNO(zmq_poller_add_fd(p, -1, NULL, ZMQ_POLLIN), EBADF);
    CHECK_ERRNO(zmq_poller_add(p, s, NULL, SHRT_MAX), EINVAL);
    CHECK_ERRNO(zmq_poller_modify(p, s, ZMQ_POLLIN), EINVAL);
    CHECK_ERRNO(zmq_poller_remove(p, s), EINVAL);
    CHECK_OK(zmq_poller_add(p, s, NULL, ZMQ_POLLIN));
    CHECK_ERRNO(zmq_poller_add(p, s, NULL, ZMQ_POLLIN), EINVAL);
    CHECK(zmq_poller_size(p) == 1);
    /* No thread-safe socket: no descriptor, as libzmq. */
    CHECK_ERRNO(zmq_poller_fd(p, &fd), EINVAL);
    zmq_poller_event_t ev;
    CHECK_ERRNO(zmq_poller_wait(p, NULL, 0), EFAULT);
    CHECK_ERRNO(zmq_poller_wait_all(p, &ev, -1, 0), EINVAL);
    CHECK_OK(zmq_poller_modify(p, s, 0));
    /* Nothing watched: EAGAIN at once, or EFAULT for a wait that could never end. */
    CHECK_ERRNO(zmq_poller_wait(p, &ev, 0), EAGAIN);
    CHECK(ev.socket == NULL && ev.fd == -1 && ev.events == 0);
    CHECK_ERRNO(zmq_poller_wait(p, &ev, -1), EFAULT);
    CHECK_OK(zmq_poller_remove(p, s));
    CHECK(zmq_poller_size(p) == 0);
    CHECK_OK(zmq_poller_destroy(&p));
    CHECK(p == NULL);
    CHECK_OK(zmq_close(s));
}

static void a_socket_is_ready_while_it_has_messages(void)
{
    void *push = zmq_socket(ctx, ZMQ_PUSH), *pull = zmq_socket(ctx, ZMQ_PULL);
    CHECK_OK(zmq_bind(pull, "inproc://poller-ready"));
    CHECK_OK(zmq_connect(push, "inproc://poller-ready"));
    void *p = zmq_poller_new();
    int tag = 7;
    CHECK_OK(zmq_poller_add(p, pull, &tag, ZMQ_POLLIN));
    zmq_poller_event_t ev;
    CHECK_ERRNO(zmq_poller_wait(p, &ev, 0), EAGAIN);
    CHECK_ERRNO(zmq_poller_wait(p, &ev, 20), EAGAIN);
    CHECK(zmq_send(push, "a", 1, 0) == 1);
    CHECK(zmq_send(push, "b", 1, 0) == 1);
    CHECK_OK(zmq_poller_wait(p, &ev, 1000));
    CHECK(ev.socket == pull && ev.user_data == &tag && ev.events == ZMQ_POLLIN);
    char c;
    CHECK(zmq_recv(pull, &c, 1, 0) == 1 && c == 'a');
    /* No new command came, but a message is still queued: still ready. */
    CHECK_OK(zmq_poller_wait(p, &ev, 0));
    CHECK(ev.socket == pull);
    CHECK(zmq_recv(pull, &c, 1, 0) == 1 && c == 'b');
    CHECK_ERRNO(zmq_poller_wait(p, &ev, 0), EAGAIN);
    CHECK_OK(zmq_poller_destroy(&p));
    CHECK_OK(zmq_close(push));
    CHECK_OK(zmq_close(pull));
}

static void a_rep_that_received_can_send_without_a_new_command(void)
{
    void *req = zmq_socket(ctx, ZMQ_REQ), *rep = zmq_socket(ctx, ZMQ_REP);
    CHECK_OK(zmq_bind(rep, "inproc://poller-rep"));
    CHECK_OK(zmq_connect(req, "inproc://poller-rep"));
    void *p = zmq_poller_new();
    CHECK_OK(zmq_poller_add(p, rep, NULL, ZMQ_POLLOUT));
    zmq_poller_event_t ev;
    CHECK_ERRNO(zmq_poller_wait(p, &ev, 0), EAGAIN);
    CHECK(zmq_send(req, "q", 1, 0) == 1);
    char c;
    CHECK(zmq_recv(rep, &c, 1, 0) == 1);
    CHECK_OK(zmq_poller_wait(p, &ev, 0));
    CHECK(ev.socket == rep && ev.events == ZMQ_POLLOUT);
    CHECK(zmq_send(rep, "r", 1, 0) == 1);
    CHECK_ERRNO(zmq_poller_wait(p, &ev, 0), EAGAIN);
    CHECK_OK(zmq_poller_destroy(&p));
    CHECK_OK(zmq_close(req));
    CHECK_OK(zmq_close(rep));
}

static void descriptors_are_level_triggered(void)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    void *p = zmq_poller_new();
    CHECK_OK(zmq_poller_add_fd(p, fds[0], NULL, ZMQ_POLLIN));
    CHECK_ERRNO(zmq_poller_add_fd(p, fds[0], NULL, ZMQ_POLLIN), EINVAL);
    zmq_poller_event_t ev;
    CHECK_ERRNO(zmq_poller_wait(p, &ev, 0), EAGAIN);
    CHECK(write(fds[1], "x", 1) == 1);
    for (int i = 0; i < 2; i++) {
        CHECK_OK(zmq_poller_wait(p, &ev, 1000));
        CHECK(ev.socket == NULL && ev.fd == fds[0] && ev.events == ZMQ_POLLIN);
    }
    CHECK_OK(zmq_poller_modify_fd(p, fds[0], 0));
    CHECK_ERRNO(zmq_poller_wait(p, &ev, 0), EAGAIN);
    CHECK_OK(zmq_poller_modify_fd(p, fds[0], ZMQ_POLLIN));
    char c;
    CHECK(read(fds[0], &c, 1) == 1);
    CHECK_ERRNO(zmq_poller_wait(p, &ev, 0), EAGAIN);
    CHECK_OK(zmq_poller_remove_fd(p, fds[0]));
    CHECK_ERRNO(zmq_poller_remove_fd(p, fds[0]), EINVAL);
    CHECK_OK(zmq_poller_destroy(&p));
    close(fds[0]);
    close(fds[1]);
}

static void descriptors_epoll_refuses_are_polled_as_libzmq_polls_them(void)
{
    /* A regular file is always ready; a descriptor that is not open reports an error. */
    void *p = zmq_poller_new();
    char path[] = "/tmp/zmq-rs-poller-XXXXXX";
    int file = mkstemp(path);
    CHECK(file >= 0);
    unlink(path);
    int closed = dup(file);
    close(closed);
    CHECK_OK(zmq_poller_add_fd(p, file, NULL, ZMQ_POLLIN));
    zmq_poller_event_t ev[2];
    CHECK(zmq_poller_wait_all(p, ev, 2, 0) == 1);
    CHECK(ev[0].fd == file && ev[0].events == ZMQ_POLLIN);
    CHECK(ev[1].fd == -1 && ev[1].events == 0);
    CHECK_OK(zmq_poller_add_fd(p, closed, NULL, ZMQ_POLLIN));
    CHECK(zmq_poller_wait_all(p, ev, 2, 0) == 2);
    CHECK(ev[1].fd == closed && ev[1].events == ZMQ_POLLERR);
    CHECK_OK(zmq_poller_destroy(&p));
    close(file);
}

/* Many items, one of them ready: reported, in order, and nothing else. */
static void one_ready_among_many(void)
{
    enum { N = 300 };
    void *pulls[N];
    void *p = zmq_poller_new();
    for (int i = 0; i < N; i++) {
        pulls[i] = zmq_socket(ctx, ZMQ_PULL);
        char ep[64];
        snprintf(ep, sizeof ep, "inproc://poller-many-%d", i);
        CHECK_OK(zmq_bind(pulls[i], ep));
        CHECK_OK(zmq_poller_add(p, pulls[i], pulls[i], ZMQ_POLLIN));
    }
    void *push = zmq_socket(ctx, ZMQ_PUSH);
    CHECK_OK(zmq_connect(push, "inproc://poller-many-123"));
    zmq_poller_event_t ev[4];
    CHECK_ERRNO(zmq_poller_wait_all(p, ev, 4, 0), EAGAIN);
    CHECK(zmq_send(push, "x", 1, 0) == 1);
    CHECK(zmq_poller_wait_all(p, ev, 4, 1000) == 1);
    CHECK(ev[0].socket == pulls[123] && ev[0].user_data == pulls[123]);
    CHECK(ev[1].socket == NULL && ev[3].events == 0);
    char c;
    CHECK(zmq_recv(pulls[123], &c, 1, 0) == 1);
    CHECK_ERRNO(zmq_poller_wait_all(p, ev, 4, 0), EAGAIN);
    /* More ready than asked for: the rest come with the next wait. */
    for (int i = 0; i < 3; i++) {
        char ep[64];
        snprintf(ep, sizeof ep, "inproc://poller-many-%d", 10 + i);
        CHECK_OK(zmq_connect(push, ep));
    }
    zmq_poller_event_t one;
    for (int i = 0; i < 4; i++)
        CHECK(zmq_send(push, "y", 1, 0) == 1);
    int seen = 0;
    while (seen < 4) {
        CHECK_OK(zmq_poller_wait(p, &one, 1000));
        CHECK(zmq_recv(one.socket, &c, 1, ZMQ_DONTWAIT) == 1);
        seen++;
    }
    CHECK_ERRNO(zmq_poller_wait(p, &one, 0), EAGAIN);
    CHECK_OK(zmq_poller_destroy(&p));
    CHECK_OK(zmq_close(push));
    for (int i = 0; i < N; i++)
        CHECK_OK(zmq_close(pulls[i]));
}

static void *send_later(void *client)
{
    usleep(50 * 1000);
    CHECK(zmq_send(client, "late", 4, 0) == 4);
    return NULL;
}

static void a_thread_safe_socket_wakes_its_poller(void)
{
    void *server = zmq_socket(ctx, ZMQ_SERVER), *client = zmq_socket(ctx, ZMQ_CLIENT);
    CHECK_OK(zmq_bind(server, "inproc://poller-ts"));
    CHECK_OK(zmq_connect(client, "inproc://poller-ts"));
    void *p = zmq_poller_new();
    CHECK_OK(zmq_poller_add(p, server, NULL, ZMQ_POLLIN));
    zmq_fd_t fd = -1;
    CHECK_OK(zmq_poller_fd(p, &fd));
    CHECK(fd >= 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, send_later, client) == 0);
    /* An outside loop waits on the descriptor, then asks the poller. */
    struct pollfd pfd = {fd, POLLIN, 0};
    CHECK(poll(&pfd, 1, 5000) == 1);
    zmq_poller_event_t ev;
    CHECK_OK(zmq_poller_wait(p, &ev, 1000));
    CHECK(ev.socket == server && ev.events == ZMQ_POLLIN);
    pthread_join(t, NULL);
    char buf[8];
    CHECK(zmq_recv(server, buf, sizeof buf, 0) == 4);
    CHECK_ERRNO(zmq_poller_wait(p, &ev, 0), EAGAIN);
    /* A blocking wait is woken by a thread-safe socket too. */
    CHECK(pthread_create(&t, NULL, send_later, client) == 0);
    CHECK_OK(zmq_poller_wait(p, &ev, 5000));
    CHECK(ev.socket == server);
    pthread_join(t, NULL);
    CHECK_OK(zmq_poller_remove(p, server));
    CHECK_ERRNO(zmq_poller_fd(p, &fd), EINVAL);
    CHECK_OK(zmq_poller_destroy(&p));
    CHECK_OK(zmq_close(client));
    CHECK_OK(zmq_close(server));
}

static void zmq_poll_takes_thread_safe_sockets(void)
{
    void *server = zmq_socket(ctx, ZMQ_SERVER), *client = zmq_socket(ctx, ZMQ_CLIENT);
    CHECK_OK(zmq_bind(server, "inproc://poll-ts"));
    CHECK_OK(zmq_connect(client, "inproc://poll-ts"));
    zmq_pollitem_t items[] = {{server, 0, ZMQ_POLLIN, 0}, {client, 0, ZMQ_POLLOUT, 0}};
    CHECK(zmq_poll(items, 2, 1000) == 1);
    CHECK(items[0].revents == 0 && items[1].revents == ZMQ_POLLOUT);
    CHECK(zmq_send(client, "x", 1, 0) == 1);
    items[1].events = 0;
    CHECK(zmq_poll(items, 2, 1000) == 1);
    CHECK(items[0].revents == ZMQ_POLLIN);
    CHECK_OK(zmq_close(client));
    CHECK_OK(zmq_close(server));
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    (void)sig;
    got_signal = 1;
}

static void *signal_later(void *target)
{
    usleep(50 * 1000);
    pthread_kill(*(pthread_t *)target, SIGUSR1);
    return NULL;
}

/* zmq_ppoll waits with the mask it is given: a signal blocked everywhere else interrupts
 * it (EINTR), as pselect does for libzmq. */
static void ppoll_waits_with_the_signal_mask_it_is_given(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    sigset_t blocked, during;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR1);
    CHECK(pthread_sigmask(SIG_BLOCK, &blocked, NULL) == 0);
    sigemptyset(&during);

    void *pull = zmq_socket(ctx, ZMQ_PULL);
    CHECK_OK(zmq_bind(pull, "inproc://ppoll"));
    zmq_pollitem_t item = {pull, 0, ZMQ_POLLIN, 0};
    /* Blocked: the signal waits, the poll times out. */
    pthread_t self = pthread_self(), t;
    CHECK(pthread_create(&t, NULL, signal_later, &self) == 0);
    CHECK(zmq_ppoll(&item, 1, 200, NULL) == 0);
    pthread_join(t, NULL);
    CHECK(!got_signal);
    /* Unblocked for the wait: delivered there, EINTR. */
    CHECK_ERRNO(zmq_ppoll(&item, 1, 5000, &during), EINTR);
    CHECK(got_signal);
    got_signal = 0;
    CHECK(pthread_create(&t, NULL, signal_later, &self) == 0);
    CHECK_ERRNO(zmq_ppoll(&item, 1, 5000, &during), EINTR);
    pthread_join(t, NULL);
    CHECK(got_signal);
    CHECK(pthread_sigmask(SIG_UNBLOCK, &blocked, NULL) == 0);
    CHECK_OK(zmq_close(pull));
}

int main(void)
{
    ctx = zmq_ctx_new();
    CHECK_PTR(ctx);
    RUN(bad_arguments_get_libzmq_errnos);
    RUN(a_socket_is_ready_while_it_has_messages);
    RUN(a_rep_that_received_can_send_without_a_new_command);
    RUN(descriptors_are_level_triggered);
    RUN(descriptors_epoll_refuses_are_polled_as_libzmq_polls_them);
    RUN(one_ready_among_many);
    RUN(a_thread_safe_socket_wakes_its_poller);
    RUN(zmq_poll_takes_thread_safe_sockets);
    RUN(ppoll_waits_with_the_signal_mask_it_is_given);
    CHECK_OK(zmq_ctx_term(ctx));
    return 0;
}
