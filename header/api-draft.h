/* The draft functions of libzmq 4.3.5's C API (declared only with ZMQ_BUILD_DRAFT_API,
 * exported only by a build with the `draft` feature), one prototype a line.
 * Used by tests/header.rs exactly as api-stable.h is. */
int zmq_ctx_set_ext(void *context, int option, const void *optval, size_t optvallen);
int zmq_ctx_get_ext(void *context, int option, void *optval, size_t *optvallen);
int zmq_join(void *socket, const char *group);
int zmq_leave(void *socket, const char *group);
uint32_t zmq_connect_peer(void *socket, const char *endpoint);
int zmq_msg_set_routing_id(zmq_msg_t *msg, uint32_t routing_id);
uint32_t zmq_msg_routing_id(zmq_msg_t *msg);
int zmq_msg_set_group(zmq_msg_t *msg, const char *group);
const char *zmq_msg_group(zmq_msg_t *msg);
int zmq_msg_init_buffer(zmq_msg_t *msg, const void *buf, size_t size);
void *zmq_poller_new(void);
int zmq_poller_destroy(void **poller_p);
int zmq_poller_size(void *poller);
int zmq_poller_add(void *poller, void *socket, void *user_data, short events);
int zmq_poller_modify(void *poller, void *socket, short events);
int zmq_poller_remove(void *poller, void *socket);
int zmq_poller_wait(void *poller, zmq_poller_event_t *event, long timeout);
int zmq_poller_wait_all(void *poller, zmq_poller_event_t *events, int n_events, long timeout);
int zmq_poller_fd(void *poller, zmq_fd_t *fd);
int zmq_poller_add_fd(void *poller, zmq_fd_t fd, void *user_data, short events);
int zmq_poller_modify_fd(void *poller, zmq_fd_t fd, short events);
int zmq_poller_remove_fd(void *poller, zmq_fd_t fd);
int zmq_socket_get_peer_state(void *socket, const void *routing_id, size_t routing_id_size);
int zmq_socket_monitor_versioned(void *socket, const char *endpoint, uint64_t events, int event_version, int type);
int zmq_socket_monitor_pipes_stats(void *socket);
/* zmq_ppoll (4.3.5) takes POSIX's sigset_t: declared where <signal.h> defines it (not on
 * Windows, nor under strict ISO C without a POSIX feature macro, where libzmq's own header
 * fails to compile instead). */
#if !defined _WIN32 && (!defined __STRICT_ANSI__ || defined _POSIX_C_SOURCE || defined _POSIX_SOURCE || defined _XOPEN_SOURCE || defined _DEFAULT_SOURCE || defined _GNU_SOURCE)
int zmq_ppoll(zmq_pollitem_t *items, int nitems, long timeout, const sigset_t *sigmask);
#endif
