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
