#ifndef LOCSCALE_CFFTW_SHIM_H
#define LOCSCALE_CFFTW_SHIM_H
/* Single-precision FFTW. <complex.h> must not come first: fftwf_complex stays float[2]. */
#include <fftw3.h>

static inline unsigned localscale_fftw_measure(void) { return FFTW_MEASURE; }
static inline unsigned localscale_fftw_estimate(void) { return FFTW_ESTIMATE; }
static inline unsigned localscale_fftw_patient(void) { return FFTW_PATIENT; }
static inline unsigned localscale_fftw_destroy_input(void) { return FFTW_DESTROY_INPUT; }
static inline const char *localscale_fftwf_version(void) { return fftwf_version; }
/* 3-D DCT-I (REDFT00 along every axis): the DFT of a real kernel even along every axis. */
static inline fftwf_plan localscale_fftwf_plan_dct1_3d(int n0, int n1, int n2, float *in, float *out, unsigned flags) {
    return fftwf_plan_r2r_3d(n0, n1, n2, in, out, FFTW_REDFT00, FFTW_REDFT00, FFTW_REDFT00, flags);
}
#endif
