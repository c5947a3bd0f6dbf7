#!/usr/bin/env bash
# Exact against fast mode on one benchmark case: wall and CPU seconds, core-µs per voxel and
# peak RSS of each run, and the agreement of each fast map with the exact map of the same pad
# factor (correlation and relative RMS in the mask).
#
#   benchmarks/fast-vs-exact.sh CASE_DIR OUT_DIR WINDOW RUN...
#
# RUN is METHOD:PAD:THREADS, e.g. exact:1:2 fast:1:1 fast:2:2. Runs go in the order given (list
# an exact run before the fast runs that are compared with it). CASE_DIR holds em.mrc,
# model.mrc, mask.mrc (benchmarks/make_synthetic.py or make-ribosome-map). Appends one row per
# run to OUT_DIR/fast-vs-exact.md. Needs python3 with numpy and mrcfile for the agreement.
set -euo pipefail
[ $# -ge 4 ] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
case_dir=$1 out_dir=$2 window=$3
shift 3
mkdir -p "$out_dir"
here=$(cd "$(dirname "$0")" && pwd)
table="$out_dir/fast-vs-exact.md"
[ -f "$table" ] || {
    echo "| case | method | pad | threads | wall s | CPU s | core-µs/voxel | peak RSS MB | vs exact: corr / rel. RMS |"
    echo "|---|---|---|---|---|---|---|---|---|"
} > "$table"
for run in "$@"; do
    IFS=: read -r method pad threads <<<"$run"
    out="$out_dir/$(basename "$case_dir")_${method}_pad${pad}_t${threads}.mrc"
    "$here/run-localscale.sh" "$case_dir" "$out" --window "$window" --pad-factor "$pad" --method "$method" \
        --threads "$threads" --quiet >/dev/null
    report="$out.time.txt"
    wall=$(awk -F': ' '/Elapsed/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$report")
    cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$report")
    rss=$(awk -F': ' '/Maximum resident/ { printf "%.0f", $2 / 1024 }' "$report")
    voxels=$(python3 -c "import mrcfile,numpy as np;print(int((mrcfile.open('$case_dir/mask.mrc',permissive=True).data>=0.5).sum()))")
    per_voxel=$(python3 -c "print(f'{$cpu * 1e6 / $voxels:.1f}')")
    agreement="—"
    exact="$out_dir/$(basename "$case_dir")_exact_pad${pad}_t"
    reference=$(ls "$exact"*.mrc 2>/dev/null | head -1 || true)
    if [ "$method" = fast ] && [ -n "$reference" ]; then
        agreement=$(python3 "$here/compare-maps.py" "$out" "$reference" "$case_dir/mask.mrc" --brief)
    fi
    echo "| $(basename "$case_dir") | $method | $pad | $threads | $wall | $cpu | $per_voxel | $rss | $agreement |" | tee -a "$table"
done
