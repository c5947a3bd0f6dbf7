#ifndef LOCSCALE_CMPI_SHIM_H
#define LOCSCALE_CMPI_SHIM_H
#include <mpi.h>

/* Open MPI's handles are macros over incomplete globals that Swift cannot import. */
static inline MPI_Comm localscale_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype localscale_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype localscale_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype localscale_mpi_int(void) { return MPI_INT; }
static inline MPI_Datatype localscale_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype localscale_mpi_char(void) { return MPI_CHAR; }
static inline MPI_Op localscale_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op localscale_mpi_max(void) { return MPI_MAX; }
static inline MPI_Op localscale_mpi_min(void) { return MPI_MIN; }
/* MPI-IO */
static inline MPI_Datatype localscale_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Info localscale_mpi_info_null(void) { return MPI_INFO_NULL; }
static inline MPI_Status *localscale_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline int localscale_mpi_mode_create_write(void) { return MPI_MODE_CREATE | MPI_MODE_WRONLY; }
static inline int localscale_mpi_order_c(void) { return MPI_ORDER_C; }
static inline void *localscale_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Errhandler localscale_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int localscale_mpi_max_library_version_string(void) { return MPI_MAX_LIBRARY_VERSION_STRING; }
static inline int localscale_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
#endif
