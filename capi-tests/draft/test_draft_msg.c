/* The draft message and context functions: zmq_msg_init_buffer, routing ids, groups,
 * zmq_ctx_set_ext / zmq_ctx_get_ext, and zmq_has("draft"). */
#include "testutil.h"

static void the_draft_build_says_so(void)
{
    CHECK(zmq_has("draft") == 1);
}

static void init_buffer_copies_the_bytes(void)
{
    char buf[100];
    memset(buf, 'x', sizeof buf);
    zmq_msg_t m;
    CHECK_OK(zmq_msg_init_buffer(&m, buf, sizeof buf));
    buf[0] = 'y';
    CHECK(zmq_msg_size(&m) == sizeof buf);
    CHECK(((char *)zmq_msg_data(&m))[0] == 'x');
    CHECK_OK(zmq_msg_close(&m));
    CHECK_OK(zmq_msg_init_buffer(&m, NULL, 0));
    CHECK(zmq_msg_size(&m) == 0);
    CHECK_OK(zmq_msg_close(&m));
}

static void a_routing_id_is_never_zero_and_survives_a_copy(void)
{
    zmq_msg_t m, c;
    CHECK_OK(zmq_msg_init(&m));
    CHECK(zmq_msg_routing_id(&m) == 0);
    CHECK_ERRNO(zmq_msg_set_routing_id(&m, 0), EINVAL);
    CHECK_OK(zmq_msg_set_routing_id(&m, 0xdeadbeef));
    CHECK(zmq_msg_routing_id(&m) == 0xdeadbeef);
    CHECK_OK(zmq_msg_init(&c));
    CHECK_OK(zmq_msg_copy(&c, &m));
    CHECK(zmq_msg_routing_id(&c) == 0xdeadbeef);
    CHECK_OK(zmq_msg_close(&m));
    CHECK_OK(zmq_msg_close(&c));
}

static void a_group_has_at_most_255_bytes_and_survives_a_copy(void)
{
    zmq_msg_t m, c;
    CHECK_OK(zmq_msg_init_size(&m, 3));
    CHECK(strcmp(zmq_msg_group(&m), "") == 0);
    CHECK_OK(zmq_msg_set_group(&m, "weather"));
    CHECK(strcmp(zmq_msg_group(&m), "weather") == 0);
    char longest[256], too_long[257];
    memset(longest, 'g', 255);
    longest[255] = 0;
    memset(too_long, 'g', 256);
    too_long[256] = 0;
    CHECK_ERRNO(zmq_msg_set_group(&m, too_long), EINVAL);
    CHECK(strcmp(zmq_msg_group(&m), "weather") == 0);
    CHECK_OK(zmq_msg_set_group(&m, longest));
    CHECK(strcmp(zmq_msg_group(&m), longest) == 0);
    CHECK_OK(zmq_msg_init(&c));
    CHECK_OK(zmq_msg_copy(&c, &m));
    CHECK(strcmp(zmq_msg_group(&c), longest) == 0);
    CHECK(zmq_msg_size(&c) == 3);
    CHECK_OK(zmq_msg_close(&m));
    CHECK_OK(zmq_msg_close(&c));
}

static void context_options_through_the_ext_calls(void)
{
    void *ctx = zmq_ctx_new();
    CHECK_PTR(ctx);
    int v = 3;
    CHECK_OK(zmq_ctx_set_ext(ctx, ZMQ_IO_THREADS, &v, sizeof v));
    int got = 0;
    size_t len = sizeof got;
    CHECK_OK(zmq_ctx_get_ext(ctx, ZMQ_IO_THREADS, &got, &len));
    CHECK(got == 3 && len == sizeof got);
    CHECK(zmq_ctx_get(ctx, ZMQ_IO_THREADS) == 3);
    /* An int option needs exactly an int. */
    long wide = 2;
    CHECK_ERRNO(zmq_ctx_set_ext(ctx, ZMQ_IO_THREADS, &wide, sizeof wide), EINVAL);
    len = sizeof wide;
    CHECK_ERRNO(zmq_ctx_get_ext(ctx, ZMQ_IO_THREADS, &wide, &len), EINVAL);
    /* The thread name prefix also takes a name. */
    CHECK_OK(zmq_ctx_set_ext(ctx, ZMQ_THREAD_NAME_PREFIX, "pfx", 3));
    char name[16] = {0};
    len = sizeof name;
    CHECK_OK(zmq_ctx_get_ext(ctx, ZMQ_THREAD_NAME_PREFIX, name, &len));
    CHECK(memcmp(name, "pfx", 3) == 0);
    CHECK_ERRNO(zmq_ctx_set_ext(ctx, ZMQ_THREAD_NAME_PREFIX, "0123456789abcdefX", 17), EINVAL);
    v = 42;
    CHECK_OK(zmq_ctx_set_ext(ctx, ZMQ_THREAD_NAME_PREFIX, &v, sizeof v));
    CHECK(zmq_ctx_get(ctx, ZMQ_THREAD_NAME_PREFIX) == 42);
    CHECK_ERRNO(zmq_ctx_set_ext(NULL, ZMQ_IO_THREADS, &v, sizeof v), EFAULT);
    CHECK_OK(zmq_ctx_term(ctx));
}

int main(void)
{
    RUN(the_draft_build_says_so);
    RUN(init_buffer_copies_the_bytes);
    RUN(a_routing_id_is_never_zero_and_survives_a_copy);
    RUN(a_group_has_at_most_255_bytes_and_survives_a_copy);
    RUN(context_options_through_the_ext_calls);
    return 0;
}
