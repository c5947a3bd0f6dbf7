import Foundation
import Synchronization

/// Threads kept for the parallel regions of a process (issue 12): `run(count, body)` runs
/// `body(0..<count)` on pool threads — started on first use with 8 MB stacks and reused by every
/// later region — while the caller waits. Fast mode runs hundreds of short regions per map
/// (several per shell), each of which used to start and join fresh threads.
///
/// One region at a time: a call made while the pool is busy — from another thread (tests run
/// concurrently), or from inside a region — runs on fresh threads as before, so callers never
/// wait for each other and nesting cannot deadlock. Which thread runs `body(i)` never changes
/// what `body(i)` computes, so results are the same bits as with fresh threads.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    private let busy = Atomic<Bool>(false)
    /// Only touched by the caller that set `busy`.
    private var workers: [Worker] = []

    func run(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            Self.runOnFreshThreads(count, body)
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        while workers.count < count { workers.append(Worker()) }
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            workers[index].start {
                body(index)
                group.leave()
            }
        }
        group.wait()
    }

    /// Runs `body(i)` for `i` in `0..<count`, each on a thread of its own, and waits.
    static func runOnFreshThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            let thread = Thread {
                body(index)
                group.leave()
            }
            thread.stackSize = Worker.stackSize
            thread.start()
        }
        group.wait()
    }
}

/// One pool thread: waits for a job, runs it, waits again (for the life of the process).
private final class Worker: @unchecked Sendable {
    static let stackSize = 8 << 20
    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var job: (() -> Void)?

    init() {
        let thread = Thread { [self] in loop() }
        thread.stackSize = Self.stackSize
        thread.start()
    }

    /// Hands `job` to the thread; the thread must be idle.
    func start(_ job: @escaping () -> Void) {
        condition.lock()
        self.job = job
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while job == nil { condition.wait() }
            let work = job!
            job = nil
            condition.unlock()
            work()
        }
    }
}
