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
        // The integer modes 0, 1 and 6 cannot hold a non-finite value; modes 2 and 12 (float16)
        // can, and pass it on as read.
        if [0, 1, 6].contains(map.header.mode) {
            precondition(map.volume.values.allSatisfy(\.isFinite), "non-finite voxel from mode \(map.header.mode)")
        }
    }
    return 0
}

@_cdecl("fuzz_mrc_main")
public func fuzzMRCMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv, fuzzMRC)
}
