#!/usr/bin/env bash
# Fetch EMD-3488 (haemoglobin, 100^3, 1.05 Å) and PDB 5ME2 from the PyPI wheel ccpem-utils==0.0.1.dev34
# into a cache folder, and make a gemmi model map + soft mask on exactly the EMD-3488 grid.
#   Tests/Fixtures/fetch_emd3488.sh [CACHE_DIR]      (default /tmp/localscale-testdata)
# Idempotent: whatever already exists is kept. Needs python3 with numpy, mrcfile, gemmi (pip).
set -euo pipefail
CACHE="${1:-/tmp/localscale-testdata}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WHEEL_NAME="ccpem_utils-0.0.1.dev34-py3-none-any.whl"
mkdir -p "$CACHE"

if ! python3 -c 'import numpy, mrcfile, gemmi' 2>/dev/null; then
  echo "installing python packages numpy mrcfile gemmi (pip)" >&2
  python3 -m pip install --quiet numpy mrcfile gemmi
fi

if [ ! -f "$CACHE/$WHEEL_NAME" ]; then
  python3 -m pip download --quiet --no-deps "ccpem-utils==0.0.1.dev34" -d "$CACHE"
fi

# extract the files we use; list the test data the wheel ships
python3 - "$CACHE/$WHEEL_NAME" "$CACHE" <<'EOF'
import os, sys, zipfile
wheel, cache = sys.argv[1], sys.argv[2]
prefix = "ccpem_utils_tests/test_data/"
wanted = ["emd_3488.mrc", "5me2.pdb", "emd_3488_contour_mask.mrc", "5ni1_updated.cif"]
with zipfile.ZipFile(wheel) as z:
    names = [i for i in z.infolist() if i.filename.startswith(prefix) and not i.filename.endswith("/")]
    if not os.path.exists(os.path.join(cache, "wheel_test_data.txt")):
        with open(os.path.join(cache, "wheel_test_data.txt"), "w") as f:
            for i in names:
                f.write(f"{i.file_size:10d}  {i.filename}\n")
    for w in wanted:
        out = os.path.join(cache, w)
        if os.path.exists(out):
            continue
        if prefix + w not in z.namelist():
            print(f"note: {w} is not in the wheel", file=sys.stderr)
            continue
        with z.open(prefix + w) as src, open(out + ".part", "wb") as dst:
            dst.write(src.read())
        os.replace(out + ".part", out)
EOF

if [ ! -f "$CACHE/emd3488_model.mrc" ] || [ ! -f "$CACHE/emd3488_mask.mrc" ]; then
  python3 "$HERE/emd3488_model_map.py" "$CACHE/emd_3488.mrc" "$CACHE/5me2.pdb" \
    "$CACHE/emd3488_model.mrc.part.mrc" "$CACHE/emd3488_mask.mrc.part.mrc"
  mv "$CACHE/emd3488_model.mrc.part.mrc" "$CACHE/emd3488_model.mrc"
  mv "$CACHE/emd3488_mask.mrc.part.mrc" "$CACHE/emd3488_mask.mrc"
fi

echo "wheel test data listed in: $CACHE/wheel_test_data.txt"
for f in emd_3488.mrc 5me2.pdb 5ni1_updated.cif emd_3488_contour_mask.mrc emd3488_model.mrc emd3488_mask.mrc; do
  [ -f "$CACHE/$f" ] && echo "$CACHE/$f"
done
