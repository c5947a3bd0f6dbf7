import CMPI
import CFFTWMPI

/// Facts about the MPI library this binary is linked against.
public enum MPILibrary {
    /// The library's own version line (`MPI_Get_library_version`), e.g. "Open MPI v4.1.4, ...".
    /// Callable before `MPI_Init`.
    public static var version: String {
        var buffer = [CChar](repeating: 0, count: Int(localscale_mpi_max_library_version_string()) + 1)
        var length: Int32 = 0
        MPI_Get_library_version(&buffer, &length)
        // Open MPI counts the terminating NUL in `length`: stop at the first NUL.
        let bytes = buffer.prefix(Int(length)).prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        let line = String(decoding: bytes, as: UTF8.self)
        return line.split(whereSeparator: \.isNewline).first.map(String.init) ?? line
    }

    /// The MPI standard version the library implements, e.g. "3.1".
    public static var standard: String {
        var major: Int32 = 0, minor: Int32 = 0
        MPI_Get_version(&major, &minor)
        return "\(major).\(minor)"
    }
}
