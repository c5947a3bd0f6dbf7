// libFuzzer target: the MRC header and data reader (`MRCFile.read`) on arbitrary bytes, written
// to a file in /dev/shm (the reader reads paths). Any trap, sanitizer report or non-finite value
// in an accepted map is a finding; a thrown MRCError is the expected refusal.
import Foundation
import FuzzSupport
import LocScaleCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMRC(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzInput.write(data, size, suffix: ".mrc")
    if let map = try? MRCFile.read(path: path) {
        // Modes 0, 1, 6 and 12 cannot hold a non-finite value; mode 2 can, and passes it on as read.
        if map.header.mode != 2 {
            precondition(map.volume.values.allSatisfy(\.isFinite), "non-finite voxel from mode \(map.header.mode)")
        }
    }
    return 0
}

@_cdecl("fuzz_mrc_main")
public func fuzzMRCMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv, fuzzMRC)
}
