/* Child processes for the C tests whose peers run in other processes. */
#ifndef ZMQ_RS_SPAWN_H
#define ZMQ_RS_SPAWN_H

#include <stdio.h>
#include <unistd.h>

/* Starts this test's own executable again as a child, with `argv` (argv[0] first, NULL last;
 * the child's main finds its role in argv[1]); returns the child's pid. A child that only
 * forked from a process whose threads run (a context's I/O threads) may call nothing but
 * async-signal-safe functions until it execs (POSIX): a lock another thread held at the fork
 * stays locked in it forever, as the sanitizers' allocators show. An exec starts it clean. */
static inline pid_t spawn_self(char *const argv[]) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    return pid;
}

#endif
