//! Exports that need no context: z85, CURVE key helpers, atomic counters, stopwatch, sleep,
//! threads, and the `zmq_timers_*` API.
