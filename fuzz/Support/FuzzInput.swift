import Foundation

/// The file each fuzz input is written to: one per process, in /dev/shm (memory) when present.
public enum FuzzInput {
    nonisolated(unsafe) private static var directory: String?

    /// Writes `size` bytes at `data` to this process's input file ending in `suffix`; its path.
    public static func write(_ data: UnsafePointer<UInt8>, _ size: Int, suffix: String) -> String {
        if directory == nil {
            let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
            directory = base + "/localscale-fuzz-\(getpid())"
            try? FileManager.default.createDirectory(atPath: directory!, withIntermediateDirectories: true)
        }
        let path = directory! + "/input" + suffix
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot write \(path)")
        var written = 0
        while written < size {
            let n = Foundation.write(fd, data + written, size - written)
            precondition(n > 0, "cannot write \(path)")
            written += n
        }
        close(fd)
        return path
    }
}

/// libFuzzer's driver (linked in by `-sanitize=fuzzer`).
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

/// Runs libFuzzer on `target` with the command line `argc`/`argv`. SwiftPM links an executable
/// target's entry point as `MODULE_main` (and makes `main` an alias of it), so each target
/// defines that symbol and calls this instead of relying on libFuzzer's own `main`.
public func runLibFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                         _ target: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&count, &arguments, target)
}
