#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Why an output file could not be written: one line that names the file and the problem.
public enum OutputError: Error, Equatable, CustomStringConvertible {
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotWrite(path, reason): return "\(path): cannot write: \(reason)"
        }
    }
}

/// Bytes going to one temporary output file.
public struct FileSink {
    /// The output's final path (named in errors).
    public let path: String
    let descriptor: Int32

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    public func write(_ raw: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < raw.count {
            let n = Glibc.write(descriptor, raw.baseAddress! + done, raw.count - done)
            guard n > 0 else { throw OutputError.cannotWrite(path: path, reason: errnoDescription()) }
            done += n
        }
    }
}

/// The outputs of one run, written as one: each file goes to `PATH.tmp-PID` first, and only
/// `commit()`, once every one of them is complete, renames them into place. Dropped without
/// `commit()` (a failure anywhere), it removes every temporary file and every folder it made, so a
/// failed run leaves the previous outputs exactly as they were.
///
/// A run killed between writing and renaming leaves complete `PATH.tmp-PID` files (and, killed
/// while renaming, `PATH.old-PID`, the previous output); staging `PATH` again removes those of
/// `PATH` whose process no longer exists on this host (`removedStaleFiles` lists them).
public final class OutputFiles {
    private var staged: [(temporary: String, path: String)] = []
    private var createdFolders: [String] = []
    private var committed = false
    /// Temporary files of earlier, dead runs removed while staging.
    public private(set) var removedStaleFiles: [String] = []

    public init() {}

    deinit { if !committed { discard() } }

    /// The temporary name to write `path` under, creating its folder (and any missing parent)
    /// when needed. The file is renamed to `path` by `commit()` and removed otherwise.
    public func temporaryPath(for path: String) throws -> String {
        precondition(!committed, "outputs already committed")
        try makeFolder(Self.folder(of: path))
        removeStaleTemporaries(of: path)
        let temporary = Self.temporaryName(of: path)
        staged.append((temporary, path))
        return temporary
    }

    /// Writes `path` (under its temporary name) through `body`.
    public func write(to path: String, _ body: (FileSink) throws -> Void) throws {
        let temporary = try temporaryPath(for: path)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw OutputError.cannotWrite(path: path, reason: errnoDescription()) }
        defer { Glibc.close(fd) }
        try body(FileSink(path: path, descriptor: fd))
    }

    /// Writes `bytes` to `path` (under its temporary name).
    public func write(_ bytes: [UInt8], to path: String) throws {
        try write(to: path) { try $0.write(bytes) }
    }

    /// Flushes every staged file to disk, then renames each into place — all or none: the files
    /// they replace are kept under `PATH.old-PID` (hard links) until every rename succeeded, and a
    /// rename that fails midway puts back those already replaced (and removes new ones) before
    /// it throws.
    public func commit() throws {
        for (temporary, path) in staged {
            let fd = open(temporary, O_RDONLY)
            guard fd >= 0 else { throw OutputError.cannotWrite(path: path, reason: errnoDescription()) }
            let synced = fsync(fd) == 0
            let reason = errnoDescription()
            Glibc.close(fd)
            guard synced else { throw OutputError.cannotWrite(path: path, reason: reason) }
        }
        var kept: [String: String] = [:]    // path → its previous file's backup
        for (_, path) in staged {
            let backup = Self.backupName(of: path)
            unlink(backup)
            if link(path, backup) == 0 { kept[path] = backup }
        }
        defer { for backup in kept.values { unlink(backup) } }
        for (index, (temporary, path)) in staged.enumerated() {
            guard rename(temporary, path) == 0 else {
                let reason = errnoDescription()
                for (_, replaced) in staged[..<index] {
                    if let backup = kept.removeValue(forKey: replaced) { rename(backup, replaced) } else { unlink(replaced) }
                }
                staged.removeFirst(index)
                throw OutputError.cannotWrite(path: path, reason: reason)
            }
        }
        committed = true
    }

    /// Removes every temporary file and every folder made for them (the folders only if empty).
    public func discard() {
        for (temporary, _) in staged { unlink(temporary) }
        staged = []
        for folder in createdFolders.reversed() { rmdir(folder) }
        createdFolders = []
    }

    /// Writes one file atomically: `PATH.tmp-PID`, flushed, then renamed to `path`.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let files = OutputFiles()
        try files.write(bytes, to: path)
        try files.commit()
    }

    /// Fails early, before any work, when `path` cannot be created: its folder must be a writable
    /// folder, or with `mayCreateFolder` (a report folder) be missing from a writable folder.
    public static func checkWritable(_ path: String, mayCreateFolder: Bool = false) throws {
        var folder = folder(of: path)
        var isFolder: ObjCBool = false
        var exists = FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder)
        if !exists && mayCreateFolder {
            folder = Self.folder(of: folder)
            exists = FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder)
        }
        guard exists else { throw OutputError.cannotWrite(path: path, reason: "no such folder \(folder)") }
        guard isFolder.boolValue else {
            throw OutputError.cannotWrite(path: path, reason: "\(folder) is not a folder")
        }
        guard access(folder, W_OK) == 0 else {
            throw OutputError.cannotWrite(path: path, reason: "folder \(folder) is not writable")
        }
    }

    /// `PATH.tmp-PID`: the name every output of this process is written under first.
    public static func temporaryName(of path: String) -> String { "\(path).tmp-\(getpid())" }

    /// `PATH.old-PID`: the name the file an output replaces is kept under while `commit()` runs.
    static func backupName(of path: String) -> String { "\(path).old-\(getpid())" }

    private static func folder(of path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        return folder.isEmpty ? "." : folder
    }

    /// Makes `folder` and its missing parents, remembering each one made.
    private func makeFolder(_ folder: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
            guard isFolder.boolValue else {
                throw OutputError.cannotWrite(path: folder, reason: "exists and is not a folder")
            }
            return
        }
        try makeFolder(Self.folder(of: folder))
        guard mkdir(folder, 0o755) == 0 else {
            if errno == EEXIST { return }
            throw OutputError.cannotWrite(path: folder, reason: errnoDescription())
        }
        createdFolders.append(folder)
    }

    /// Removes `PATH.tmp-N` and `PATH.old-N` files whose process N is gone (and that are not this
    /// process's).
    private func removeStaleTemporaries(of path: String) {
        let folder = Self.folder(of: path), base = (path as NSString).lastPathComponent
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names {
            guard let prefix = [base + ".tmp-", base + ".old-"].first(where: { name.hasPrefix($0) }),
                  let pid = Int32(name.dropFirst(prefix.count)), pid > 0, pid != getpid() else { continue }
            guard kill(pid, 0) != 0, errno == ESRCH else { continue }
            let stale = folder + "/" + name
            if unlink(stale) == 0 { removedStaleFiles.append(stale) }
        }
    }
}

/// What a path on the command line names: the file (device and inode) when it exists, else the
/// absolute path it would be created at (symbolic links in its folder resolved).
public enum FileIdentity: Equatable, Sendable {
    case existing(device: UInt64, inode: UInt64)
    case planned(String)

    public init(path: String) {
        var info = stat()
        if stat(path, &info) == 0 {
            self = .existing(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            return
        }
        let folder = (path as NSString).deletingLastPathComponent
        let resolved = realpath(folder.isEmpty ? "." : folder, nil)
        defer { free(resolved) }
        let base = resolved.map { String(cString: $0) } ?? folder
        self = .planned(base + "/" + (path as NSString).lastPathComponent)
    }
}

/// A path given on the command line with the option that gave it ("--out", "out.mrc").
public struct NamedPath: Sendable {
    public let option: String
    public let path: String

    public init(_ option: String, _ path: String) {
        self.option = option
        self.path = path
    }

    /// The first output that names the same file as an input or as an earlier output, as one line
    /// ("--timings-json em.mrc is the same file as --em em.mrc"); nil when all are distinct.
    public static func firstCollision(outputs: [NamedPath], inputs: [NamedPath]) -> String? {
        let inputIdentities = inputs.map { FileIdentity(path: $0.path) }
        var earlier: [(NamedPath, FileIdentity)] = []
        for output in outputs {
            let identity = FileIdentity(path: output.path)
            if let index = inputIdentities.firstIndex(of: identity) {
                let input = inputs[index]
                return "\(output.option) \(output.path) is the same file as \(input.option) \(input.path): "
                    + "refusing to overwrite an input"
            }
            if let (other, _) = earlier.first(where: { $0.1 == identity }) {
                return "\(output.option) \(output.path) is the same file as \(other.option) \(other.path)"
            }
            earlier.append((output, identity))
        }
        return nil
    }
}
