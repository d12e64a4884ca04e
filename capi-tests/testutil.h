/* Assertions for our C API tests: each failed check prints where and why, and exits 1. */
#ifndef ZMQ_RS_TESTUTIL_H
#define ZMQ_RS_TESTUTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "%s:%d: check failed: %s (errno %d: %s)\n", __FILE__,   \
                    __LINE__, #cond, zmq_errno(), zmq_strerror(zmq_errno()));       \
            exit(1);                                                                \
        }                                                                           \
    } while (0)

/* The call must succeed (return >= 0 / non-NULL). */
#define CHECK_OK(expr) CHECK((expr) >= 0)
#define CHECK_PTR(expr) CHECK((expr) != NULL)

/* The call must fail with -1 and errno `err`. */
#define CHECK_ERRNO(expr, err)                                                      \
    do {                                                                            \
        int rc_ = (int)(expr);                                                      \
        int e_ = zmq_errno();                                                       \
        if (rc_ != -1 || e_ != (err)) {                                             \
            fprintf(stderr, "%s:%d: %s returned %d errno %d (%s), expected -1 %s\n", \
                    __FILE__, __LINE__, #expr, rc_, e_, zmq_strerror(e_), #err);    \
            exit(1);                                                                \
        }                                                                           \
    } while (0)

/* The volume divisor of the stress tests: 1 in the normal suite; the sanitizer runs
 * (capi-tests/sanitize.sh) set ZMQRS_TEST_SCALE=N, where every instruction is several times
 * slower, and those tests then move 1/N of their volume, with N times their waits. */
static inline unsigned test_scale(void) {
    const char *s = getenv("ZMQRS_TEST_SCALE");
    long n = s ? atol(s) : 1;
    return n < 1 ? 1u : (unsigned)n;
}

/* Runs one named test case and reports it. */
#define RUN(fn)                                                                     \
    do {                                                                            \
        fn();                                                                       \
        printf("  ok %s\n", #fn);                                                   \
    } while (0)

/* Binds `s` to `pattern` (a wildcard tcp or ipc endpoint) and writes the endpoint it
 * got (ZMQ_LAST_ENDPOINT) into ep, of `cap` bytes. */
static inline void bind_wildcard(void *s, const char *pattern, char *ep, size_t cap)
{
    CHECK_OK(zmq_bind(s, pattern));
    CHECK_OK(zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &cap));
}

/* The next event on a monitor's PAIR socket (its value in *value when value is not NULL),
 * or -1 when none comes within timeout_ms. */
static inline int next_monitor_event(void *mon, int timeout_ms, uint32_t *value)
{
    CHECK_OK(zmq_setsockopt(mon, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms));
    zmq_msg_t m;
    CHECK_OK(zmq_msg_init(&m));
    if (zmq_msg_recv(&m, mon, 0) == -1) {
        CHECK(zmq_errno() == EAGAIN);
        zmq_msg_close(&m);
        return -1;
    }
    CHECK(zmq_msg_size(&m) == 6 && zmq_msg_more(&m));
    uint16_t event;
    memcpy(&event, zmq_msg_data(&m), 2);
    if (value)
        memcpy(value, (char *)zmq_msg_data(&m) + 2, 4);
    CHECK(zmq_msg_recv(&m, mon, 0) >= 0); /* the endpoint */
    CHECK_OK(zmq_msg_close(&m));
    return event;
}

#endif
