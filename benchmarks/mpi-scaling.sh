#!/usr/bin/env bash
# Ranks against threads on one machine: 1 rank × 1 thread, 2 ranks × 1 thread, 1 rank × 2 threads
# on one case, each with --timings-json; then a summary (parallel efficiency, imbalance,
# communication as a fraction of compute) from benchmarks/summarise-timings.py.
#
#   benchmarks/mpi-scaling.sh CASE_DIR OUT_DIR [localscale scale options…]
set -euo pipefail
case_dir=$1 out=$2
shift 2
bin=${LOCALSCALE_BIN:-$(cd "$(dirname "$0")/.." && swift build -c release --show-bin-path)/localscale}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$out"
inputs=(--em "$case_dir/em.mrc" --model-map "$case_dir/model.mrc" --mask "$case_dir/mask.mrc")
for run in "1 1" "2 1" "1 2"; do
    set -- $run "$@"
    ranks=$1 threads=$2
    shift 2
    echo "=== $ranks rank(s) × $threads thread(s)" >&2
    /usr/bin/time -f "wall %e s" \
        mpirun -np "$ranks" --bind-to none "$bin" scale "${inputs[@]}" --threads "$threads" \
        --hdf5 "$out/r${ranks}t${threads}.h5" --timings-json "$out/r${ranks}t${threads}.json" "$@"
done
python3 "$(dirname "$0")/summarise-timings.py" "$out"/r1t1.json "$out"/r2t1.json "$out"/r1t2.json
