#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The text of the C library's message for `errno`.
func errnoDescription(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}

/// A file opened read-only, with its size. Reads past the end leave zeros.
struct OpenFile {
    let path: String
    let descriptor: Int32
    let size: Int

    init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw MRCError.cannotOpen(path: path, reason: errnoDescription()) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = errnoDescription()
            Glibc.close(fd)
            throw MRCError.cannotOpen(path: path, reason: reason)
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            Glibc.close(fd)
            throw MRCError.cannotOpen(path: path, reason: "is a directory")
        }
        self.path = path
        self.descriptor = fd
        self.size = Int(info.st_size)
    }

    /// Up to `count` bytes from `offset` (fewer at the end of the file).
    func read(count: Int, at offset: Int) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let got = read(into: &buffer, at: offset)
        return Array(buffer.prefix(got))
    }

    /// Fills `buffer` from `offset`; returns the number of bytes read.
    @discardableResult
    func read(into buffer: inout [UInt8], at offset: Int) -> Int {
        buffer.withUnsafeMutableBytes { raw in
            var done = 0
            while done < raw.count {
                let n = pread(descriptor, raw.baseAddress! + done, raw.count - done, off_t(offset + done))
                if n <= 0 { break }
                done += n
            }
            return done
        }
    }

    func close() { _ = Glibc.close(descriptor) }
}

/// Writes a file under a temporary name and renames it into place when complete.
enum AtomicFile {
    /// Something to write bytes to.
    struct Sink {
        let path: String
        let descriptor: Int32

        func write(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try write($0) }
        }

        func write(_ raw: UnsafeRawBufferPointer) throws {
            var done = 0
            while done < raw.count {
                let n = Glibc.write(descriptor, raw.baseAddress! + done, raw.count - done)
                guard n > 0 else { throw MRCError.writeFailed(path: path, reason: errnoDescription()) }
                done += n
            }
        }
    }

    /// Calls `body` with a sink on `PATH.tmp-PID`, then renames it to `path`; on any error the
    /// temporary file is removed and `path` is left as it was.
    static func write(to path: String, _ body: (Sink) throws -> Void) throws {
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw MRCError.writeFailed(path: path, reason: errnoDescription()) }
        do {
            try body(Sink(path: path, descriptor: fd))
            guard fsync(fd) == 0, Glibc.close(fd) == 0 else {
                throw MRCError.writeFailed(path: path, reason: errnoDescription())
            }
        } catch {
            Glibc.close(fd)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let reason = errnoDescription()
            unlink(temporary)
            throw MRCError.writeFailed(path: path, reason: reason)
        }
    }
}
