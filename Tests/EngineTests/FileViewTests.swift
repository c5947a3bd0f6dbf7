import CMPI
import Testing
import LocScaleCore
@testable import LocScaleParallel
import TestSupport

/// `FileView.apply`, the collective `MPI_File_set_view` of the MRC writer, on the one-rank world
/// (in `ScaleRunTests`' serialized suite, which owns the communicator).
extension ScaleRunTests {
    @Test("a sub-array type that cannot be made: the view is still set (the collective is entered), and why")
    func failedSubarrayStillSetsView() throws {
        let communicator = Self.communicator
        let scratch = ScratchFolder()
        var grid = Grid(shape: XYZ(4, 3, 2), voxelSize: XYZ(1, 1, 1))
        grid.axisOrder = [3, 2, 1]
        // Planes 1..<3 of a 2-plane map: the sub-array runs past the file's columns, which
        // MPI_Type_create_subarray refuses. (Before, `apply` returned here without the collective
        // MPI_File_set_view, and the other ranks waited in theirs for ever.)
        let view = FileView(grid: grid, planes: 1..<3)
        var file: MPI_File?
        #expect(MPI_File_open(communicator.handle, scratch.file("view.mrc"), localscale_mpi_mode_create_write(),
                              localscale_mpi_info_null(), &file) == 0)
        let line = view.apply(to: file) { function, code in code == 0 ? nil : "\(function) failed" }
        #expect(line == "MPI_Type_create_subarray failed")
        var displacement: MPI_Offset = 0
        var (elementType, fileType): (MPI_Datatype?, MPI_Datatype?) = (nil, nil)
        var representation = [CChar](repeating: 0, count: 256)
        #expect(MPI_File_get_view(file, &displacement, &elementType, &fileType, &representation) == 0)
        #expect(displacement == MPI_Offset(MRCHeader.byteCount))
        #expect(fileType == localscale_mpi_float())
        #expect(MPI_File_close(&file) == 0)
    }
}
