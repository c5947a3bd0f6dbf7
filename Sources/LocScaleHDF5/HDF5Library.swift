import CHDF5

/// Facts about the HDF5 library this binary is linked against.
public enum HDF5Library {
    /// "major.minor.release" of the linked HDF5 (`H5get_libversion`).
    public static var version: String {
        localscale_h5_quiet()
        var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
        H5get_libversion(&major, &minor, &release)
        return "\(major).\(minor).\(release)"
    }
}
