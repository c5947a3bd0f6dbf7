// libFuzzer target: the atomic model reader through the gemmi shim. The first byte picks the
// file name's extension (bit 0: .pdb or .cif; bit 1: .gz appended), the rest is the file. An
// accepted model goes through `DensitySimulator.checkFrame` on a 12³ grid around it, and when
// that passes and the model is small, through a simulation whose map must be finite.
import Foundation
import FuzzSupport
import LocScaleCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModel(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let suffix = (data[0] & 1 == 0 ? ".pdb" : ".cif") + (data[0] & 2 == 0 ? "" : ".gz")
    let path = FuzzInput.write(data + 1, size - 1, suffix: suffix)
    guard let model = try? AtomicModel.read(path: path) else { return 0 }
    // A grid of 12³ voxels covering the atoms' bounding box (at least 1 Å voxels).
    let positions = model.atoms.map(\.position)
    let low = positions.reduce(SIMD3(repeating: .infinity)) { pointwiseMin($0, $1) }
    let high = positions.reduce(SIMD3(repeating: -.infinity)) { pointwiseMax($0, $1) }
    let n = 12
    let voxel = max(1, ((high - low).max() + 2) / Double(n - 2))
    let grid = Grid(shape: XYZ(n, n, n), voxelSize: XYZ(voxel, voxel, voxel),
                    origin: XYZ(low.x - voxel, low.y - voxel, low.z - voxel))
    guard let simulator = try? DensitySimulator(grid: grid, resolution: nil),
          (try? simulator.checkFrame(model)) != nil, model.atoms.count <= 200 else { return 0 }
    let map = simulator.simulate(model, threads: 1)
    precondition(map.values.allSatisfy(\.isFinite), "non-finite model map")
    return 0
}

@_cdecl("fuzz_model_main")
public func fuzzModelMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv, fuzzModel)
}
