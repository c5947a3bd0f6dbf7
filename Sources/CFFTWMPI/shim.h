#ifndef LOCSCALE_CFFTWMPI_SHIM_H
#define LOCSCALE_CFFTWMPI_SHIM_H
#include <mpi.h>
#include <fftw3-mpi.h>
#endif
