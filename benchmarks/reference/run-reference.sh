#!/usr/bin/env bash
# Run the reference LocScale 2.4.1 on a benchmark case in model-map mode, one thread per
# process, under /usr/bin/time -v, and record its cost.
#
#   benchmarks/reference/run-reference.sh CASE_DIR [WINDOW=22] [OUT=CASE_DIR/ref_wWINDOW.mrc]
#
# CASE_DIR holds em.mrc, model.mrc, mask.mrc (benchmarks/make_synthetic.py writes them).
# Writes, next to OUT (say OUT = X.mrc):
#   X.mrc                 the reference's output map
#   X.json                wall s, user/sys/CPU s, peak RSS, masked voxels, CPU us per voxel,
#                         output shape/origin/voxel size, NaN count
#   X.log                 the reference's stdout+stderr
#   X.time.txt            /usr/bin/time -v report
#   X.processing_files/   the reference's processing directory (-op): copies of the inputs,
#                         locscale.log. Without -op it would create CASE_DIR/processing_files.
# Environment: LS2_VENV (default /tmp/ls2-venv, made by install-reference.sh);
#   LS2_PROCS=N (default 1) processes, through LS2_PATH=mpi (mpirun -np N ... -mpi, each rank
#   timed on its own: X.time.RANK.txt) or LS2_PATH=joblib (locscale -np N, one tree timed).
# Paths are made absolute: the reference writes a relative -o next to the EM map, not in $PWD.
set -euo pipefail

if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
    sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi

VENV=${LS2_VENV:-/tmp/ls2-venv}
PROCS=${LS2_PROCS:-1}
PATH_KIND=${LS2_PATH:-mpi}
CASE=$(cd "$1" && pwd)
WN=${2:-22}
OUT=${3:-$CASE/ref_w$WN.mrc}
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
mkdir -p "$(dirname "$OUT")"
OUT="$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")"
STEM=${OUT%.mrc}

for f in em.mrc model.mrc mask.mrc; do
    [ -f "$CASE/$f" ] || { echo "missing $CASE/$f" >&2; exit 1; }
done
[ -x "$VENV/bin/locscale" ] || { echo "no $VENV/bin/locscale: run benchmarks/reference/install-reference.sh" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time missing: apt-get install time" >&2; exit 1; }

PROC="$STEM.processing_files"
rm -rf "$PROC"
mkdir -p "$PROC"
rm -f "$OUT"

# one process, one thread everywhere; CPU only
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMEXPR_NUM_THREADS=1 \
       VECLIB_MAXIMUM_THREADS=1 TORCH_NUM_THREADS=1 CUDA_VISIBLE_DEVICES=""

CMD=("$VENV/bin/locscale" -em "$CASE/em.mrc" -mm "$CASE/model.mrc" -ma "$CASE/mask.mrc"
     -wn "$WN" -o "$OUT" -op "$PROC" -v)
echo "+ (cd $PROC && OMP_NUM_THREADS=1 ... /usr/bin/time -v ${CMD[*]})" | tee "$STEM.log"

rm -f "$STEM".time*.txt
set +e
if [ "$PROCS" -gt 1 ] && [ "$PATH_KIND" = mpi ]; then
    # one /usr/bin/time per rank, so that peak memory is per process
    (cd "$PROC" && OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 /usr/bin/time -v -o "$STEM.time.txt" \
        mpirun -np "$PROCS" sh -c '/usr/bin/time -v -o "$0.time.$OMPI_COMM_WORLD_RANK.txt" "$@"' "$STEM" "${CMD[@]}" -mpi) >>"$STEM.log" 2>&1
elif [ "$PROCS" -gt 1 ]; then
    (cd "$PROC" && /usr/bin/time -v -o "$STEM.time.txt" "${CMD[@]}" -np "$PROCS") >>"$STEM.log" 2>&1
else
    (cd "$PROC" && /usr/bin/time -v -o "$STEM.time.txt" "${CMD[@]}") >>"$STEM.log" 2>&1
fi
RC=$?
set -e
tail -n 5 "$STEM.log"

"$VENV/bin/python" - "$CASE" "$WN" "$OUT" "$STEM" "$RC" "$PROCS" "$PATH_KIND" <<'EOF'
import glob, json, re, sys, os
import numpy as np, mrcfile
case, wn, out, stem, rc = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
procs, path_kind = int(sys.argv[6]), sys.argv[7]
def field(name, text=None):
    m = re.search(r"^\s*" + re.escape(name) + r":\s*(.+)$", text or t, re.M)
    return m.group(1).strip() if m else None
t = open(stem + ".time.txt").read()
ranks = [open(f).read() for f in sorted(glob.glob(stem + ".time.[0-9]*.txt"))]
el = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
wall = 0.0
for part in el.split(":"):
    wall = wall * 60 + float(part)
timed = ranks or [t]
user = sum(float(field("User time (seconds)", r)) for r in timed)
sys_ = sum(float(field("System time (seconds)", r)) for r in timed)
rss_kb = max(int(field("Maximum resident set size (kbytes)", r)) for r in timed)
with mrcfile.open(os.path.join(case, "mask.mrc"), permissive=True) as m:
    masked = int(np.count_nonzero(m.data >= 0.5))
res = {
    "reference": "locscale 2.4.1", "case": case, "window": wn, "processes": procs, "threads": 1,
    "path": path_kind if procs > 1 else "serial",
    "max_rss_mb_per_rank": [round(int(field("Maximum resident set size (kbytes)", r)) / 1024.0, 1) for r in ranks],
    "exit_status": rc, "output": out,
    "wall_s": round(wall, 2), "user_s": user, "sys_s": sys_, "cpu_s": round(user + sys_, 2),
    "max_rss_mb": round(rss_kb / 1024.0, 1), "masked_voxels": masked,
    "cpu_us_per_voxel": round((user + sys_) * 1e6 / masked, 1) if masked else None,
    "wall_us_per_voxel": round(wall * 1e6 / masked, 1) if masked else None,
    "cpu_percent": field("Percent of CPU this job got"),
    "host_cpus": os.cpu_count(), "loadavg_after": os.getloadavg()[0],
}
if os.path.exists(out):
    with mrcfile.open(out, permissive=True) as m:
        d = m.data
        res["output_shape_zyx"] = list(d.shape)
        res["output_origin"] = [float(m.header.origin.x), float(m.header.origin.y), float(m.header.origin.z)]
        res["output_nstart"] = [int(m.header.nxstart), int(m.header.nystart), int(m.header.nzstart)]
        res["output_voxel"] = [float(m.voxel_size.x), float(m.voxel_size.y), float(m.voxel_size.z)]
        res["output_mode"] = int(m.header.mode)
        res["output_nan_voxels"] = int(np.count_nonzero(np.isnan(d)))
        res["output_nonzero_voxels"] = int(np.count_nonzero(d))
with open(stem + ".json", "w") as f:
    json.dump(res, f, indent=1)
    f.write("\n")
print(json.dumps(res, indent=1))
EOF
exit $RC
