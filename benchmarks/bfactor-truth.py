#!/usr/bin/env python3
"""Recovered local B maps against the known B field of a benchmarks/make-ribosome-map case.

  benchmarks/bfactor-truth.py CASE_DIR B_DIR

CASE_DIR holds case.json and mask.mrc from make-ribosome-map; B_DIR the bfactor-*.mrc maps of
localscale-bfactor-bench (every masked voxel; B = 0 where the fit failed). The truth is
make-ribosome-map's own field: B(r) = b_core + (b_surface - b_core) * t^2 (3 - 2t),
t = min(|r - centre| / r_ref, 1), the blur added to the model map (the model's atoms carry their
own B of 20..80 A^2, also rising outwards, so the recovered B is the truth plus the model's
falloff: the correlation, not the offset, is the measure). Prints, per map, the Pearson
correlation with the truth inside the mask (mask >= 0.5) over the fitted voxels and over all
(failed fits as 0), the mean offset, and each map against the first (stride 1).
"""
import glob
import json
import os
import sys

import mrcfile
import numpy as np


def read(path):
    with mrcfile.open(path, permissive=True) as m:
        return np.asarray(m.data, dtype=np.float64)


def main():
    case_dir, b_dir = sys.argv[1:3]
    case = json.load(open(os.path.join(case_dir, "case.json")))
    n, vox = case["size"], case["voxel"]
    i = (np.arange(n) * vox - n * vox / 2.0) / case["r_ref_A"]
    t = np.clip(np.sqrt(i[:, None, None] ** 2 + i[None, :, None] ** 2 + i[None, None, :] ** 2), 0, 1)
    truth = case["b_core"] + (case["b_surface"] - case["b_core"]) * t * t * (3 - 2 * t)
    mask = read(os.path.join(case_dir, "mask.mrc")) >= 0.5
    maps = {os.path.basename(p)[8:-4]: read(p) for p in sorted(glob.glob(os.path.join(b_dir, "bfactor-*.mrc")))}
    print("mask %d voxels" % mask.sum())
    first = None
    for name, b in maps.items():
        fitted = mask & (b != 0)
        print("%-8s B %.1f +- %.1f A^2 over %d voxels (%d failed fits, truth there %.0f +- %.0f A^2)"
              % (name, b[fitted].mean(), b[fitted].std(), fitted.sum(), (mask & (b == 0)).sum(),
                 truth[mask & (b == 0)].mean() if (mask & (b == 0)).any() else 0,
                 truth[mask & (b == 0)].std() if (mask & (b == 0)).any() else 0))
        print("%-8s Pearson r with the truth (%.0f..%.0f A^2) %.4f over the fitted voxels, %.4f over the mask; "
              "B - truth %.1f +- %.1f A^2"
              % (name, truth[fitted].min(), truth[fitted].max(), np.corrcoef(b[fitted], truth[fitted])[0, 1],
                 np.corrcoef(b[mask], truth[mask])[0, 1], (b - truth)[fitted].mean(), (b - truth)[fitted].std()))
        if first is None:
            first = (name, b)
        else:
            both = fitted & (first[1] != 0)
            d = b[both] - first[1][both]
            print("%-8s against %s: Pearson r %.4f, difference %.2f +- %.2f A^2, max |diff| %.1f A^2"
                  % (name, first[0], np.corrcoef(b[both], first[1][both])[0, 1], d.mean(), d.std(), np.abs(d).max()))


if __name__ == "__main__":
    main()
