import Testing
import TestSupport
@testable import LocScaleCore

/// `VoxelSelection` from tallies of disjoint planes lists the voxels `LocalScaling.voxelsToScale`
/// lists for the whole map, for every split of the planes: the count a rank finds in its share of
/// the mask and the voxels it lists from its slab agree with the whole-map rule (LocScale 2's
/// edge crop included).
@Suite("Voxel selection by planes")
struct VoxelSelectionTests {
    /// Tallies `planes` split into `parts` equal shares, merged; then every share's voxels.
    static func selection(mask: [Float]?, shape: XYZ<Int>, window: Int, rule: ScalingRule,
                          parts: Int) -> (VoxelSelection, [Int]) {
        let plane = shape.x * shape.y
        let shares = (0..<parts).map { shape.z * $0 / parts ..< shape.z * ($0 + 1) / parts }
        func values(_ planes: Range<Int>) -> [Float]? {
            mask.map { Array($0[planes.lowerBound * plane ..< planes.upperBound * plane]) }
        }
        let tally = shares.map { PlaneTally(mask: values($0), planes: $0, shape: shape, window: window) }
            .reduce(PlaneTally(mask: values(0..<0), planes: 0..<0, shape: shape, window: window)) {
                $0.merged(with: $1)
            }
        let selection = VoxelSelection(tally: tally, shape: shape, rule: rule, window: window)
        return (selection, shares.flatMap { selection.voxels(in: $0, mask: values($0)) })
    }

    @Test("the fixtures' masks, both rules, 1–5 shares: the whole-map list, counts and bounds",
          arguments: ["mask.mrc", "b_mask.mrc", "val_mask.mrc", "none"])
    func fixtureMasks(name: String) throws {
        let mapName = ["val_mask.mrc": "val_a.mrc", "b_mask.mrc": "b_em.mrc"][name] ?? "em.mrc"
        let em = try MRCFile.read(path: Fixtures.path(mapName)).volume
        let mask = name == "none" ? nil : try MRCFile.read(path: Fixtures.path(name)).volume
        let inputs = try ScalingInputs(experimental: NamedVolume(path: "e", volume: em),
                                       model: NamedVolume(path: "m", volume: em),
                                       mask: mask.map { NamedVolume(path: "k", volume: $0) }, window: 8)
        for rule in [ScalingRule.exact(padFactor: 1), .locscale2] {
            let expected = LocalScaling.voxelsToScale(inputs, window: 8, rule: rule)
            for parts in 1...5 {
                let (selection, voxels) = Self.selection(mask: mask?.values, shape: em.grid.shape, window: 8,
                                                         rule: rule, parts: parts)
                #expect(voxels == expected, "\(name) \(rule) \(parts) shares")
                #expect(selection.count == expected.count)
                if rule != .locscale2 {
                    // The bounding box of the listed voxels (LocScale 2 keeps the uncropped mask's).
                    let s = em.grid.shape
                    let coordinates = expected.map { XYZ($0 % s.x, ($0 / s.x) % s.y, $0 / (s.x * s.y)) }
                    for axis in 0..<3 {
                        #expect(selection.lower[axis] == coordinates.map { $0[axis] }.min())
                        #expect(selection.upper[axis] == coordinates.map { $0[axis] }.max())
                    }
                }
            }
        }
    }

    @Test("LocScale 2 crops the last planes when no voxel bleeds: a mask away from the edges")
    func cropWithoutBleeding() throws {
        let shape = XYZ(12, 11, 13), window = 4
        var generator = SplitMix64(seed: 7)
        var mask = [Float](repeating: 0, count: shape.x * shape.y * shape.z)
        for z in 2...11 { for y in 2...9 { for x in 2...10 where Bool.random(using: &generator) {
            mask[(z * shape.y + y) * shape.x + x] = 1
        } } }
        let volume = Volume(grid: Grid(shape: shape, voxelSize: XYZ(1, 1, 1)), values: mask)
        let named = NamedVolume(path: "k", volume: volume)
        let inputs = try ScalingInputs(experimental: named, model: named, mask: named, window: window)
        let expected = LocalScaling.voxelsToScale(inputs, window: window, rule: .locscale2)
        #expect(expected.count < mask.filter { $0 >= 0.5 }.count, "the crop must remove voxels here")
        for parts in [1, 2, 3, 7, 13] {
            let (selection, voxels) = Self.selection(mask: mask, shape: shape, window: window, rule: .locscale2,
                                                     parts: parts)
            #expect(voxels == expected, "\(parts) shares")
            #expect(selection.cropped == XYZ(10, 9, 11))
        }
    }
}
