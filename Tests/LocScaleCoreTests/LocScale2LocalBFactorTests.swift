import Foundation
import Testing
@testable import LocScaleCore

/// LocScale 2's local B (`LocScale2LocalBFactorMap`, `--compat locscale2`) against LocScale 2.4.1 itself
/// (Tests/Fixtures/make-ls2-bfactor-oracle.py calls its `get_local_bfactor_emmap`: a non-cubic map with
/// origin and nstart, interior centres, windows cut by the box's top, centres below `s/2` where it raises,
/// a fit range too narrow for `curve_fit`, its mask-driven "singer" Wilson cutoff, a flat map), its
/// invariance to threads and slabs.
@Suite("LocScale 2 local B factors")
struct LocScale2LocalBFactorTests {
    struct OracleCase: Decodable, CustomStringConvertible, Sendable {
        let em: String
        let window: Int
        let fscResolution: Double?
        /// The fixed Wilson cutoff, Å; nil: "singer" from `mask`.
        let wilsonCutoff: Double?
        let mask: String?
        let centresZYX: [[Int]]
        /// LocScale 2's B, nil where it raised.
        let bfactors: [Double?]

        private enum CodingKeys: String, CodingKey {
            case em, window, bfactors, mask
            case fscResolution = "fsc_resolution", wilsonCutoff = "wilson_cutoff", centresZYX = "centres_zyx"
        }

        var description: String {
            let to = fscResolution.map { "\($0)" } ?? "Nyquist"
            return "\(em) w\(window) \(wilsonCutoff.map { "\($0)" } ?? "singer")–\(to) Å"
        }

        static func all() throws -> [OracleCase] {
            struct File: Decodable { let cases: [OracleCase] }
            let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("ls2b_cases.json")))
            return try JSONDecoder().decode(File.self, from: data).cases
        }
    }

    /// `body` with the whole of `map` as the source.
    static func withSource<T>(_ map: Volume, _ body: (WindowSource) -> T) -> T {
        map.values.withUnsafeBufferPointer { e in
            body(WindowSource(experimental: e, model: e, shape: map.grid.shape, experimentalOutside: 0,
                              modelOutside: 0))
        }
    }

    static func bfactors(_ oracle: OracleCase, threads: Int = 2) throws -> (LocalBFactors, [Int]) {
        let map = try Fixtures.read(oracle.em).volume, shape = map.grid.shape
        let mask = try oracle.mask.map { try Fixtures.read($0).volume }
        let singer = mask.map { mask in
            LocScale2SingerCutoff(maskVoxels: mask.values.count { $0 >= LocScale2SingerCutoff.maskThreshold },
                                  voxelSize: mask.grid.voxelSize.x)
        }
        let range = GuinierRange(from: oracle.wilsonCutoff ?? 10, to: oracle.fscResolution)
        let ls2 = LocScale2LocalBFactorMap(window: oracle.window, voxelSize: map.grid.voxelSize.x, range: range,
                                           singer: singer, planning: .estimate)
        let voxels = oracle.centresZYX.map { ($0[0] * shape.y + $0[1]) * shape.x + $0[2] }
        let result = withSource(map) { source in
            guard let mask else { return ls2.compute(source, voxels: voxels, threads: threads) }
            return mask.values.withUnsafeBufferPointer {
                ls2.compute(source, voxels: voxels, threads: threads, mask: $0)
            }
        }
        return (result, voxels)
    }

    @Test("B matches LocScale 2.4.1's get_local_bfactor_emmap to 1e-6 relative; where it raises, 0 and counted",
          arguments: try OracleCase.all().filter { $0.em != "ls2b_flat.mrc" })
    func matchesLocScale2(_ oracle: OracleCase) throws {
        let (result, _) = try Self.bfactors(oracle)
        #expect(result.failedFits == oracle.bfactors.filter { $0 == nil }.count)
        var worst = 0.0
        for (ours, expected) in zip(result.bfactors, oracle.bfactors) {
            guard let expected else {
                #expect(ours == 0)
                continue
            }
            let relative = abs(Double(ours) - expected) / abs(expected)
            worst = max(worst, relative)
            #expect(relative <= 1e-6, "B \(ours), LocScale 2 \(expected)")
        }
        print("\(oracle): \(oracle.bfactors.count) centres, \(result.failedFits) failed, "
              + "largest relative difference \(worst)")
    }

    @Test("a flat map: every fit fails (B 0, counted), also the 7³ corner window LocScale 2 fits to rounding noise")
    func flatMap() throws {
        let oracle = try #require(try OracleCase.all().first { $0.em == "ls2b_flat.mrc" })
        // LocScale 2 raises (log 0) for the 12³ windows; for the 7³ corner window numpy's float32 FFT leaves
        // ~1e-16 of √Σx² in the outer bins and LocScale 2 fits those into a B of about 19 Å².
        #expect(oracle.bfactors.prefix(2).allSatisfy { $0 == nil } && oracle.bfactors[2] != nil)
        let (result, _) = try Self.bfactors(oracle)
        #expect(result.bfactors == [0, 0, 0])
        #expect(result.failedFits == 3)
    }

    @Test("the same bits for 1 and 3 threads and on a slab holding only the planes the windows need",
          arguments: [false, true])
    func threadAndSlabInvariance(singer: Bool) throws {
        let map = try Fixtures.read("ls2b_em.mrc").volume, shape = map.grid.shape, plane = shape.x * shape.y
        let mask = try Fixtures.read("ls2b_mask.mrc").volume
        let cutoff = LocScale2SingerCutoff(maskVoxels: mask.values.count { $0 >= LocScale2SingerCutoff.maskThreshold },
                                           voxelSize: mask.grid.voxelSize.x)
        let ls2 = LocScale2LocalBFactorMap(window: 11, voxelSize: map.grid.voxelSize.x, singer: singer ? cutoff : nil,
                                           planning: .estimate)
        #expect(ls2.box == 12)
        /// The B of `voxels` from planes `held` of the map (and mask).
        func bfactors(_ voxels: [Int], held: Range<Int>, threads: Int) -> LocalBFactors {
            let part = held.lowerBound * plane ..< held.upperBound * plane
            let values = Array(map.values[part]), maskValues = Array(mask.values[part])
            return values.withUnsafeBufferPointer { e in
                maskValues.withUnsafeBufferPointer { m in
                    ls2.compute(WindowSource(experimental: e, model: e, shape: shape, firstPlane: held.lowerBound,
                                             experimentalOutside: 0, modelOutside: 0),
                                voxels: voxels, threads: threads, mask: singer ? m : nil)
                }
            }
        }
        let voxels = Array(0..<map.values.count)
        let whole = bfactors(voxels, held: 0..<shape.z, threads: 1)
        #expect(bfactors(voxels, held: 0..<shape.z, threads: 3) == whole)
        // The voxels with x, y or z below s/2 = 6 fail (the window would start below 0); without the mask
        // exactly those, with it also some where its cutoff leaves fewer than 2 bins (under 10 % of the rest).
        let low = voxels.count - (shape.x - 6) * (shape.y - 6) * (shape.z - 6)
        #expect(singer ? whole.failedFits > low && whole.failedFits - low < (voxels.count - low) / 10
                       : whole.failedFits == low)
        // Slab z 12 ..< 20: its windows need planes 6 ..< 26.
        let inSlab = Array(12 * plane ..< 20 * plane)
        let slab = bfactors(inSlab, held: 6..<26, threads: 2)
        #expect(slab.bfactors.map(\.bitPattern) == inSlab.map { whole.bfactors[$0].bitPattern })
    }

    @Test("numpy's linspace frequencies and estimate_bfactor_standard's bin range")
    func frequenciesAndRange() {
        let f = LocScale2LocalBFactorMap.frequencies(count: 6, voxelSize: 1.25)
        #expect(f.count == 6 && f[0] == 0 && f[5] == 0.4 && f[1] == 0.4 / 5)
        // 10 Å: first f ≥ 0.1 is f[2] = 0.16; 4 Å: first f ≥ 0.25 is f[4] = 0.32 (not included).
        #expect(LocScale2LocalBFactorMap.fitBins(f, wilson: 0.1, fsc: 0.25) == 2..<4)
        // Nyquist: every bin from the Wilson one.
        #expect(LocScale2LocalBFactorMap.fitBins(f, wilson: 0.1, fsc: 0.4) == 2..<6)
        // One bin, or none above the Wilson frequency: undefined.
        #expect(LocScale2LocalBFactorMap.fitBins(f, wilson: 0.1, fsc: 0.2) == nil)
        #expect(LocScale2LocalBFactorMap.fitBins(f, wilson: 0.5, fsc: 0.4) == nil)
        #expect(LocScale2LocalBFactorMap.frequencies(count: 1, voxelSize: 1) == [0])
    }
}
