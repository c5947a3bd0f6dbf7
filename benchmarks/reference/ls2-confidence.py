#!/usr/bin/env python3
"""LocScale 2.4.1's FDR confidence map and mask of a map, as its automatic mask makes them.

    /tmp/ls2-venv/bin/python benchmarks/reference/ls2-confidence.py MAP.mrc OUTDIR [WINDOW]

Calls LocScale 2.4.1's own `locscale.preprocessing.headers.run_FDR(emmap_path, window_size,
fdr=0.01)` — what `locscale` runs without `-ma` in model-map mode (no filter cutoff,
averaging_filter_size 3) — on a copy of MAP in OUTDIR, with its default window
(`prepare_inputs_for_FDR`: round_up_to_even(0.1 * shape[0])) unless WINDOW is given. Writes
OUTDIR/ls2_confidence.mrc (run_FDR's `_confidenceMap_raw.mrc`: 1 - q) and OUTDIR/ls2_mask.mrc
(its `_confidenceMap.mrc`: confidence >= 0.99), and prints the window and the seconds.
"""
import os
import shutil
import sys
import time

from locscale.preprocessing.headers import run_FDR
from locscale.utils.math_tools import round_up_to_even
import mrcfile


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    source, outdir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.makedirs(outdir, exist_ok=True)
    emmap = os.path.join(outdir, "ls2_input.mrc")
    shutil.copyfile(source, emmap)
    with mrcfile.open(emmap) as m:
        shape = m.data.shape
    window = int(sys.argv[3]) if len(sys.argv) == 4 else round_up_to_even(shape[0] * 0.1)
    start = time.time()
    mask_path, raw_path = run_FDR(emmap_path=emmap, window_size=window, fdr=0.01, verbose=False)
    seconds = time.time() - start
    shutil.move(raw_path, os.path.join(outdir, "ls2_confidence.mrc"))
    shutil.move(mask_path, os.path.join(outdir, "ls2_mask.mrc"))
    print(f"window {window}, {seconds:.1f} s")


if __name__ == "__main__":
    main()
