#!/usr/bin/env bash
# Time localscale on a benchmark case under /usr/bin/time -v (wall, CPU, peak RSS).
#
#   benchmarks/run-localscale.sh CASE_DIR OUT.mrc [localscale scale options…]
#
# CASE_DIR holds em.mrc, model.mrc, mask.mrc (benchmarks/make_synthetic.py). Prints localscale's
# summary line and the time report's key lines; keeps the full report in OUT.time.txt.
set -euo pipefail
case_dir=$1 out=$2
shift 2
bin=${LOCALSCALE_BIN:-$(cd "$(dirname "$0")/.." && swift build -c release --show-bin-path)/localscale}
/usr/bin/time -v -o "$out.time.txt" "$bin" scale --em "$case_dir/em.mrc" --model-map "$case_dir/model.mrc" \
    --mask "$case_dir/mask.mrc" --out "$out" "$@"
grep -E "Elapsed|User time|System time|Maximum resident" "$out.time.txt"
