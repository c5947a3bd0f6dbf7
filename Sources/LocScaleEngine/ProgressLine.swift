import Foundation
import LocScaleCore

/// A progress line on stderr — percent, voxels/s, ETA — redrawn in place on a terminal, or
/// printed every 10 s otherwise; a last line at 100 %.
final class ProgressLine: @unchecked Sendable {
    private let progress: ScalingProgress
    private let terminal = isatty(STDERR_FILENO) == 1
    private let stop = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    private let start0 = Date()

    init(progress: ScalingProgress) { self.progress = progress }

    func start() {
        let thread = Thread { [self] in
            let interval = terminal ? 0.5 : 10.0
            while stop.wait(timeout: .now() + interval) == .timedOut {
                write(line(), final: false)
            }
            stopped.signal()
        }
        thread.start()
    }

    func finish() {
        stop.signal()
        stopped.wait()
        write(line(), final: true)
    }

    private func line() -> String {
        let done = progress.completed, total = max(progress.total, 1)
        let elapsed = Date().timeIntervalSince(start0)
        let rate = Double(done) / max(elapsed, 1e-9)
        let remaining = rate > 0 ? Double(total - done) / rate : 0
        let percent = formatDecimal(100 * Double(done) / Double(total), digits: 1)
        return "scaling: \(percent) % (\(done)/\(progress.total) voxels), \(Int(rate)) voxels/s, ETA \(clockTime(remaining))"
    }

    private func write(_ text: String, final: Bool) {
        let end = final ? "\n" : (terminal ? "" : "\n")
        let start = terminal ? "\r\u{1B}[K" : ""
        FileHandle.standardError.write(Data((start + text + end).utf8))
    }

    private func clockTime(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
    }
}
