#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One mutex with a condition variable per thing the writer's threads wait for, so an append wakes one worker
/// without waking everybody (two cores: every needless wakeup is felt).
final class WriterMonitor {
    /// What a thread waits for.
    enum Condition: Int, CaseIterable {
        /// Records to write, the flush timer, or the end of the last sync while closing.
        case writable
        /// The threads are done (close waits for it).
        case finished
    }

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let conditions = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: Condition.allCases.count)

    init() {
        pthread_mutex_init(mutex, nil)
        for index in Condition.allCases.indices { pthread_cond_init(conditions + index, nil) }
    }

    deinit {
        for index in Condition.allCases.indices { pthread_cond_destroy(conditions + index) }
        pthread_mutex_destroy(mutex)
        conditions.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
    func signal(_ condition: Condition) { pthread_cond_signal(conditions + condition.rawValue) }
    func broadcast(_ condition: Condition) { pthread_cond_broadcast(conditions + condition.rawValue) }

    /// Waits (lock held) until signalled; callers re-check their predicate.
    func wait(_ condition: Condition) { pthread_cond_wait(conditions + condition.rawValue, mutex) }

    /// Waits (lock held) until signalled or `seconds` passed; callers re-check their predicate and the clock.
    func wait(_ condition: Condition, seconds: Double) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let nanos = Int(now.tv_nsec) + Int(max(0, seconds) * 1e9)
        var deadline = timespec()
        deadline.tv_sec = now.tv_sec + nanos / 1_000_000_000
        deadline.tv_nsec = nanos % 1_000_000_000
        _ = pthread_cond_timedwait(conditions + condition.rawValue, mutex, &deadline)
    }

    /// Seconds on a clock that never jumps (for the flush timer).
    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
