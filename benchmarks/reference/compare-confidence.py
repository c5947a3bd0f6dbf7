#!/usr/bin/env python3
"""Compares localscale's confidence map and mask with LocScale 2.4.1's (ls2-confidence.py).

    python3 benchmarks/reference/compare-confidence.py OURS.mrc OURS_MASK.mrc LS2.mrc LS2_MASK.mrc

Prints the relative RMS of the confidence maps (RMS of the difference / RMS of LocScale 2's),
the largest difference, the voxels whose mask bit differs (count, % of the box) and the largest
distance of their confidence from 0.99; exits 1 when the relative RMS exceeds 1e-4 or more than
0.1 % of the voxels differ.
"""
import sys

import mrcfile
import numpy as np


def read(path):
    with mrcfile.open(path) as m:
        return m.data.astype(np.float64)


def main():
    ours, our_mask, ref, ref_mask = (read(p) for p in sys.argv[1:5])
    rel = np.sqrt(np.mean((ours - ref) ** 2)) / np.sqrt(np.mean(ref ** 2))
    differ = (our_mask >= 0.5) != (ref_mask >= 0.5)
    at = np.abs(ref[differ] - 0.99).max() if differ.any() else 0.0
    print(f"confidence relative RMS {rel:.3e}, max |diff| {np.abs(ours - ref).max():.3e}; "
          f"mask: {int((ref_mask >= 0.5).sum())} voxels, {int(differ.sum())} differ "
          f"({100 * differ.mean():.4f} %), largest |confidence - 0.99| among them {at:.2e}")
    sys.exit(0 if rel <= 1e-4 and differ.mean() <= 1e-3 else 1)


if __name__ == "__main__":
    main()
