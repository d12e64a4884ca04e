//! The calling thread's CPU clock.

use std::time::Duration;

/// The CPU time the calling thread has used so far (`CLOCK_THREAD_CPUTIME_ID`: user and
/// system time, this thread only). A system call, not a vDSO read: about a microsecond.
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes one live timespec; the clock id is valid on every Linux, so the call
    // cannot fail (were it to, the zero time would make one sample of the watch policy wrong,
    // and a sample counts for 1/16 and at most 100 µs).
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thread_clock_counts_work_and_not_sleep() {
        let t0 = thread_cpu_time();
        std::thread::sleep(Duration::from_millis(20));
        let slept = thread_cpu_time() - t0;
        assert!(slept < Duration::from_millis(10), "sleeping used {slept:?}");
        // Work moves it: spin until 2 ms of CPU are used (however long a loaded machine
        // takes to give them), within a generous bound.
        let t1 = thread_cpu_time();
        let start = std::time::Instant::now();
        while thread_cpu_time() - t1 < Duration::from_millis(2) {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the clock does not move"
            );
            std::hint::spin_loop();
        }
    }
}
