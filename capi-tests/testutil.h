/* Assertions for our C API tests: each failed check prints where and why, and exits 1. */
#ifndef ZMQ_RS_TESTUTIL_H
#define ZMQ_RS_TESTUTIL_H

#include <errno.h>
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

/* Runs one named test case and reports it. */
#define RUN(fn)                                                                     \
    do {                                                                            \
        fn();                                                                       \
        printf("  ok %s\n", #fn);                                                   \
    } while (0)

#endif
