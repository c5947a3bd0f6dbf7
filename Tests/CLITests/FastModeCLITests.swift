import Foundation
import Testing
import TestSupport
import LocScaleCore
import LocScaleHDF5

/// `localscale scale --method fast` against exact mode (our own, validated against the oracle),
/// across rank counts, and its usage errors.
@Suite("--method fast", .serialized)
struct FastModeCLITests {
    /// A structured synthetic case on a non-cubic box with an origin and nstart: Gaussian atoms
    /// in an ellipsoid; the model map blurs them a little, the experimental map more towards the
    /// surface (local resolution falls outwards) and adds noise; a soft ellipsoidal mask.
    static func writeSyntheticCase(to scratch: Scratch) throws {
        let shape = XYZ(58, 50, 64)
        let grid = Grid(shape: shape, voxelSize: XYZ(1.2, 1.2, 1.2), origin: XYZ(-10.8, 24, 6),
                        start: XYZ(2, -3, 1))
        var generator = SplitMix64(seed: 2017)
        let centre = (0..<3).map { Double(shape[$0]) / 2 }, radii = [20.0, 17.0, 23.0]
        func scaledRadius(_ p: [Double]) -> Double {
            var sum = 0.0
            for axis in 0..<3 {
                let t: Double = (p[axis] - centre[axis]) / radii[axis]
                sum += t * t
            }
            return sum.squareRoot()
        }
        var atoms: [[Double]] = []
        while atoms.count < 1800 {
            let p = (0..<3).map { axis in Double.random(in: 0..<Double(shape[axis]), using: &generator) }
            if scaledRadius(p) < 0.85 { atoms.append(p) }
        }
        var model = [Float](repeating: 0, count: shape.x * shape.y * shape.z), experimental = model
        for atom in atoms {
            let sigmaE = 1.1 + 1.4 * scaledRadius(atom) * scaledRadius(atom), sigmaM = 0.9
            let reach = Int((3 * sigmaE).rounded(.up))
            let c = atom.map { Int($0.rounded()) }
            for z in max(0, c[2] - reach) ... min(shape.z - 1, c[2] + reach) {
                for y in max(0, c[1] - reach) ... min(shape.y - 1, c[1] + reach) {
                    for x in max(0, c[0] - reach) ... min(shape.x - 1, c[0] + reach) {
                        let (dx, dy, dz) = (Double(x) - atom[0], Double(y) - atom[1], Double(z) - atom[2])
                        let d2: Double = dx * dx + dy * dy + dz * dz
                        let i = (z * shape.y + y) * shape.x + x
                        model[i] += Float(exp(-d2 / (2 * sigmaM * sigmaM)))
                        experimental[i] += Float(pow(sigmaM / sigmaE, 3) * exp(-d2 / (2 * sigmaE * sigmaE)))
                    }
                }
            }
        }
        let noise = 0.3 * (experimental.map { Double($0 * $0) }.reduce(0, +) / Double(experimental.count)).squareRoot()
        for i in experimental.indices { experimental[i] += Float(noise * Double.random(in: -1.7...1.7, using: &generator)) }
        var mask = model
        for i in mask.indices {
            let p = [Double(i % shape.x), Double((i / shape.x) % shape.y), Double(i / (shape.x * shape.y))]
            let r = scaledRadius(p)
            mask[i] = Float(r < 0.95 ? 1 : (r < 1.1 ? 0.5 + 0.5 * cos(Double.pi * (r - 0.95) / 0.15) : 0))
        }
        try MRCFile.write(Volume(grid: grid, values: experimental), to: scratch.file("em.mrc"), labels: ["synthetic"])
        try MRCFile.write(Volume(grid: grid, values: model), to: scratch.file("model.mrc"), labels: ["synthetic"])
        try MRCFile.write(Volume(grid: grid, values: mask), to: scratch.file("mask.mrc"), labels: ["synthetic"])
    }

    /// Correlation and relative RMS of `a` against `b` over the voxels with mask ≥ 0.5.
    static func agreement(_ a: [Float], _ b: [Float], mask: [Float]) -> (correlation: Double, relativeRMS: Double) {
        let indices = mask.indices.filter { mask[$0] >= 0.5 }
        let x = indices.map { Double(a[$0]) }, y = indices.map { Double(b[$0]) }
        let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
        var sxy = 0.0, sxx = 0.0, syy = 0.0, difference = 0.0, reference = 0.0
        for n in x.indices {
            sxy += (x[n] - mx) * (y[n] - my)
            sxx += (x[n] - mx) * (x[n] - mx)
            syy += (y[n] - my) * (y[n] - my)
            difference += (x[n] - y[n]) * (x[n] - y[n])
            reference += y[n] * y[n]
        }
        return (sxy / (sxx * syy).squareRoot(), (difference / reference).squareRoot())
    }

    /// Runs exact and fast mode on the same inputs in `directory` and compares them in the mask.
    static func fastAgainstExact(in directory: String, maps: [String], extra: [String], scratch: Scratch) throws
        -> (correlation: Double, relativeRMS: Double, fastGrid: Grid, exactGrid: Grid) {
        var outputs: [Volume] = []
        for method in ["exact", "fast"] {
            let out = scratch.file("\(method).mrc")
            let result = try CLITests.launch(CLITests.binary, ["scale", "--em", maps[0], "--model-map", maps[1],
                                                               "--mask", maps[2], "--method", method, "--out", out] + extra,
                                             in: directory, limit: 600)
            #expect(result.status == 0, "\(method): \(result.stderr)")
            outputs.append(try MRCFile.read(path: out).volume)
        }
        let mask = try MRCFile.read(path: directory + "/" + maps[2]).volume.values
        let (correlation, rms) = agreement(outputs[1].values, outputs[0].values, mask: mask)
        return (correlation, rms, outputs[1].grid, outputs[0].grid)
    }

    @Test("fast mode estimates exact mode on a non-cubic synthetic map with an origin", arguments: ["1", "2"])
    func syntheticAgainstExact(padFactor: String) throws {
        let scratch = Scratch()
        try Self.writeSyntheticCase(to: scratch)
        let r = try Self.fastAgainstExact(in: scratch.path, maps: ["em.mrc", "model.mrc", "mask.mrc"],
                                          extra: ["--pad-factor", padFactor], scratch: scratch)
        // The default window, 22 voxels (26 Å). Measured: pad 1 0.99863 / 0.035, pad 2 0.99867 / 0.035.
        #expect(r.correlation >= 0.995, "correlation \(r.correlation)")
        #expect(r.relativeRMS <= 0.08, "relative RMS \(r.relativeRMS)")
        #expect(r.fastGrid == r.exactGrid)
    }

    @Test("fast mode estimates exact mode on EMD-3488 + 5ME2",
          .enabled(if: ProcessInfo.processInfo.environment["LOCALSCALE_TESTDATA"] != nil), arguments: ["1", "2"])
    func emd3488AgainstExact(padFactor: String) throws {
        let scratch = Scratch()
        let r = try Self.fastAgainstExact(in: RealDataTests.data, maps: ["emd_3488.mrc", "emd3488_model.mrc", "emd3488_mask.mrc"],
                                          extra: ["--pad-factor", padFactor], scratch: scratch)
        // Measured: pad 1 0.99928 / 0.035.
        #expect(r.correlation >= 0.995, "correlation \(r.correlation)")
        #expect(r.relativeRMS <= 0.08, "relative RMS \(r.relativeRMS)")
    }

    @Test("mpirun with 1, 2, 3 and 5 ranks gives the 1-rank map bit for bit, and /timing has a row per rank")
    func ranks() throws {
        let scratch = Scratch()
        var reference: [Float]?
        // Measured plans, kept in one wisdom file: rank 0 makes them, every rank runs them.
        let wisdom = scratch.file("wisdom")
        for n in [1, 2, 3, 5, 3] {
            let out = scratch.file("np\(n).mrc"), h5 = scratch.file("np\(n).h5")
            let result = try MPITests.mpirun(n, ["scale", "--em", "em.mrc", "--model-map", "model.mrc", "--mask", "mask.mrc",
                                                 "--window", "8", "--method", "fast", "--threads", "2",
                                                 "--fft-planning", "measure", "--fftw-wisdom", wisdom,
                                                 "--out", out, "--hdf5", h5])
            #expect(result.status == 0, "np \(n): \(result.stderr)")
            #expect(result.stderr.contains("fast method on a"))
            let values = try MRCFile.read(path: out).volume.values
            if let reference {
                // Before the grid transform ran plane by plane and column by column: up to 3e-8 apart.
                let same = values == reference
                #expect(same, "np \(n): relative RMS \(relativeRMS(values, reference)) against np 1")
            } else {
                reference = values
            }
            let file = try HDF5Reader(path: h5)
            let voxels = try file.integers("/timing/voxels")
            #expect(voxels.count == n)
            #expect(voxels.reduce(0, +) == 2474)
            #expect(try file.floats("/map") == values)
        }
    }

    @Test("usage errors of --method and --fast-exact-shells")
    func usage() throws {
        let base = ["scale", "--em", "em.mrc", "--model-map", "model.mrc", "--out", "/tmp/x.mrc"]
        let compat = try CLITests.run(base + ["--method", "fast", "--compat", "locscale2"])
        #expect(compat.status == 2)
        #expect(compat.stderr.contains("Error: --method fast estimates exact mode; it cannot follow --compat locscale2"))
        let shells = try CLITests.run(base + ["--fast-exact-shells", "2"])
        #expect(shells.status == 2)
        #expect(shells.stderr.contains("Error: --fast-exact-shells needs --method fast"))
        let negative = try CLITests.run(base + ["--method", "fast", "--fast-exact-shells=-2"])
        #expect(negative.status == 2)
        #expect(negative.stderr.contains("Error: --fast-exact-shells -2: must be -1 (none) or a shell number >= 0"))
    }
}
