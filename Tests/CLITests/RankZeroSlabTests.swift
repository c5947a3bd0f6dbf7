import Foundation
import Testing
import LocScaleCore
import LocScaleHDF5

/// Exact mode hands rank 0 the slab that holds the fewest planes (`ExactSlabPlan`, issue 12): with
/// mask.mrc and window 8 the slabs are 0..<12 | 12..<20 at 2 ranks (rank 0 takes 12..<20) and
/// 0..<9 | 9..<14 | 14..<20 at 3 (rank 0 takes 14..<20), so rank order is not plane order. What
/// adds over the ranks or names the first failure must then go in plane order to give one
/// process's bits and lines; each test below fails when it goes in rank order.
@Suite("rank 0's slab: plane order under mpirun", .serialized)
struct RankZeroSlabTests {
    /// A copy of fixture `name` with the voxels `(x, y, z)` set to the values given.
    static func damaged(_ name: String, _ voxels: [(x: Int, y: Int, z: Int, value: Float)],
                        in scratch: Scratch) throws -> String {
        try BadInputTests.variant(of: name, { volume in
            let s = volume.grid.shape
            for v in voxels { volume.values[(v.z * s.y + v.y) * s.x + v.x] = v.value }
        }, in: scratch, as: "damaged-" + name)
    }

    @Test("2 ranks: rank 0 holds the shorter end slab (12..<20 of mask.mrc's 20 planes), rank 1 0..<12")
    func rankZeroHoldsTheShorterSlab() throws {
        let scratch = Scratch()
        let result = try SlabDataPathTests.scale(2, SlabDataPathTests.cases["exact_pad1"]!
            + ["--out", scratch.file("o.mrc"), "--hdf5", scratch.file("o.h5")])
        try #require(result.status == 0, "\(result.stderr)")
        let file = try HDF5Reader(path: scratch.file("o.h5"))
        #expect(try file.integers("/timing/z_start") == [12, 0] && file.integers("/timing/z_end") == [20, 12])
    }

    /// em.mrc's first two voxels (plane 0, outside the mask) set to +2^60 and −2^60: the double sum
    /// outside the mask cancels them exactly in plane order, while any other order adds another
    /// slab's sum to 2^60 first and loses it; the mean pads the windows that leave the box.
    @Test("the mean outside the mask is summed in plane order: N = 2, 3, 4 write the 1-rank bits")
    func meanOutsideInPlaneOrder() throws {
        let scratch = Scratch()
        let em = try Self.damaged("em.mrc", [(0, 0, 0, 0x1p60), (1, 0, 0, -0x1p60)], in: scratch)
        var first: Data?
        for n in [1, 2, 3, 4] {
            let out = scratch.file("np\(n).mrc")
            let result = try SlabDataPathTests.scale(n, ["--em", em, "--model-map", "model.mrc", "--mask", "mask.mrc",
                                                         "--window", "8", "--pad-factor", "1", "--out", out])
            try #require(result.status == 0, "np \(n): \(result.stderr)")
            let data = try CLITests.dataBytes(out)
            if let first { #expect(data == first, "np \(n) differs from np 1") } else { first = data }
        }
    }

    /// Two bad voxels of one kind, in plane 1 (rank 1's slab at 2 ranks, rank 2's at 3) and in the
    /// last plane (rank 0's): a non-finite experimental map, or a model map too large for the
    /// window whose largest magnitude occurs twice (+2e37 and −2e37).
    @Test("two bad voxels in different slabs: N = 2, 3 name the first in the map, as one rank does",
          arguments: ["nonfinite", "too large"])
    func firstBadVoxelInPlaneOrder(damage: String) throws {
        let scratch = Scratch()
        var arguments = ["--em", "em.mrc", "--model-map", "model.mrc", "--mask", "mask.mrc", "--window", "8"]
        if damage == "nonfinite" {
            arguments[1] = try Self.damaged("em.mrc", [(3, 2, 19, .nan), (5, 4, 1, .infinity)], in: scratch)
        } else {
            arguments[3] = try Self.damaged("model.mrc", [(3, 2, 19, -2e37), (5, 4, 1, 2e37)], in: scratch)
        }
        var lines: [[String]] = []
        for n in [1, 2, 3] {
            let result = try SlabDataPathTests.scale(n, arguments + ["--out", scratch.file("o.mrc")])
            #expect(result.status == 1, "np \(n): \(result.stderr)")
            lines.append(result.stderr.split(separator: "\n").filter { $0.hasPrefix("localscale:") }.map(String.init))
        }
        #expect(lines[0].count == 1 && lines[0].first?.contains("at voxel (x, y, z) = (5, 4, 1)") == true,
                "\(lines[0])")
        #expect(lines[1] == lines[0] && lines[2] == lines[0], "\(lines)")
    }

    /// Everything a run adds over the ranks or gathers, with the swap active: the scaled map, the
    /// local B map (noise σ² from per-plane sums, its failed fits), HDF5 `/map` and `/bfactor`,
    /// and the report (validated on FFTW-MPI's planes, moved there from the scaling's slabs; the
    /// local B histogram and central slices). At 8 ranks some scaling slabs lie wholly above the
    /// validation planes their rank wants (rank 0 owns 17..<20 and wants 0..<3): moving them
    /// trapped before (`Communicator.planes` formed the range 17..<3), at 8 ranks even in rank order.
    @Test("--report and --bfactor-map at 2 and 8 ranks: every output the 1-rank run's, byte for byte")
    func reportAndLocalBOnRanks() throws {
        let scratch = Scratch()
        var outputs: [[Data]] = []
        for n in [1, 2, 8] {
            let folder = scratch.file("np\(n)")
            let result = try SlabDataPathTests.scale(n, LocalBMapCLITests.arguments(0) + [
                "--out", folder + ".mrc", "--bfactor-map", folder + "-b.mrc", "--hdf5", folder + ".h5",
                "--report", folder])
            try #require(result.status == 0, "np \(n): \(result.stderr)")
            let h5 = try HDF5Reader(path: folder + ".h5")
            var summary = try #require(try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: folder + "/summary.json"))) as? [String: Any])
            summary["parameters"] = nil
            // The report's local B section (the page also holds the timings and the rank count).
            let html = try String(contentsOfFile: folder + "/report.html", encoding: .utf8)
            let start = try #require(html.range(of: "<h2>Local B map</h2>"), "np \(n): no local B section")
            let end = html[start.upperBound...].range(of: "<h2>")?.lowerBound ?? html.endIndex
            func bits(_ values: [Float]) -> Data {
                Data(values.flatMap { withUnsafeBytes(of: $0.bitPattern, Array.init) })
            }
            outputs.append([
                try CLITests.dataBytes(folder + ".mrc"), try CLITests.dataBytes(folder + "-b.mrc"),
                bits(try h5.floats("/map")), bits(try h5.floats("/bfactor")),
                try JSONSerialization.data(withJSONObject: summary, options: .sortedKeys),
                try Data(contentsOf: URL(fileURLWithPath: folder + "/fsc-input.csv")),
                try Data(contentsOf: URL(fileURLWithPath: folder + "/fsc-output.csv")),
                Data(html[start.lowerBound ..< end].utf8),
            ])
        }
        let names = ["MRC", "B map", "/map", "/bfactor", "summary.json", "fsc-input.csv", "fsc-output.csv",
                     "local B section"]
        for n in 1...2 {
            for (k, name) in names.enumerated() { #expect(outputs[0][k] == outputs[n][k], "\(name) differs") }
        }
    }

    /// The model map simulated from atoms by an even split of the planes (`PlaneSlabs`) and moved
    /// to the scaling's slabs: with a mask of sim_grid's planes 10..<40 the top slab is the
    /// shortest (2 ranks: 0..<25 | 25..<40; 3: 0..<20 | 20..<30 | 30..<40), so rank 0 gets the top planes.
    @Test("--model with the swap active: N = 2, 3 write the 1-rank map and model map, rank 0 on the top slab")
    func simulatedModelOnSwappedSlabs() throws {
        let scratch = Scratch()
        let mask = try BadInputTests.variant(of: "sim_grid.mrc", { volume in
            let plane = volume.grid.shape.x * volume.grid.shape.y
            for i in volume.values.indices { volume.values[i] = i / plane >= 10 ? 1 : 0 }
        }, in: scratch, as: "top-mask.mrc")
        var first: [Data]?
        for n in [1, 2, 3] {
            let (out, model) = (scratch.file("np\(n).mrc"), scratch.file("model\(n).mrc"))
            let h5 = scratch.file("np\(n).h5")
            let result = try SlabDataPathTests.scale(n, [
                "--em", "sim_grid.mrc", "--model", "../models/sim_small.pdb", "--resolution", "2", "--mask", mask,
                "--window", "8", "--pad-factor", "1", "--out", out, "--save-model-map", model, "--hdf5", h5])
            try #require(result.status == 0, "np \(n): \(result.stderr)")
            let data = [try CLITests.dataBytes(out), try CLITests.dataBytes(model)]
            if let first { #expect(data == first, "np \(n) differs from np 1") } else { first = data }
            if n > 1 { #expect(try HDF5Reader(path: h5).integers("/timing/z_start").first == (n == 2 ? 25 : 30)) }
        }
    }
}
