import Foundation
@testable import LocScaleCore

/// Paths of the committed oracle fixtures (Tests/Fixtures/data, made by make_fixtures.py).
enum Fixtures {
    static let directory: String = {
        let here = URL(fileURLWithPath: #filePath)
        return here.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/data").path
    }()

    static func path(_ name: String) -> String { directory + "/" + name }

    /// One scaling case of `cases.json`: inputs, rule and the oracle's output.
    struct ScalingCase: Decodable, CustomStringConvertible, Sendable {
        let expected: String
        let em: String
        let model: String
        let mask: String?
        let mode: String
        let window: Int
        let padFactor: Double?
        let padded_size: Int
        let n_scaled: Int

        private enum CodingKeys: String, CodingKey {
            case expected, em, model, mask, mode, window, pad_factor, padded_size, n_scaled
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            expected = try c.decode(String.self, forKey: .expected)
            em = try c.decode(String.self, forKey: .em)
            model = try c.decode(String.self, forKey: .model)
            mask = try c.decodeIfPresent(String.self, forKey: .mask)
            mode = try c.decode(String.self, forKey: .mode)
            window = try c.decode(Int.self, forKey: .window)
            // "compat" in place of a number for the locscale2 cases.
            padFactor = try? c.decode(Double.self, forKey: .pad_factor)
            padded_size = try c.decode(Int.self, forKey: .padded_size)
            n_scaled = try c.decode(Int.self, forKey: .n_scaled)
        }

        var rule: ScalingRule { mode == "compat" ? .locscale2 : .exact(padFactor: padFactor!) }
        var description: String { expected }
    }

    private struct Cases: Decodable { let scaling: [ScalingCase] }

    /// The scaling cases of `cases.json`.
    static func scalingCases() -> [ScalingCase] {
        let data = try! Data(contentsOf: URL(fileURLWithPath: path("cases.json")))
        return try! JSONDecoder().decode(Cases.self, from: data).scaling
    }

    static func read(_ name: String) throws -> NamedVolume {
        NamedVolume(path: name, volume: try MRCFile.read(path: path(name)).volume)
    }
}

/// A scratch directory removed at the end of the test that made it.
final class ScratchDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "localscale-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }
}
