import CHDF5

/// Facts about the HDF5 library this binary is linked against.
public enum HDF5Library {
    /// Starts HDF5 (quiet: no printed error stacks, no clean-up at exit). Call it before
    /// `Communicator.start()`: HDF5 started after `MPI_Init` also cleans up in `MPI_Finalize`,
    /// and after a failed collective close (a full disk) that clean-up closes the file again and
    /// crashes (H5F__close_cb, signal 11) instead of exiting with the one-line error.
    public static func start() {
        localscale_h5_quiet()
        H5open()
    }

    /// "major.minor.release" of the linked HDF5 (`H5get_libversion`).
    public static var version: String {
        localscale_h5_quiet()
        var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
        H5get_libversion(&major, &minor, &release)
        return "\(major).\(minor).\(release)"
    }
}
