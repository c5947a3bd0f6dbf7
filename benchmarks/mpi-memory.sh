#!/usr/bin/env bash
# Peak resident memory of every rank (GNU time's maximum RSS, per rank) for 1 and 2 ranks.
#
#   benchmarks/mpi-memory.sh CASE_DIR OUT_DIR [localscale scale options…]
set -euo pipefail
case_dir=$1 out=$2
shift 2
bin=${LOCALSCALE_BIN:-$(cd "$(dirname "$0")/.." && swift build -c release --show-bin-path)/localscale}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$out"
for ranks in 1 2; do
    mpirun -np "$ranks" --bind-to none sh -c '/usr/bin/time -f %M -o "$0.rss.$OMPI_COMM_WORLD_RANK" "$@"' \
        "$out/np$ranks" "$bin" scale --em "$case_dir/em.mrc" --model-map "$case_dir/model.mrc" \
        --mask "$case_dir/mask.mrc" --threads 1 --out "$out/np$ranks.mrc" --quiet "$@"
    for r in $(seq 0 $((ranks - 1))); do
        echo "$ranks rank(s): rank $r peak RSS $(( $(cat "$out/np$ranks.rss.$r") / 1024 )) MiB"
    done
done
