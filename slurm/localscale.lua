-- Lmod module file for localscale, as `./cmake-free-build.sh install PREFIX` installs it in
-- PREFIX/share/modulefiles/localscale/VERSION.lua, its prefix and version filled in.
-- Users: module use PREFIX/share/modulefiles; module load localscale
-- The binary carries the Swift runtime; Open MPI, FFTW and HDF5 are the system's (Debian:
-- libopenmpi3 libfftw3-single3 libfftw3-mpi3 libhdf5-openmpi-103-1, and libcurl4 for Foundation) and
-- must be on every compute node.
help([[localscale @VERSION@: model-based local amplitude scaling of cryo-EM maps (LocScale).
Job scripts to copy: $LOCALSCALE_SLURM (sbatch localscale.sbatch, localscale-array.sbatch, ...).]])
whatis("Name: localscale")
whatis("Version: @VERSION@")
whatis("Description: local amplitude scaling of cryo-EM density maps, MPI + threads")

local prefix = "@PREFIX@"
prepend_path("PATH", pathJoin(prefix, "bin"))
prepend_path("MANPATH", pathJoin(prefix, "share/man"))
setenv("LOCALSCALE", pathJoin(prefix, "bin/localscale"))
setenv("LOCALSCALE_SLURM", pathJoin(prefix, "share/localscale/slurm"))
