#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The text of the C library's message for `errno`.
public func errnoDescription(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}

/// A regular file opened read-only, with its size. Reads past the end leave zeros.
struct OpenFile {
    let path: String
    let descriptor: Int32
    let size: Int

    /// Opens `path` without blocking (a FIFO or device would otherwise wait for a writer) and
    /// refuses anything but a regular file.
    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw MRCError.cannotOpen(path: path, reason: errnoDescription()) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = errnoDescription()
            Glibc.close(fd)
            throw MRCError.cannotOpen(path: path, reason: reason)
        }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG else {
            Glibc.close(fd)
            let reason = kind == S_IFDIR ? "is a directory" : "not a regular file (\(fileKind(kind)))"
            throw MRCError.cannotOpen(path: path, reason: reason)
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
        buffer.withUnsafeMutableBytes { read(into: $0, at: offset) }
    }

    /// Fills `raw` from `offset`; returns the number of bytes read.
    func read(into raw: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        var done = 0
        while done < raw.count {
            let n = pread(descriptor, raw.baseAddress! + done, raw.count - done, off_t(offset + done))
            if n <= 0 { break }
            done += n
        }
        return done
    }

    func close() { _ = Glibc.close(descriptor) }
}

/// Asks the kernel to back the pages of `raw` with transparent huge pages, so that filling a
/// large new buffer takes far fewer page faults (a cached 400³ map reads in about half the time
/// here, THP mode "madvise"). Only a hint: ignored where unsupported.
func adviseHugePages(_ raw: UnsafeMutableRawBufferPointer) {
    #if os(Linux)
    guard let base = raw.baseAddress else { return }
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let start = (Int(bitPattern: base) + page - 1) / page * page
    let end = (Int(bitPattern: base) + raw.count) / page * page
    if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_HUGEPAGE) }
    #endif
}

/// A name for a file type of `stat`'s `st_mode & S_IFMT`.
private func fileKind(_ kind: mode_t) -> String {
    switch kind {
    case S_IFIFO: return "a FIFO"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    case S_IFSOCK: return "a socket"
    default: return "type \(String(kind, radix: 8))"
    }
}

/// Bytes of physical memory on this machine (`_SC_PHYS_PAGES × _SC_PAGESIZE`), or `Int.max`
/// when the system does not say.
public func physicalMemoryBytes() -> Int {
    let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
    guard pages > 0, pageSize > 0 else { return Int.max }
    let (bytes, overflow) = pages.multipliedReportingOverflow(by: pageSize)
    return overflow ? Int.max : bytes
}
