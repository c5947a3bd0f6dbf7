import Foundation

/// A fresh temporary folder, removed with its contents when the value goes away.
public final class ScratchFolder: Sendable {
    public let path = NSTemporaryDirectory() + "localscale-test-" + UUID().uuidString

    public init() { try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// The path of `name` inside the folder.
    public func file(_ name: String) -> String { path + "/" + name }
}
