#!/usr/bin/env bash
# Interleaved write benchmark (benchmarks/RESULTS.md §23): ROUNDS rounds, each running the floors
# and every variant once, so that all see the same load; prints median (best) seconds of each.
#
#   benchmarks/write-floor/rounds.sh ROUNDS IN.mrc SCRATCH VARIANT...
#
# VARIANT = LABEL=RANKS:BINARY[:ARGS[:ENV]]: `mpirun -np RANKS BINARY IN SCRATCH/out ARGS` with
# ENV (NAME=VALUE, exported to the ranks) — BINARY a localscale-slab-io-check, whose JSON line's
# writeSeconds is taken (the slowest rank from the barrier before writing to the rename). Floors:
# `pw` = pwrite-fsync.c of the same bytes as IN; `dd` = dd bs=1024000 conv=fsync of them.
set -eu
rounds=$1 input=$2 scratch=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$scratch"
cc -O2 -o "$scratch/pwrite-fsync" "$here/pwrite-fsync.c"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
bytes=$(stat -c %s "$input")
results="$scratch/results"
rm -rf "$results" && mkdir -p "$results"
for round in $(seq "$rounds"); do
    "$scratch/pwrite-fsync" "$scratch/floor.pw" "$bytes" >> "$results/floor-pw"
    start=$(date +%s%N)
    dd if=/dev/zero of="$scratch/floor.dd" bs=1024000 count=$((bytes / 1024000)) conv=fsync status=none
    echo "scale=4; ($(date +%s%N) - $start) / 1000000000" | bc >> "$results/floor-dd"
    rm -f "$scratch/floor.dd"
    for variant in "$@"; do
        label=${variant%%=*}
        IFS=: read -r ranks binary arguments environment <<< "${variant#*=}"
        exported=()
        if [ -n "${environment:-}" ]; then exported=(-x "$environment"); fi
        # shellcheck disable=SC2086
        line=$(mpirun "${exported[@]}" -np "$ranks" --bind-to none "$binary" "$input" "$scratch/out" \
               ${arguments:-} | grep '^{')
        python3 -c 'import json,sys; print(json.loads(sys.argv[1])["writeSeconds"])' "$line" >> "$results/$label"
        rm -f "$scratch/out"
    done
done
uptime
for file in "$results"/*; do
    python3 - "$file" <<'PY'
import os, statistics, sys
values = [float(line) for line in open(sys.argv[1])]
print(f"{os.path.basename(sys.argv[1]):<24} median {statistics.median(values):.3f} (best {min(values):.3f}) n {len(values)}")
PY
done
