#ifndef LOCSCALE_CHDF5_SHIM_H
#define LOCSCALE_CHDF5_SHIM_H
#include <hdf5.h>

/* The Open MPI flavour (libhdf5-openmpi-dev): `/map` is written collectively by every rank. One
   process without mpirun uses it serially (default file driver). */
#ifndef H5_HAVE_PARALLEL
#error "CHDF5 needs the parallel (Open MPI) HDF5: pkg-config hdf5-openmpi"
#endif

/* HDF5's type and property ids are macros over run-time globals that Swift cannot import. */
static inline hid_t localscale_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t localscale_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t localscale_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t localscale_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t localscale_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t localscale_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t localscale_h5s_all(void) { return H5S_ALL; }
static inline unsigned localscale_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned localscale_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned localscale_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline hid_t localscale_h5p_attribute_create(void) { return H5P_ATTRIBUTE_CREATE; }
/* Parallel HDF5: file access through MPI-IO on `comm`, collective transfers. */
static inline hid_t localscale_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t localscale_h5p_dataset_xfer(void) { return H5P_DATASET_XFER; }
static inline herr_t localscale_h5p_set_fapl_mpio(hid_t fapl, MPI_Comm comm) {
    return H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
}
/* Turn off HDF5's own printing of error stacks (localscale reports one line itself), and its
   clean-up at exit: after a failed H5Fclose (a full disk) HDF5 1.10 closes the file again at exit
   and crashes in H5F__close_cb. H5dont_atexit only works before the library starts, so it comes first. */
static inline void localscale_h5_quiet(void) {
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}
#endif
