/* Where a bound socket's connections run: each accepted connection goes to the context's next
 * I/O thread in turn (within ZMQ_AFFINITY), not to the listener's thread alone. (libzmq picks
 * the thread with the fewest file descriptors; a burst of accepts reads those counts before
 * they change, and its connections can all land on one thread.)
 *
 * A PULL on a context of two I/O threads takes CONNS connections from PUSHes in a child
 * process, each bringing PER_CONN bytes. What each I/O thread read is its kernel count of
 * bytes read (rchar in /proc/self/task/TID/io): the engines read with readv. Spread, each
 * thread has read at least one connection's bytes; with ZMQ_AFFINITY naming I/O thread 1
 * only, that thread reads them all and thread 0 none of them. */
#define _DEFAULT_SOURCE
#include "spawn.h"
#include "testutil.h"
#include <dirent.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#define CONNS 4
#define MSG_SIZE 65536
#define PER_CONN_MSGS 16
#define PER_CONN ((long long)MSG_SIZE * PER_CONN_MSGS)

/* The child: CONNS PUSHes to `ep`, each sending its PER_CONN bytes, then a clean end. */
static void pushers(const char *ep) {
    void *ctx = zmq_ctx_new();
    void *push[CONNS];
    static char buf[MSG_SIZE];
    memset(buf, 'x', sizeof buf);
    for (int i = 0; i < CONNS; i++) {
        push[i] = zmq_socket(ctx, ZMQ_PUSH);
        CHECK_PTR(push[i]);
        CHECK_OK(zmq_connect(push[i], ep));
    }
    for (int k = 0; k < PER_CONN_MSGS; k++)
        for (int i = 0; i < CONNS; i++)
            CHECK(zmq_send(push[i], buf, sizeof buf, 0) == (int)sizeof buf);
    int linger = -1;
    for (int i = 0; i < CONNS; i++) {
        CHECK_OK(zmq_setsockopt(push[i], ZMQ_LINGER, &linger, sizeof linger));
        CHECK_OK(zmq_close(push[i]));
    }
    CHECK_OK(zmq_ctx_term(ctx));
    _exit(0);
}

/* Bytes read so far by this process's thread named `name` (-1: no such thread or no per-task
 * I/O accounting here). */
static long long thread_rchar(const char *name) {
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    long long found = -1;
    struct dirent *e;
    while (found < 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[320], comm[64] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(comm, sizeof comm, f))
            comm[strcspn(comm, "\n")] = 0;
        fclose(f);
        if (strcmp(comm, name) != 0)
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/io", e->d_name);
        f = fopen(path, "r");
        if (!f)
            break;
        char line[128];
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "rchar: %lld", &found) == 1)
                break;
        fclose(f);
    }
    closedir(d);
    return found;
}

/* One round: a PULL (with `affinity`, 0 for none) takes the child's connections and every
 * byte; returns what I/O threads 0 and 1 read meanwhile in `bytes`. */
static void round_with(void *ctx, uint64_t affinity, long long bytes[2]) {
    void *pull = zmq_socket(ctx, ZMQ_PULL);
    CHECK_PTR(pull);
    if (affinity)
        CHECK_OK(zmq_setsockopt(pull, ZMQ_AFFINITY, &affinity, sizeof affinity));
    char ep[256];
    bind_wildcard(pull, "tcp://127.0.0.1:*", ep, sizeof ep);
    /* A new I/O thread names itself once it runs: give it a moment. */
    long long before[2] = {-1, -1};
    for (int tries = 0; tries < 100 && (before[0] < 0 || before[1] < 0); tries++) {
        if (tries)
            nanosleep(&(struct timespec){0, 10000000}, NULL);
        before[0] = thread_rchar("ZMQbg/IO/0");
        before[1] = thread_rchar("ZMQbg/IO/1");
    }
    char *argv[] = {"/proc/self/exe", "pushers", ep, NULL};
    pid_t child = spawn_self(argv);
    CHECK(child > 0);
    static char buf[MSG_SIZE];
    for (int n = 0; n < CONNS * PER_CONN_MSGS; n++)
        CHECK(zmq_recv(pull, buf, sizeof buf, 0) == MSG_SIZE);
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (int t = 0; t < 2; t++) {
        char name[32];
        snprintf(name, sizeof name, "ZMQbg/IO/%d", t);
        long long after = thread_rchar(name);
        bytes[t] = before[t] < 0 || after < 0 ? -1 : after - before[t];
    }
    CHECK_OK(zmq_close(pull));
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "pushers") == 0)
        pushers(argv[2]);
    alarm(120);
    void *ctx = zmq_ctx_new();
    CHECK_OK(zmq_ctx_set(ctx, ZMQ_IO_THREADS, 2));
    long long bytes[2];

    round_with(ctx, 0, bytes);
    if (bytes[0] < 0 || bytes[1] < 0) {
        printf("test_io_threads: every message arrived; placement not checked (no per-thread "
               "I/O accounting in /proc)\n");
        CHECK_OK(zmq_ctx_term(ctx));
        return 0;
    }
    /* Spread: each I/O thread read at least one connection's bytes. */
    CHECK(bytes[0] >= PER_CONN);
    CHECK(bytes[1] >= PER_CONN);

    /* ZMQ_AFFINITY 2: the listener and every connection on I/O thread 1. */
    round_with(ctx, 2, bytes);
    CHECK(bytes[1] >= CONNS * PER_CONN);
    CHECK(bytes[0] < PER_CONN);

    CHECK_OK(zmq_ctx_term(ctx));
    printf("test_io_threads: OK\n");
    return 0;
}
