import Foundation
import Testing
import LocScaleCore

/// Numerical policy (DESIGN §1.5) through the binary: the output does not depend on the
/// experimental map's scale and follows the model map's; hostile magnitudes are refused or
/// computed without overflow; nothing non-finite is written.
@Suite("numerics: scale invariance and finite outputs", .serialized)
struct NumericsCLITests {
    /// The shipped fixture's maps, and the mask path (window 8 throughout).
    static func fixture(_ name: String) throws -> Volume { try MRCFile.read(path: CLITests.fixtures + "/" + name).volume }

    /// `volume` with every value multiplied by `factor` (in double, then rounded to float).
    static func scaled(_ volume: Volume, by factor: Double) -> Volume {
        Volume(grid: volume.grid, values: volume.values.map { Float(Double($0) * factor) })
    }

    /// Runs `scale` with window 8 and the fixture mask on two maps written to `scratch`; the output.
    /// Estimated plans: measured ones may differ from run to run in the last bits.
    static func scale(em: Volume, model: Volume, _ extra: [String], scratch: Scratch) throws -> (CLITests.Result, [Float]) {
        let (e, m, out) = (scratch.file("em.mrc"), scratch.file("model.mrc"), scratch.file("out.mrc"))
        try MRCFile.write(em, to: e, labels: ["test"])
        try MRCFile.write(model, to: m, labels: ["test"])
        try? FileManager.default.removeItem(atPath: out)
        let result = try CLITests.run(["scale", "--em", e, "--model-map", m, "--mask", "mask.mrc", "--window", "8",
                                       "--threads", "1", "--fft-planning", "estimate", "--out", out, "--quiet"] + extra)
        let values = result.status == 0 ? try MRCFile.read(path: out).volume.values : []
        return (result, values)
    }

    /// `max |a − b·factor| / max |b·factor|`.
    static func maximumError(_ a: [Float], _ b: [Float], factor: Double = 1) -> Double {
        var difference = 0.0, largest = 0.0
        for (x, y) in zip(a, b) {
            difference = max(difference, abs(Double(x) - Double(y) * factor))
            largest = max(largest, abs(Double(y) * factor))
        }
        return difference / largest
    }

    static let rules: [[String]] = [["--pad-factor", "2"], ["--compat", "locscale2"], ["--method", "fast"]]

    @Test("the output does not depend on the experimental map's scale, 1e-30 … 1e30", arguments: rules)
    func experimentalScale(rule: [String]) throws {
        let scratch = Scratch()
        let em = try Self.fixture("em.mrc"), model = try Self.fixture("model.mrc")
        let (first, reference) = try Self.scale(em: em, model: model, rule, scratch: scratch)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(reference.contains { $0 != 0 })
        // Before the maps were normalised: 1e-6 → 29 % (exact), 1e-4 → 0.35 %, 1e-25 → all zero,
        // 1e30 → NaN. Measured after (exact): at most 7e-7.
        for factor in [1e-30, 1e-25, 1e-6, 1e-4, 0x1p-7, 3, 1e4, 1e30] {
            let (result, values) = try Self.scale(em: Self.scaled(em, by: factor), model: model, rule, scratch: scratch)
            #expect(result.status == 0, "em × \(factor): \(result.stderr)")
            let error = Self.maximumError(values, reference)
            #expect(error <= 1e-5, "em × \(factor): \(error) of the map's maximum")
        }
        // A power of two is undone exactly: both sides are computed from the same bits.
        let (_, up) = try Self.scale(em: Self.scaled(em, by: 0x1p40), model: model, rule, scratch: scratch)
        let (_, down) = try Self.scale(em: Self.scaled(em, by: 0x1p-40), model: model, rule, scratch: scratch)
        let same = up == down
        #expect(same)
        // Subnormal values (~1e-40, 13 bits) still give the map, as far as they hold it.
        let (result, subnormal) = try Self.scale(em: Self.scaled(em, by: 0x1p-130), model: model, rule, scratch: scratch)
        #expect(result.status == 0, "\(result.stderr)")
        let error = Self.maximumError(subnormal, reference)
        #expect(error <= 1e-3, "subnormal map: \(error) of the map's maximum")
    }

    @Test("the output scales with the model map, 1e-30 … 1e30", arguments: rules)
    func modelScale(rule: [String]) throws {
        let scratch = Scratch()
        let em = try Self.fixture("em.mrc"), model = try Self.fixture("model.mrc")
        let (_, reference) = try Self.scale(em: em, model: model, rule, scratch: scratch)
        // Before: model × 1e6 → 30 %, × 1e30 → NaN everywhere.
        for factor in [1e-30, 1e-6, 1e6, 1e30] {
            let (result, values) = try Self.scale(em: em, model: Self.scaled(model, by: factor), rule, scratch: scratch)
            #expect(result.status == 0, "model × \(factor): \(result.stderr)")
            #expect(values.allSatisfy { $0.isFinite })
            let error = Self.maximumError(values, reference, factor: factor)
            #expect(error <= 1e-5, "model × \(factor): \(error) of the map's maximum")
        }
        let (_, up) = try Self.scale(em: em, model: Self.scaled(model, by: 0x1p30), rule, scratch: scratch)
        let exact = up == reference.map { $0 * 0x1p30 }
        #expect(exact)
    }

    @Test("a model value that would overflow the output is refused with the file and the voxel")
    func modelTooLarge() throws {
        let scratch = Scratch()
        let em = try Self.fixture("em.mrc")
        var model = try Self.fixture("model.mrc")
        let shape = model.grid.shape
        model.values[(5 * shape.y + 4) * shape.x + 3] = 3e38
        for rule in Self.rules {
            let (result, _) = try Self.scale(em: em, model: model, rule, scratch: scratch)
            #expect(result.status == 1)
            #expect(result.stderr.contains("localscale: error: \(scratch.file("model.mrc")): value too large at voxel "
                + "(x, y, z) = (3, 4, 5): the scaled map could overflow float32 (found 3e+38, expected |value| below "
                + "1.5038497e+37 for --window 8)"), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: scratch.file("out.mrc")))
        }
    }
}
