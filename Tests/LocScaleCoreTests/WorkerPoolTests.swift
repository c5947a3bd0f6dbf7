import Foundation
import Testing
@testable import LocScaleCore

/// The process's `WorkerPool`: every index of a region runs exactly once, also when regions nest
/// or come from several threads at once (then the pool falls back to fresh threads).
@Suite("Worker pool")
struct WorkerPoolTests {
    /// How often each index of a region ran.
    private final class Counts: @unchecked Sendable {
        private let lock = NSLock()
        private var runs: [Int]
        init(_ count: Int) { runs = [Int](repeating: 0, count: count) }
        func add(_ i: Int) { lock.withLock { runs[i] += 1 } }
        var values: [Int] { lock.withLock { runs } }
    }

    /// Runs a region of `count` (each index running a region of `inner` when > 0) and returns
    /// how often each index ran.
    private static func runCounts(_ count: Int, inner: Int = 0) -> [Int] {
        let counts = Counts(count)
        LocalScaling.runOnThreads(count) { i in
            if inner > 0 { #expect(runCounts(inner) == [Int](repeating: 1, count: inner)) }
            counts.add(i)
        }
        return counts.values
    }

    @Test("each index of successive regions runs once")
    func successiveRegions() {
        for count in [2, 3, 5, 2, 4] {
            #expect(Self.runCounts(count) == [Int](repeating: 1, count: count))
        }
    }

    @Test("a region inside a region completes (fresh threads inside)")
    func nestedRegions() {
        #expect(Self.runCounts(3, inner: 2) == [1, 1, 1])
    }

    @Test("regions started from several threads at once all complete")
    func concurrentCallers() async {
        let results = await withTaskGroup(of: [Int].self) { group in
            for _ in 0..<6 { group.addTask { Self.runCounts(3) } }
            return await group.reduce(into: [[Int]]()) { $0.append($1) }
        }
        #expect(results == [[Int]](repeating: [1, 1, 1], count: 6))
    }
}
