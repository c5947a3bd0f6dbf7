#ifndef LOCSCALE_CFFTW_SHIM_H
#define LOCSCALE_CFFTW_SHIM_H
/* Single-precision FFTW. <complex.h> must not come first: fftwf_complex stays float[2]. */
#include <fftw3.h>

static inline unsigned localscale_fftw_measure(void) { return FFTW_MEASURE; }
static inline unsigned localscale_fftw_estimate(void) { return FFTW_ESTIMATE; }
static inline unsigned localscale_fftw_patient(void) { return FFTW_PATIENT; }
static inline unsigned localscale_fftw_destroy_input(void) { return FFTW_DESTROY_INPUT; }
static inline const char *localscale_fftwf_version(void) { return fftwf_version; }
#endif
