/* The context-free exports: z85, CURVE key helpers, atomic counters, stopwatch, sleep,
 * threads and timers. Build with -DREFERENCE_LIBZMQ to run it against libzmq. */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <time.h>

#include "testutil.h"

static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* ---- z85 ---------------------------------------------------------------------------- */

static void test_z85_rfc_vector(void)
{
    const uint8_t data[8] = {0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B};
    char text[11];
    memset(text, 'x', sizeof text);
    CHECK(zmq_z85_encode(text, data, 8) == text);
    CHECK(strcmp(text, "HelloWorld") == 0);

    uint8_t back[8];
    CHECK(zmq_z85_decode(back, "HelloWorld") == back);
    CHECK(memcmp(back, data, 8) == 0);
}

static void test_z85_key_round_trip(void)
{
    uint8_t key[32];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(i * 37 + 11);
    char text[41];
    CHECK_PTR(zmq_z85_encode(text, key, 32));
    CHECK(strlen(text) == 40);
    uint8_t back[32];
    CHECK_PTR(zmq_z85_decode(back, text));
    CHECK(memcmp(back, key, 32) == 0);

    /* Zero bytes encode to the empty string, but the empty string does not decode. */
    char empty[1] = {'x'};
    CHECK(zmq_z85_encode(empty, key, 0) == empty);
    CHECK(empty[0] == '\0');
    errno = 0;
    CHECK(zmq_z85_decode(back, "") == NULL);
    CHECK(zmq_errno() == EINVAL);
}

static void test_z85_errors(void)
{
    const uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    char text[16];
    uint8_t out[16];

    errno = 0;
    CHECK(zmq_z85_encode(text, data, 3) == NULL);
    CHECK(zmq_errno() == EINVAL);
    CHECK(zmq_z85_encode(text, data, 7) == NULL);

    errno = 0;
    CHECK(zmq_z85_decode(out, "Hell") == NULL);
    CHECK(zmq_errno() == EINVAL);
    CHECK(zmq_z85_decode(out, "HelloWorl") == NULL);

    /* Characters outside the alphabet. */
    CHECK(zmq_z85_decode(out, "Hell\"") == NULL);
    CHECK(zmq_z85_decode(out, "Hell ") == NULL);
    CHECK(zmq_z85_decode(out, "Hell~") == NULL);
    CHECK(zmq_z85_decode(out, "Hell\x80") == NULL);

    /* "%nSc0" is 0xFFFFFFFF; one more overflows 32 bits. */
    CHECK(zmq_z85_decode(out, "%nSc0") == out);
    CHECK(out[0] == 0xFF && out[1] == 0xFF && out[2] == 0xFF && out[3] == 0xFF);
    errno = 0;
    CHECK(zmq_z85_decode(out, "%nSc1") == NULL);
    CHECK(zmq_errno() == EINVAL);
    CHECK(zmq_z85_decode(out, "#####") == NULL);
}

/* ---- CURVE ---------------------------------------------------------------------------- */

static void test_curve(void)
{
    char pub[41], sec[41], derived[41];
    CHECK_OK(zmq_curve_keypair(pub, sec));
    CHECK(strlen(pub) == 40 && strlen(sec) == 40);
    CHECK_OK(zmq_curve_public(derived, sec));
    CHECK(strcmp(derived, pub) == 0);
    /* A secret key of all zero bytes has a known public key (X25519 of the clamped zero
     * scalar and the base point): the same on every implementation. */
    uint8_t zero[32] = {0};
    char zero_z85[41];
    CHECK(zmq_z85_encode(zero_z85, zero, 32) != NULL);
    CHECK_OK(zmq_curve_public(derived, zero_z85));
    uint8_t pk[32];
    CHECK(zmq_z85_decode(pk, derived) != NULL);
    static const uint8_t expected[32] = {
        0x2f, 0xe5, 0x7d, 0xa3, 0x47, 0xcd, 0x62, 0x43, 0x15, 0x28, 0xda, 0xac, 0x5f, 0xbb, 0x29, 0x07,
        0x30, 0xff, 0xf6, 0x84, 0xaf, 0xc4, 0xcf, 0xc2, 0xed, 0x90, 0x99, 0x5f, 0x58, 0xcb, 0x3b, 0x74};
    CHECK(memcmp(pk, expected, 32) == 0);
    CHECK_ERRNO(zmq_curve_public(derived, "not z85"), EINVAL);
}

/* ---- atomic counters and threads ------------------------------------------------------ */

#define INCREMENTS 100000

static void increment_many(void *counter)
{
    for (int i = 0; i < INCREMENTS; i++)
        zmq_atomic_counter_inc(counter);
}

static void decrement_many(void *counter)
{
    for (int i = 0; i < INCREMENTS; i++)
        zmq_atomic_counter_dec(counter);
}

static void test_atomic_counter(void)
{
    void *counter = zmq_atomic_counter_new();
    CHECK_PTR(counter);
    CHECK(zmq_atomic_counter_value(counter) == 0);
    CHECK(zmq_atomic_counter_inc(counter) == 0);
    CHECK(zmq_atomic_counter_inc(counter) == 1);
    CHECK(zmq_atomic_counter_value(counter) == 2);
    CHECK(zmq_atomic_counter_dec(counter) == 1);
    CHECK(zmq_atomic_counter_dec(counter) == 0);
    CHECK(zmq_atomic_counter_value(counter) == 0);
    zmq_atomic_counter_set(counter, 5);
    CHECK(zmq_atomic_counter_value(counter) == 5);
    CHECK(zmq_atomic_counter_inc(counter) == 5);
    zmq_atomic_counter_set(counter, 1);
    CHECK(zmq_atomic_counter_dec(counter) == 0);
    zmq_atomic_counter_destroy(&counter);
    CHECK(counter == NULL);
}

static void test_atomic_counter_threads(void)
{
    void *counter = zmq_atomic_counter_new();
    CHECK_PTR(counter);
    void *a = zmq_threadstart(increment_many, counter);
    void *b = zmq_threadstart(increment_many, counter);
    CHECK_PTR(a);
    CHECK_PTR(b);
    zmq_threadclose(a);
    zmq_threadclose(b);
    CHECK(zmq_atomic_counter_value(counter) == 2 * INCREMENTS);

    a = zmq_threadstart(decrement_many, counter);
    b = zmq_threadstart(increment_many, counter);
    CHECK_PTR(a);
    CHECK_PTR(b);
    zmq_threadclose(a);
    zmq_threadclose(b);
    CHECK(zmq_atomic_counter_value(counter) == 2 * INCREMENTS);
    zmq_atomic_counter_destroy(&counter);
    CHECK(counter == NULL);
}

/* ---- stopwatch and sleep ----------------------------------------------------------------- */

static void test_stopwatch(void)
{
    void *watch = zmq_stopwatch_start();
    CHECK_PTR(watch);
    unsigned long first = zmq_stopwatch_intermediate(watch);
    sleep_ms(20);
    unsigned long second = zmq_stopwatch_intermediate(watch);
    CHECK(second >= first);
    CHECK(second >= 20000);
    CHECK(second < 2000000);
    unsigned long total = zmq_stopwatch_stop(watch);
    CHECK(total >= second);
}

static void test_sleep(void)
{
    void *watch = zmq_stopwatch_start();
    zmq_sleep(1);
    unsigned long elapsed = zmq_stopwatch_stop(watch);
    CHECK(elapsed >= 1000000);
    CHECK(elapsed < 3000000);
}

/* ---- timers ---------------------------------------------------------------------------- */

#define MAX_FIRED 16

typedef struct {
    int ids[MAX_FIRED];
    int count;
} fired_t;

static void record(int timer_id, void *arg)
{
    fired_t *fired = (fired_t *)arg;
    if (fired->count < MAX_FIRED)
        fired->ids[fired->count] = timer_id;
    fired->count++;
}

/* Runs the timers until `count` handlers fired in all, or about a second passed. */
static void run_until(void *timers, fired_t *fired, int count)
{
    for (int rounds = 0; rounds < 100 && fired->count < count; rounds++) {
        long timeout = zmq_timers_timeout(timers);
        CHECK(timeout >= 0);
        sleep_ms(timeout < 10 ? timeout : 10);
        CHECK_OK(zmq_timers_execute(timers));
    }
}

static void test_timers_errors(void)
{
    fired_t fired = {{0}, 0};
    void *timers = zmq_timers_new();
    CHECK_PTR(timers);
    CHECK(zmq_timers_timeout(timers) == -1);
    CHECK_OK(zmq_timers_execute(timers));

    CHECK_ERRNO(zmq_timers_add(NULL, 10, record, &fired), EFAULT);
    CHECK_ERRNO(zmq_timers_add(timers, 10, NULL, &fired), EFAULT);
    CHECK_ERRNO(zmq_timers_cancel(NULL, 1), EFAULT);
    CHECK_ERRNO(zmq_timers_set_interval(NULL, 1, 10), EFAULT);
    CHECK_ERRNO(zmq_timers_reset(NULL, 1), EFAULT);
    CHECK_ERRNO(zmq_timers_timeout(NULL), EFAULT);
    CHECK_ERRNO(zmq_timers_execute(NULL), EFAULT);

    CHECK_ERRNO(zmq_timers_cancel(timers, 1), EINVAL);
    CHECK_ERRNO(zmq_timers_set_interval(timers, 1, 10), EINVAL);
    CHECK_ERRNO(zmq_timers_reset(timers, 1), EINVAL);

    int id = zmq_timers_add(timers, 10, record, &fired);
    CHECK(id == 1);
    CHECK(zmq_timers_add(timers, 10, record, &fired) == 2);
    CHECK_OK(zmq_timers_cancel(timers, id));
    CHECK_ERRNO(zmq_timers_cancel(timers, id), EINVAL);
    CHECK_ERRNO(zmq_timers_cancel(timers, 99), EINVAL);

#ifndef REFERENCE_LIBZMQ
    /* libzmq itself crashes here; we report EFAULT. */
    CHECK_ERRNO(zmq_timers_destroy(NULL), EFAULT);
#endif
    void *null_timers = NULL;
    CHECK_ERRNO(zmq_timers_destroy(&null_timers), EFAULT);
    CHECK_OK(zmq_timers_destroy(&timers));
    CHECK(timers == NULL);
    CHECK(fired.count == 0);
}

static void test_timers_order(void)
{
    fired_t fired = {{0}, 0};
    void *timers = zmq_timers_new();
    CHECK_PTR(timers);
    int slow = zmq_timers_add(timers, 60, record, &fired);
    int fast = zmq_timers_add(timers, 20, record, &fired);
    CHECK(slow > 0 && fast > 0 && slow != fast);
    long timeout = zmq_timers_timeout(timers);
    CHECK(timeout > 0 && timeout <= 20);

    /* Nothing is due yet. */
    CHECK_OK(zmq_timers_execute(timers));
    CHECK(fired.count == 0);

    run_until(timers, &fired, 1);
    CHECK(fired.count >= 1);
    CHECK(fired.ids[0] == fast);
    run_until(timers, &fired, 10);
    CHECK(fired.count >= 10);
    /* Over about 200 ms the 20 ms timer fires about three times as often. */
    int fast_count = 0, slow_count = 0;
    for (int i = 0; i < fired.count && i < MAX_FIRED; i++) {
        if (fired.ids[i] == fast)
            fast_count++;
        else if (fired.ids[i] == slow)
            slow_count++;
    }
    CHECK(slow_count >= 1);
    CHECK(fast_count > slow_count);
    CHECK_OK(zmq_timers_destroy(&timers));
}

static void test_timers_cancel(void)
{
    fired_t fired = {{0}, 0};
    void *timers = zmq_timers_new();
    int a = zmq_timers_add(timers, 10, record, &fired);
    int b = zmq_timers_add(timers, 10, record, &fired);
    CHECK_OK(zmq_timers_cancel(timers, a));
    sleep_ms(20);
    CHECK(zmq_timers_timeout(timers) == 0);
    CHECK_OK(zmq_timers_execute(timers));
    CHECK(fired.count == 1);
    CHECK(fired.ids[0] == b);

    CHECK_OK(zmq_timers_cancel(timers, b));
    CHECK(zmq_timers_timeout(timers) == -1);
    sleep_ms(20);
    CHECK_OK(zmq_timers_execute(timers));
    CHECK(fired.count == 1);
    CHECK_ERRNO(zmq_timers_cancel(timers, b), EINVAL);
    CHECK_OK(zmq_timers_destroy(&timers));
}

static void test_timers_reset(void)
{
    fired_t fired = {{0}, 0};
    void *timers = zmq_timers_new();
    int id = zmq_timers_add(timers, 100, record, &fired);
    sleep_ms(60);
    CHECK(zmq_timers_timeout(timers) <= 40);
    CHECK_OK(zmq_timers_reset(timers, id));
    long timeout = zmq_timers_timeout(timers);
    CHECK(timeout > 60 && timeout <= 100);
    sleep_ms(60);
    CHECK_OK(zmq_timers_execute(timers));
    CHECK(fired.count == 0);
    run_until(timers, &fired, 1);
    CHECK(fired.count == 1);
    CHECK_OK(zmq_timers_destroy(&timers));
}

static void test_timers_set_interval(void)
{
    fired_t fired = {{0}, 0};
    void *timers = zmq_timers_new();
    int id = zmq_timers_add(timers, 10000, record, &fired);
    long timeout = zmq_timers_timeout(timers);
    CHECK(timeout > 9000 && timeout <= 10000);
    CHECK_OK(zmq_timers_set_interval(timers, id, 20));
    timeout = zmq_timers_timeout(timers);
    CHECK(timeout >= 0 && timeout <= 20);
    run_until(timers, &fired, 2);
    CHECK(fired.count == 2);
    CHECK(fired.ids[0] == id && fired.ids[1] == id);
    CHECK_OK(zmq_timers_destroy(&timers));
}

typedef struct {
    void *timers;
    int victim;
    int runs;
} canceller_t;

/* A handler may use its own timer set: it cancels another timer due in the same run. */
static void cancel_victim(int timer_id, void *arg)
{
    (void)timer_id;
    canceller_t *c = (canceller_t *)arg;
    c->runs++;
    CHECK_OK(zmq_timers_cancel(c->timers, c->victim));
}

static void test_timers_handler_reentry(void)
{
    fired_t fired = {{0}, 0};
    canceller_t c = {zmq_timers_new(), 0, 0};
    int first = zmq_timers_add(c.timers, 10, cancel_victim, &c);
    c.victim = zmq_timers_add(c.timers, 10, record, &fired);
    CHECK(first > 0 && c.victim > 0);
    sleep_ms(20);
    CHECK_OK(zmq_timers_execute(c.timers));
    CHECK(c.runs == 1);
    CHECK(fired.count == 0);
    CHECK_OK(zmq_timers_cancel(c.timers, first));
    CHECK_OK(zmq_timers_destroy(&c.timers));
}

int main(void)
{
    printf("test_util\n");
    RUN(test_z85_rfc_vector);
    RUN(test_z85_key_round_trip);
    RUN(test_z85_errors);
    RUN(test_curve);
    RUN(test_atomic_counter);
    RUN(test_atomic_counter_threads);
    RUN(test_stopwatch);
    RUN(test_sleep);
    RUN(test_timers_errors);
    RUN(test_timers_order);
    RUN(test_timers_cancel);
    RUN(test_timers_reset);
    RUN(test_timers_set_interval);
    RUN(test_timers_handler_reentry);
    printf("test_util: all passed\n");
    return 0;
}
