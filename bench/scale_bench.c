/* How time and memory grow with N (bench/scale.sh): each subcommand prints one line of figures
 * on stdout (nothing else), diagnostics on stderr, and exits non-zero on failure.
 *
 *   scale_bench fanout N SECONDS        one PUB over tcp to N SUBs (subscribed to ""), spread
 *       over ceil(N/100) forked processes. Warm-up messages until every SUB has one, then the
 *       PUB sends 64 B messages back to back; over a window of SECONDS (after 0.5 s) prints
 *       "delivered_per_s sent_per_s pub_cpu_us_per_sent delivered_percent setup_ms"
 *       (delivered: total over all SUBs; percent: 100 * delivered / (sent * N), the rest was
 *       dropped at the HWM; setup: from handing out the endpoint until every SUB has had a
 *       message)
 *   scale_bench subs N SECONDS          one SUB (forked process) subscribes N prefixes
 *       "p%08d" on a PUB; prints "sub_ms rss_bytes_per_sub match_per_s miss_per_s unsub_ms
 *       delivered": the time from the first zmq_setsockopt until a message matching the last
 *       prefix arrives, the PUB process's VmRSS growth per subscription, the PUB's send rate of
 *       64 B messages matching a random prefix and of messages missing (the last digit of a
 *       random prefix replaced by 'x'), SECONDS each, the time from the first unsubscribe until
 *       a message on a sentinel prefix subscribed after the last unsubscribe arrives, and the
 *       count the SUB got in the matching phase (a sanity check)
 *   scale_bench conns N PROCS IO_THREADS SECONDS   N DEALERs in PROCS forked processes to one
 *       ROUTER, ZMQ_IO_THREADS on every context; prints "connect_ms rss_bytes_per_conn
 *       req_per_s": the time from handing out the endpoint until every DEALER has the reply to
 *       its first request, the ROUTER process's VmRSS growth per (idle) connection, and the
 *       round trips per second over SECONDS with every DEALER keeping one request outstanding
 *       (ZMQ_BACKLOG 4096 on the ROUTER, the default somaxconn)
 *   scale_bench sockets BATCHES BATCH   BATCHES times: create BATCH sockets (12 types in turn)
 *       on one context, close them all, pause 20 ms (not timed); prints "batch us_per_socket
 *       rss_kib" per batch. ZMQ_MAX_SOCKETS is 4 * BATCH + 64; a zmq_socket that fails with
 *       EMFILE (closed sockets not destroyed yet) is retried after 100 us, counted on stderr
 *
 * Forked processes die with their parent (PR_SET_PDEATHSIG) and are reached over pipes (one
 * line per command or report). Every wait is bounded. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define MSG_SIZE 64
#define BACKLOG 4096
#define SETTLE_US 20000

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec +
           ru.ru_stime.tv_usec;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) {
            v = atol(line + 6);
            break;
        }
    fclose(f);
    return v;
}

static const char *role = "main";

static void fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "scale_bench %s[%d]: ", role, (int)getpid());
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void die(const char *what)
{
    fail("%s: %s", what, zmq_strerror(zmq_errno()));
}

static void sleep_us(long us)
{
    struct timespec t = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

/* ---- forked processes and their pipes ---- */

typedef struct {
    pid_t pid;
    int to;   /* the parent writes commands */
    int from; /* the parent reads reports */
} child_t;

static int parent_fds[4096];
static int n_parent_fds;

typedef void (*body_fn)(int in, int out, long a, long b);

static void spawn(child_t *c, body_fn body, long a, long b)
{
    int down[2], up[2];
    if (pipe(down) != 0 || pipe(up) != 0)
        fail("pipe: %s", strerror(errno));
    if (n_parent_fds + 2 > (int)(sizeof parent_fds / sizeof parent_fds[0]))
        fail("too many processes");
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        fail("fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        /* Other children's pipe ends would hide an EOF from them. */
        for (int i = 0; i < n_parent_fds; i++)
            close(parent_fds[i]);
        close(down[1]);
        close(up[0]);
        body(down[0], up[1], a, b);
        exit(0);
    }
    close(down[0]);
    close(up[1]);
    c->pid = pid;
    c->to = down[1];
    c->from = up[0];
    parent_fds[n_parent_fds++] = c->to;
    parent_fds[n_parent_fds++] = c->from;
}

static void say(int fd, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= (int)sizeof buf)
        fail("line too long");
    for (int off = 0; off < n;) {
        ssize_t w = write(fd, buf + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            fail("write to pipe: %s", strerror(errno));
        off += (int)w;
    }
}

/* One line (without its newline) into buf: 1, or 0 at EOF, or -1 after timeout_ms (-1: none). */
static int read_line(int fd, char *buf, size_t size, int timeout_ms)
{
    size_t n = 0;
    double deadline = now_us() + timeout_ms * 1e3;
    for (;;) {
        int left = -1;
        if (timeout_ms >= 0) {
            double l = (deadline - now_us()) / 1e3;
            left = l < 0 ? 0 : (int)l;
        }
        struct pollfd p = {fd, POLLIN, 0};
        int rc = poll(&p, 1, left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            fail("poll: %s", strerror(errno));
        if (rc == 0)
            return -1;
        char ch;
        ssize_t r = read(fd, &ch, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 0;
        if (ch == '\n') {
            buf[n] = 0;
            return 1;
        }
        if (n + 1 < size)
            buf[n++] = ch;
    }
}

static void expect_line(int fd, char *buf, size_t size, int timeout_ms, const char *what)
{
    int rc = read_line(fd, buf, size, timeout_ms);
    if (rc == 0)
        fail("%s: the other process has gone", what);
    if (rc < 0)
        fail("%s: nothing within %d ms", what, timeout_ms);
}

/* Waits for the children to exit (up to 15 s in all), then kills what is left, saying so. */
static void reap(child_t *ch, long n)
{
    double deadline = now_us() + 15e6;
    int bad = 0;
    for (long i = 0; i < n; i++) {
        close(ch[i].to);
        close(ch[i].from);
    }
    for (long i = 0; i < n; i++) {
        int st;
        for (;;) {
            pid_t r = waitpid(ch[i].pid, &st, WNOHANG);
            if (r == ch[i].pid) {
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                    fprintf(stderr, "scale_bench %s: child %d ended with status 0x%x\n", role,
                            (int)ch[i].pid, st);
                    bad = 1;
                }
                break;
            }
            if (r < 0)
                break;
            if (now_us() > deadline) {
                fprintf(stderr, "scale_bench %s: child %d did not exit within 15 s (killed)\n",
                        role, (int)ch[i].pid);
                kill(ch[i].pid, SIGKILL);
                waitpid(ch[i].pid, &st, 0);
                bad = 1;
                break;
            }
            sleep_us(10000);
        }
    }
    if (bad)
        exit(3);
}

static void *new_ctx(int io_threads, int max_sockets)
{
    void *ctx = zmq_ctx_new();
    if (!ctx)
        die("zmq_ctx_new");
    if (io_threads > 0 && zmq_ctx_set(ctx, ZMQ_IO_THREADS, io_threads) != 0)
        die("ZMQ_IO_THREADS");
    if (max_sockets > 0 && zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, max_sockets) != 0)
        die("ZMQ_MAX_SOCKETS");
    return ctx;
}

static void set_int(void *s, int opt, int v, const char *what)
{
    if (zmq_setsockopt(s, opt, &v, sizeof v) != 0)
        die(what);
}

static void close_and_term(void **socks, long n, void *ctx)
{
    for (long i = 0; i < n; i++) {
        set_int(socks[i], ZMQ_LINGER, 0, "ZMQ_LINGER");
        if (zmq_close(socks[i]) != 0)
            die("zmq_close");
    }
    if (zmq_ctx_term(ctx) != 0)
        die("zmq_ctx_term");
}

static void bind_local(void *s, char *ep, size_t size)
{
    if (zmq_bind(s, "tcp://127.0.0.1:*") != 0)
        die("bind");
    if (zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &size) != 0)
        die("ZMQ_LAST_ENDPOINT");
}

/* ---- fanout ---- */

static void fanout_sub(int in, int out, long n, long unused)
{
    (void)unused;
    role = "fanout-sub";
    char ep[256], line[64], buf[256];
    expect_line(in, ep, sizeof ep, 60000, "endpoint");
    void *ctx = new_ctx(0, (int)n + 64);
    void **socks = calloc((size_t)n, sizeof *socks);
    long *count = calloc((size_t)n, sizeof *count);
    zmq_pollitem_t *items = calloc((size_t)n + 1, sizeof *items);
    for (long i = 0; i < n; i++) {
        socks[i] = zmq_socket(ctx, ZMQ_SUB);
        if (!socks[i])
            die("zmq_socket");
        if (zmq_setsockopt(socks[i], ZMQ_SUBSCRIBE, "", 0) != 0)
            die("ZMQ_SUBSCRIBE");
        if (zmq_connect(socks[i], ep) != 0)
            die("connect");
        items[i].socket = socks[i];
        items[i].events = ZMQ_POLLIN;
    }
    items[n].fd = in;
    items[n].events = ZMQ_POLLIN;
    long total = 0, at_start = -1, have_one = 0;
    double quiet_since = now_us();
    for (;;) {
        int rc = zmq_poll(items, (int)n + 1, 1000);
        if (rc < 0 && zmq_errno() == EINTR)
            continue;
        if (rc < 0)
            die("zmq_poll");
        if (rc == 0 && now_us() - quiet_since > 60e6)
            fail("no command for 60 s");
        for (long i = 0; i < n; i++) {
            if (!(items[i].revents & ZMQ_POLLIN))
                continue;
            for (int k = 0; k < 1000; k++) {
                if (zmq_recv(socks[i], buf, sizeof buf, ZMQ_DONTWAIT) < 0) {
                    if (zmq_errno() != EAGAIN)
                        die("recv");
                    break;
                }
                if (count[i]++ == 0 && ++have_one == n)
                    say(out, "ready\n");
                total++;
            }
        }
        if (items[n].revents & ZMQ_POLLIN) {
            quiet_since = now_us();
            if (read_line(in, line, sizeof line, 1000) != 1)
                break; /* the parent has gone */
            if (strcmp(line, "start") == 0) {
                at_start = total;
            } else if (strcmp(line, "stop") == 0) {
                say(out, "%ld\n", at_start < 0 ? -1 : total - at_start);
                /* wait for the parent to close the pipe */
                while (read_line(in, line, sizeof line, 30000) == 1) {
                }
                break;
            }
        }
    }
    close_and_term(socks, n, ctx);
}

/* Sends MSG_SIZE-byte messages back to back until `until` (us); counts them in *sent. */
static void blast(void *s, const char *msg, double until, long *sent)
{
    while (now_us() < until) {
        for (int k = 0; k < 256; k++)
            if (zmq_send(s, msg, MSG_SIZE, 0) != MSG_SIZE)
                die("send");
        *sent += 256;
    }
}

static void fanout(long n, double seconds)
{
    long procs = (n + 99) / 100;
    child_t *ch = calloc((size_t)procs, sizeof *ch);
    struct pollfd *pf = calloc((size_t)procs, sizeof *pf);
    for (long p = 0; p < procs; p++)
        spawn(&ch[p], fanout_sub, n / procs + (p < n % procs), 0);
    role = "fanout-pub";
    void *ctx = new_ctx(0, 0);
    void *pub = zmq_socket(ctx, ZMQ_PUB);
    if (!pub)
        die("zmq_socket");
    char ep[256], line[64], msg[MSG_SIZE];
    bind_local(pub, ep, sizeof ep);
    memset(msg, 'm', sizeof msg);
    double t_setup = now_us();
    for (long p = 0; p < procs; p++) {
        say(ch[p].to, "%s\n", ep);
        pf[p].fd = ch[p].from;
        pf[p].events = POLLIN;
    }
    /* Warm-up: a message every millisecond until every SUB has had one. */
    long ready = 0;
    while (ready < procs) {
        if (zmq_send(pub, msg, MSG_SIZE, 0) != MSG_SIZE)
            die("send");
        if (poll(pf, (nfds_t)procs, 1) > 0)
            for (long p = 0; p < procs; p++) {
                if (!pf[p].revents)
                    continue;
                expect_line(ch[p].from, line, sizeof line, 1000, "ready");
                pf[p].fd = -1;
                ready++;
            }
        if (now_us() - t_setup > 90e6)
            fail("only %ld of %ld SUB processes had a message after 90 s", ready, procs);
    }
    double setup_ms = (now_us() - t_setup) / 1e3;
    long sent = 0;
    blast(pub, msg, now_us() + 0.5e6, &sent);
    for (long p = 0; p < procs; p++)
        say(ch[p].to, "start\n");
    double t0 = now_us(), c0 = cpu_us();
    long s0 = sent;
    blast(pub, msg, t0 + seconds * 1e6, &sent);
    for (long p = 0; p < procs; p++)
        say(ch[p].to, "stop\n");
    double t1 = now_us(), c1 = cpu_us();
    long s1 = sent;
    long delivered = 0;
    for (long p = 0; p < procs; p++) {
        expect_line(ch[p].from, line, sizeof line, 30000, "count");
        long v = atol(line);
        if (v < 0)
            fail("a SUB process missed the start of the window");
        delivered += v;
    }
    double dt = t1 - t0, ns = (double)(s1 - s0);
    printf("%.0f %.0f %.4f %.2f %.0f\n", delivered / dt * 1e6, ns / dt * 1e6, (c1 - c0) / ns,
           100.0 * delivered / (ns * (double)n), setup_ms);
    fflush(stdout);
    close_and_term(&pub, 1, ctx);
    reap(ch, procs);
}

/* ---- subscriptions ---- */

/* "p%08ld" of i (0 <= i < 10^8), 9 bytes and a NUL. */
static void prefix(char *buf, long i)
{
    buf[0] = 'p';
    for (int d = 8; d >= 1; d--, i /= 10)
        buf[d] = (char)('0' + i % 10);
    buf[9] = 0;
}

/* Receives until a message beginning with `want` (len bytes) arrives; counts the others. */
static void await_msg(void *s, const char *want, size_t len, long *others)
{
    char buf[256];
    for (;;) {
        int n = zmq_recv(s, buf, sizeof buf, 0);
        if (n < 0 && zmq_errno() == EAGAIN)
            fail("no message \"%.*s\" within 120 s", (int)len, want);
        if (n < 0)
            die("recv");
        if ((size_t)n >= len && memcmp(buf, want, len) == 0)
            return;
        if (others)
            (*others)++;
    }
}

static void subs_sub(int in, int out, long n, long unused)
{
    (void)unused;
    role = "subs-sub";
    char ep[256], line[64], p[16];
    expect_line(in, ep, sizeof ep, 60000, "endpoint");
    void *ctx = new_ctx(0, 0);
    void *sub = zmq_socket(ctx, ZMQ_SUB);
    if (!sub)
        die("zmq_socket");
    set_int(sub, ZMQ_RCVTIMEO, 120000, "ZMQ_RCVTIMEO");
    /* libzmq drops the subscriptions beyond the SUB's send HWM (1000) that the I/O thread has
     * not written yet: no limit, so that all N reach the PUB. */
    set_int(sub, ZMQ_SNDHWM, 0, "ZMQ_SNDHWM");
    if (zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "Z", 1) != 0)
        die("ZMQ_SUBSCRIBE");
    if (zmq_connect(sub, ep) != 0)
        die("connect");
    await_msg(sub, "Z", 1, NULL);
    say(out, "connected\n");

    expect_line(in, line, sizeof line, 60000, "subscribe");
    prefix(p, n - 1);
    double t0 = now_us();
    for (long i = 0; i < n; i++) {
        char q[16];
        prefix(q, i);
        if (zmq_setsockopt(sub, ZMQ_SUBSCRIBE, q, 9) != 0)
            die("ZMQ_SUBSCRIBE");
    }
    await_msg(sub, p, 9, NULL);
    say(out, "subscribed %.0f\n", now_us() - t0);

    /* Counts what arrives until "drain", then until 300 ms of silence. */
    long got = 0;
    char buf[256];
    zmq_pollitem_t items[2] = {{sub, 0, ZMQ_POLLIN, 0}, {NULL, in, ZMQ_POLLIN, 0}};
    for (;;) {
        if (zmq_poll(items, 2, 60000) < 0) {
            if (zmq_errno() == EINTR)
                continue;
            die("zmq_poll");
        }
        if (items[0].revents & ZMQ_POLLIN)
            while (zmq_recv(sub, buf, sizeof buf, ZMQ_DONTWAIT) >= 0)
                got++;
        if (items[1].revents & ZMQ_POLLIN) {
            expect_line(in, line, sizeof line, 1000, "drain");
            break;
        }
    }
    set_int(sub, ZMQ_RCVTIMEO, 300, "ZMQ_RCVTIMEO");
    while (zmq_recv(sub, buf, sizeof buf, 0) >= 0)
        got++;
    set_int(sub, ZMQ_RCVTIMEO, 120000, "ZMQ_RCVTIMEO");
    say(out, "%ld\n", got);

    expect_line(in, line, sizeof line, 60000, "unsubscribe");
    t0 = now_us();
    for (long i = 0; i < n; i++) {
        char q[16];
        prefix(q, i);
        if (zmq_setsockopt(sub, ZMQ_UNSUBSCRIBE, q, 9) != 0)
            die("ZMQ_UNSUBSCRIBE");
    }
    if (zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "Y", 1) != 0)
        die("ZMQ_SUBSCRIBE");
    await_msg(sub, "Y", 1, NULL);
    say(out, "unsubscribed %.0f\n", now_us() - t0);
    while (read_line(in, line, sizeof line, 30000) == 1) {
    }
    close_and_term(&sub, 1, ctx);
}

/* Sends `payload` every 50 us until the child reports a line (returned in line). */
static void send_until_report(void *pub, const char *payload, child_t *c, char *line, size_t size)
{
    char msg[MSG_SIZE];
    memset(msg, '.', sizeof msg);
    memcpy(msg, payload, strlen(payload));
    double deadline = now_us() + 300e6;
    for (;;) {
        if (zmq_send(pub, msg, MSG_SIZE, 0) != MSG_SIZE)
            die("send");
        int rc = read_line(c->from, line, size, 0);
        if (rc == 1)
            return;
        if (rc == 0)
            fail("the SUB process has gone");
        if (now_us() > deadline)
            fail("the SUB process did not report within 300 s");
        sleep_us(50);
    }
}

/* Sends the 4096 messages in `msgs` (MSG_SIZE bytes each) round robin for `seconds`: msg/s. */
static double send_rate(void *pub, const char *msgs, double seconds)
{
    double t0 = now_us(), until = t0 + seconds * 1e6, t;
    long sent = 0;
    do {
        for (int k = 0; k < 256; k++, sent++)
            if (zmq_send(pub, msgs + (sent & 4095) * MSG_SIZE, MSG_SIZE, 0) != MSG_SIZE)
                die("send");
        t = now_us();
    } while (t < until);
    return sent / (t - t0) * 1e6;
}

static void subs(long n, double seconds)
{
    child_t ch;
    spawn(&ch, subs_sub, n, 0);
    role = "subs-pub";
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    void *ctx = new_ctx(0, 0);
    void *pub = zmq_socket(ctx, ZMQ_PUB);
    if (!pub)
        die("zmq_socket");
    char ep[256], line[64], last[16];
    bind_local(pub, ep, sizeof ep);
    say(ch.to, "%s\n", ep);
    send_until_report(pub, "Z", &ch, line, sizeof line);
    sleep_us(100000);
    long rss0 = rss_kib();

    say(ch.to, "subscribe\n");
    prefix(last, n - 1);
    send_until_report(pub, last, &ch, line, sizeof line);
    long rss1 = rss_kib();
    double sub_us = atof(line + strlen("subscribed "));

    char *match = malloc(4096 * MSG_SIZE), *miss = malloc(4096 * MSG_SIZE);
    srand(1);
    for (int k = 0; k < 4096; k++) {
        char q[16];
        prefix(q, (long)(((double)rand() / ((double)RAND_MAX + 1)) * (double)n));
        memset(match + k * MSG_SIZE, '.', MSG_SIZE);
        memcpy(match + k * MSG_SIZE, q, 9);
        memcpy(miss + k * MSG_SIZE, match + k * MSG_SIZE, MSG_SIZE);
        miss[k * MSG_SIZE + 8] = 'x';
    }
    double match_rate = send_rate(pub, match, seconds);
    double miss_rate = send_rate(pub, miss, seconds);
    say(ch.to, "drain\n");
    expect_line(ch.from, line, sizeof line, 60000, "count");
    long got = atol(line);

    say(ch.to, "unsubscribe\n");
    send_until_report(pub, "Y", &ch, line, sizeof line);
    double unsub_us = atof(line + strlen("unsubscribed "));
    printf("%.2f %.1f %.0f %.0f %.2f %ld\n", sub_us / 1e3, (rss1 - rss0) * 1024.0 / (double)n,
           match_rate, miss_rate, unsub_us / 1e3, got);
    fflush(stdout);
    reap(&ch, 1);
    close_and_term(&pub, 1, ctx);
}

/* ---- connections ---- */

static void conns_dealers(int in, int out, long n, long io_threads)
{
    role = "conns-dealers";
    char ep[256], line[64], buf[64];
    void *ctx = new_ctx((int)io_threads, (int)n + 64);
    void **socks = calloc((size_t)n, sizeof *socks);
    for (long i = 0; i < n; i++) {
        socks[i] = zmq_socket(ctx, ZMQ_DEALER);
        if (!socks[i])
            die("zmq_socket");
        set_int(socks[i], ZMQ_RCVTIMEO, 120000, "ZMQ_RCVTIMEO");
        set_int(socks[i], ZMQ_LINGER, 0, "ZMQ_LINGER");
    }
    say(out, "up\n");
    expect_line(in, ep, sizeof ep, 60000, "endpoint");
    for (long i = 0; i < n; i++) {
        if (zmq_connect(socks[i], ep) != 0)
            die("connect");
        if (zmq_send(socks[i], "hello", 5, 0) != 5)
            die("send");
    }
    for (long i = 0; i < n; i++)
        if (zmq_recv(socks[i], buf, sizeof buf, 0) != 5)
            fail("first reply on DEALER %ld of %ld: %s", i, n, zmq_strerror(zmq_errno()));
    say(out, "connected\n");

    expect_line(in, line, sizeof line, 60000, "go");
    for (long i = 0; i < n; i++)
        if (zmq_send(socks[i], "request", 7, 0) != 7)
            die("send");
    long done = 0;
    for (;;) {
        for (long i = 0; i < n; i++) {
            if (zmq_recv(socks[i], buf, sizeof buf, 0) != 7)
                fail("reply on DEALER %ld of %ld: %s", i, n, zmq_strerror(zmq_errno()));
            if (zmq_send(socks[i], "request", 7, 0) != 7)
                die("send");
        }
        done += n;
        int rc = read_line(in, line, sizeof line, 0);
        if (rc == 0)
            fail("the ROUTER process has gone");
        if (rc == 1)
            break;
    }
    say(out, "%ld\n", done);
    while (read_line(in, line, sizeof line, 30000) == 1) {
    }
    close_and_term(socks, n, ctx);
}

typedef struct {
    void *router;
    child_t *ch;
    long procs;
    zmq_pollitem_t *items;
    long served;
    long lines; /* report lines read from the children */
} server_t;

/* Serves the ROUTER (echo) for up to timeout_ms, counting the children's report lines. */
static void serve(server_t *sv, long timeout_ms)
{
    char id[256], body[256], line[64];
    int rc = zmq_poll(sv->items, (int)sv->procs + 1, timeout_ms);
    if (rc < 0 && zmq_errno() == EINTR)
        return;
    if (rc < 0)
        die("zmq_poll");
    if (sv->items[0].revents & ZMQ_POLLIN)
        for (int k = 0; k < 10000; k++) {
            int il = zmq_recv(sv->router, id, sizeof id, ZMQ_DONTWAIT);
            if (il < 0 && zmq_errno() == EAGAIN)
                break;
            if (il < 0)
                die("recv");
            int bl = zmq_recv(sv->router, body, sizeof body, 0);
            if (bl < 0)
                die("recv");
            if (zmq_send(sv->router, id, (size_t)il, ZMQ_SNDMORE) != il ||
                zmq_send(sv->router, body, (size_t)bl, 0) != bl)
                die("send");
            sv->served++;
        }
    for (long p = 0; p < sv->procs; p++)
        if (sv->items[p + 1].revents & ZMQ_POLLIN) {
            expect_line(sv->ch[p].from, line, sizeof line, 1000, "report");
            sv->lines++;
        }
}

static void serve_until_lines(server_t *sv, long lines, double timeout_s, const char *what)
{
    double deadline = now_us() + timeout_s * 1e6;
    while (sv->lines < lines) {
        if (now_us() > deadline)
            fail("%s: %ld of %ld reports within %.0f s (%ld requests served)", what, sv->lines,
                 lines, timeout_s, sv->served);
        serve(sv, 100);
    }
}

static void conns(long n, long procs, int io_threads, double seconds)
{
    child_t *ch = calloc((size_t)procs, sizeof *ch);
    for (long p = 0; p < procs; p++)
        spawn(&ch[p], conns_dealers, n / procs + (p < n % procs), io_threads);
    role = "conns-router";
    void *ctx = new_ctx(io_threads, 0);
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    if (!router)
        die("zmq_socket");
    char ep[256];
    /* The default backlog (100) would make the connect time a matter of the kernel's SYN
     * retransmission timers (1 s, 3 s, ...) once thousands connect at once. */
    set_int(router, ZMQ_BACKLOG, BACKLOG, "ZMQ_BACKLOG");
    bind_local(router, ep, sizeof ep);
    server_t sv = {router, ch, procs, calloc((size_t)procs + 1, sizeof(zmq_pollitem_t)), 0, 0};
    sv.items[0].socket = router;
    sv.items[0].events = ZMQ_POLLIN;
    for (long p = 0; p < procs; p++) {
        sv.items[p + 1].fd = ch[p].from;
        sv.items[p + 1].events = ZMQ_POLLIN;
    }
    serve_until_lines(&sv, procs, 120, "sockets created"); /* "up" */
    sleep_us(100000);
    long rss0 = rss_kib();
    double t0 = now_us();
    for (long p = 0; p < procs; p++)
        say(ch[p].to, "%s\n", ep);
    serve_until_lines(&sv, 2 * procs, 240, "all connected");
    double connect_ms = (now_us() - t0) / 1e3;
    if (sv.served != n)
        fail("%ld first requests served, expected %ld", sv.served, n);
    sleep_us(200000);
    long rss1 = rss_kib();

    for (long p = 0; p < procs; p++)
        say(ch[p].to, "go\n");
    double t = now_us();
    while (now_us() < t + 0.5e6)
        serve(&sv, 100);
    long s0 = sv.served;
    double ta = now_us();
    while (now_us() < ta + seconds * 1e6)
        serve(&sv, 100);
    long s1 = sv.served;
    double tb = now_us();
    for (long p = 0; p < procs; p++)
        say(ch[p].to, "stop\n");
    serve_until_lines(&sv, 3 * procs, 60, "stop");
    printf("%.1f %.0f %.0f\n", connect_ms, (rss1 - rss0) * 1024.0 / (double)n,
           (s1 - s0) / (tb - ta) * 1e6);
    fflush(stdout);
    reap(ch, procs);
    close_and_term(&router, 1, ctx);
}

/* ---- sockets ---- */

static void sockets(long batches, long batch)
{
    static const int types[] = {ZMQ_PAIR,   ZMQ_PUB,    ZMQ_SUB,  ZMQ_REQ,  ZMQ_REP,  ZMQ_DEALER,
                                ZMQ_ROUTER, ZMQ_PULL,   ZMQ_PUSH, ZMQ_XPUB, ZMQ_XSUB, ZMQ_STREAM};
    const long n_types = (long)(sizeof types / sizeof types[0]);
    /* Room for a few batches that the context has not finished closing yet. */
    void *ctx = new_ctx(0, (int)(4 * batch + 64));
    void **socks = calloc((size_t)batch, sizeof *socks);
    long retries = 0;
    for (long b = 1; b <= batches; b++) {
        double t0 = now_us();
        for (long i = 0; i < batch; i++) {
            while (!(socks[i] = zmq_socket(ctx, (int)types[i % n_types]))) {
                if (zmq_errno() != EMFILE || ++retries > 100000)
                    die("zmq_socket");
                sleep_us(100);
            }
        }
        for (long i = 0; i < batch; i++)
            if (zmq_close(socks[i]) != 0)
                die("zmq_close");
        double dt = now_us() - t0;
        /* Outside the clock: closed sockets are destroyed in the background; let that catch up
         * before the next batch and the RSS reading. */
        sleep_us(SETTLE_US);
        printf("%ld %.3f %ld\n", b, dt / (double)batch, rss_kib());
    }
    if (retries)
        fprintf(stderr, "scale_bench sockets: zmq_socket said EMFILE %ld times (waited 100 us each)\n",
                retries);
    fflush(stdout);
    if (zmq_ctx_term(ctx) != 0)
        die("zmq_ctx_term");
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc == 4 && strcmp(argv[1], "fanout") == 0)
        fanout(atol(argv[2]), atof(argv[3]));
    else if (argc == 4 && strcmp(argv[1], "subs") == 0)
        subs(atol(argv[2]), atof(argv[3]));
    else if (argc == 6 && strcmp(argv[1], "conns") == 0)
        conns(atol(argv[2]), atol(argv[3]), atoi(argv[4]), atof(argv[5]));
    else if (argc == 4 && strcmp(argv[1], "sockets") == 0)
        sockets(atol(argv[2]), atol(argv[3]));
    else {
        fprintf(stderr, "usage: scale_bench fanout N SECONDS | subs N SECONDS |\n"
                        "       conns N PROCS IO_THREADS SECONDS | sockets BATCHES BATCH\n");
        return 2;
    }
    return 0;
}
