#!/usr/bin/env bash
# Peak resident memory of every rank (GNU time's maximum RSS, per rank) and the wall time of
# `localscale scale` on a case folder (em.mrc, model.mrc, mask.mrc), for each rank count.
#
#   RANKS="1 2 4 8" benchmarks/mpi-memory.sh CASE_DIR OUT_DIR [localscale scale options…]
#
# RANKS defaults to "1 2"; more ranks than cores are oversubscribed, one thread each. MASK
# replaces CASE_DIR/mask.mrc (e.g. a sparse mask: the same slabs at a fraction of the compute).
# Prints one line per rank and a table row per rank count (ranks, wall s, rank 0 MiB, largest
# other rank MiB), and keeps each rank's GNU time output as OUT_DIR/npN.rss.R.
set -euo pipefail
case_dir=$1 out=$2
shift 2
bin=${LOCALSCALE_BIN:-$(cd "$(dirname "$0")/.." && swift build -c release --show-bin-path)/localscale}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$out"
for ranks in ${RANKS:-1 2}; do
    start=$(date +%s%N)
    mpirun -np "$ranks" --bind-to none sh -c '/usr/bin/time -f %M -o "$0.rss.$OMPI_COMM_WORLD_RANK" "$@"' \
        "$out/np$ranks" "$bin" scale --em "$case_dir/em.mrc" --model-map "$case_dir/model.mrc" \
        --mask "${MASK:-$case_dir/mask.mrc}" --threads 1 --out "$out/np$ranks.mrc" --quiet "$@"
    wall_ms=$(( ($(date +%s%N) - start) / 1000000 ))
    others=0
    for r in $(seq 0 $((ranks - 1))); do
        mib=$(( $(cat "$out/np$ranks.rss.$r") / 1024 ))
        echo "$ranks rank(s): rank $r peak RSS $mib MiB"
        if [ "$r" -gt 0 ] && [ "$mib" -gt "$others" ]; then others=$mib; fi
    done
    printf '| %d | %d.%d | %d | %s |\n' "$ranks" $((wall_ms / 1000)) $((wall_ms % 1000 / 100)) $(( $(cat "$out/np$ranks.rss.0") / 1024 )) \
        "$([ "$ranks" -gt 1 ] && echo "$others" || echo —)"
done
