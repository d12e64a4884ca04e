/* The stable functions of libzmq 4.3.5's C API, one prototype a line.
 *
 * tests/header.rs reads this list when it generates include/zmq.h: a function that no Rust
 * `#[no_mangle] extern "C"` function provides yet is declared from its line here (inside the
 * trailer); once the Rust function exists, cbindgen writes its prototype instead. It also
 * checks that every function cbindgen emits is listed here or in api-draft.h.
 * Lines that do not start with a type are comments. */
int zmq_errno(void);
const char *zmq_strerror(int errnum);
void zmq_version(int *major, int *minor, int *patch);
void *zmq_ctx_new(void);
int zmq_ctx_term(void *context);
int zmq_ctx_shutdown(void *context);
int zmq_ctx_set(void *context, int option, int optval);
int zmq_ctx_get(void *context, int option);
void *zmq_init(int io_threads);
int zmq_term(void *context);
int zmq_ctx_destroy(void *context);
int zmq_msg_init(zmq_msg_t *msg);
int zmq_msg_init_size(zmq_msg_t *msg, size_t size);
int zmq_msg_init_data(zmq_msg_t *msg, void *data, size_t size, zmq_free_fn *ffn, void *hint);
int zmq_msg_send(zmq_msg_t *msg, void *socket, int flags);
int zmq_msg_recv(zmq_msg_t *msg, void *socket, int flags);
int zmq_msg_close(zmq_msg_t *msg);
int zmq_msg_move(zmq_msg_t *dest, zmq_msg_t *src);
int zmq_msg_copy(zmq_msg_t *dest, zmq_msg_t *src);
void *zmq_msg_data(zmq_msg_t *msg);
size_t zmq_msg_size(const zmq_msg_t *msg);
int zmq_msg_more(const zmq_msg_t *msg);
int zmq_msg_get(const zmq_msg_t *msg, int property);
int zmq_msg_set(zmq_msg_t *msg, int property, int optval);
const char *zmq_msg_gets(const zmq_msg_t *msg, const char *property);
void *zmq_socket(void *context, int type);
int zmq_close(void *socket);
int zmq_setsockopt(void *socket, int option, const void *optval, size_t optvallen);
int zmq_getsockopt(void *socket, int option, void *optval, size_t *optvallen);
int zmq_bind(void *socket, const char *endpoint);
int zmq_connect(void *socket, const char *endpoint);
int zmq_unbind(void *socket, const char *endpoint);
int zmq_disconnect(void *socket, const char *endpoint);
int zmq_send(void *socket, const void *buf, size_t len, int flags);
int zmq_send_const(void *socket, const void *buf, size_t len, int flags);
int zmq_recv(void *socket, void *buf, size_t len, int flags);
int zmq_socket_monitor(void *socket, const char *endpoint, int events);
int zmq_poll(zmq_pollitem_t *items, int nitems, long timeout);
int zmq_proxy(void *frontend, void *backend, void *capture);
int zmq_proxy_steerable(void *frontend, void *backend, void *capture, void *control);
int zmq_has(const char *capability);
int zmq_device(int type, void *frontend, void *backend);
int zmq_sendmsg(void *socket, zmq_msg_t *msg, int flags);
int zmq_recvmsg(void *socket, zmq_msg_t *msg, int flags);
int zmq_sendiov(void *socket, struct iovec *iov, size_t count, int flags);
int zmq_recviov(void *socket, struct iovec *iov, size_t *count, int flags);
char *zmq_z85_encode(char *dest, const uint8_t *data, size_t size);
uint8_t *zmq_z85_decode(uint8_t *dest, const char *string);
int zmq_curve_keypair(char *z85_public_key, char *z85_secret_key);
int zmq_curve_public(char *z85_public_key, const char *z85_secret_key);
void *zmq_atomic_counter_new(void);
void zmq_atomic_counter_set(void *counter, int value);
int zmq_atomic_counter_inc(void *counter);
int zmq_atomic_counter_dec(void *counter);
int zmq_atomic_counter_value(void *counter);
void zmq_atomic_counter_destroy(void **counter_p);
void *zmq_timers_new(void);
int zmq_timers_destroy(void **timers_p);
int zmq_timers_add(void *timers, size_t interval, zmq_timer_fn *handler, void *arg);
int zmq_timers_cancel(void *timers, int timer_id);
int zmq_timers_set_interval(void *timers, int timer_id, size_t interval);
int zmq_timers_reset(void *timers, int timer_id);
long zmq_timers_timeout(void *timers);
int zmq_timers_execute(void *timers);
void *zmq_stopwatch_start(void);
unsigned long zmq_stopwatch_intermediate(void *watch);
unsigned long zmq_stopwatch_stop(void *watch);
void zmq_sleep(int seconds);
void *zmq_threadstart(zmq_thread_fn *func, void *arg);
void zmq_threadclose(void *thread);
