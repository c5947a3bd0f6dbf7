#!/usr/bin/env python3
"""Agreement of two maps inside a mask: relative RMS sqrt(Σ(a−b)²/Σb²) and correlation.

    benchmarks/compare-maps.py OURS.mrc REFERENCE.mrc MASK.mrc [--brief]

--brief prints one line, "CORRELATION / RELATIVE_RMS", for tables.
"""
import sys

import mrcfile
import numpy as np

ours, reference, mask = (mrcfile.open(p, permissive=True).data.astype(np.float64) for p in sys.argv[1:4])
inside = mask >= 0.5
a, b = ours[inside], reference[inside]
if "--brief" in sys.argv[4:]:
    print(f"{np.corrcoef(a, b)[0, 1]:.5f} / {np.sqrt(np.sum((a - b) ** 2) / np.sum(b ** 2)):.4f}")
    sys.exit(0)
print(f"voxels in mask      {inside.sum()}")
print(f"relative RMS        {np.sqrt(np.sum((a - b) ** 2) / np.sum(b ** 2)):.3e}")
print(f"correlation         {np.corrcoef(a, b)[0, 1]:.7f}")
print(f"max |difference|    {np.abs(a - b).max():.3e} (max |reference| {np.abs(b).max():.3e})")
print(f"outside mask: ours non-zero {np.count_nonzero(ours[~inside])}, reference non-zero {np.count_nonzero(reference[~inside])}")
