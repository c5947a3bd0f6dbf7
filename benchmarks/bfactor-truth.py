#!/usr/bin/env python3
"""Recovered local B maps against the known B field of a benchmarks/make-ribosome-map case.

  benchmarks/bfactor-truth.py CASE_DIR B_DIR [stride]
  benchmarks/bfactor-truth.py --mask MASK.mrc B_DIR [stride]     (no truth: fast against exact only)

CASE_DIR holds case.json and mask.mrc from make-ribosome-map; B_DIR the bfactor-*.mrc maps of
localscale-bfactor-bench (exact mode on the stride lattice, fast mode everywhere in the mask).
The truth is make-ribosome-map's own field: B(r) = b_core + (b_surface - b_core) * t^2 (3 - 2t),
t = min(|r - centre| / r_ref, 1), the blur added to the model map (the model's atoms carry their
own B of 20..80 A^2, also rising outwards, so the recovered B is the truth plus the model's
falloff: the correlation, not the offset, is the measure). Prints, per map, the Pearson
correlation with the truth inside the mask (mask >= 0.5, on the stride lattice, fitted voxels),
the mean offset, and fast mode against exact mode at the same pad factor on the same voxels.
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
    args = sys.argv[1:]
    if args[0] == "--mask":
        mask, truth = read(args[1]) >= 0.5, None
        args = args[2:]
    else:
        case = json.load(open(os.path.join(args[0], "case.json")))
        n, vox = case["size"], case["voxel"]
        i = (np.arange(n) * vox - n * vox / 2.0) / case["r_ref_A"]
        t = np.clip(np.sqrt(i[:, None, None] ** 2 + i[None, :, None] ** 2 + i[None, None, :] ** 2), 0, 1)
        truth = case["b_core"] + (case["b_surface"] - case["b_core"]) * t * t * (3 - 2 * t)
        mask = read(os.path.join(args[0], "mask.mrc")) >= 0.5
        args = args[1:]
    b_dir = args[0]
    stride = int(args[1]) if len(args) > 1 else 1
    lattice = np.zeros_like(mask)
    lattice[::stride, ::stride, ::stride] = True
    select = mask & lattice
    maps = {os.path.basename(p)[8:-4]: read(p) for p in sorted(glob.glob(os.path.join(b_dir, "bfactor-*.mrc")))}
    print("mask %d voxels, %d on the stride-%d lattice" % (mask.sum(), select.sum(), stride))
    for name, b in maps.items():
        fitted = select & (b != 0)
        print("%-10s B %.1f +- %.1f A^2 over %d voxels (%d failed fits)"
              % (name, b[fitted].mean(), b[fitted].std(), fitted.sum(), (select & (b == 0)).sum()))
        if truth is not None:
            r = np.corrcoef(b[fitted], truth[fitted])[0, 1]
            print("%-10s Pearson r with the truth (%.0f..%.0f A^2) %.4f, B - truth %.1f +- %.1f A^2"
                  % (name, truth[fitted].min(), truth[fitted].max(), r, (b - truth)[fitted].mean(),
                     (b - truth)[fitted].std()))
        if name.startswith("fast") and "exact" + name[4:] in maps:
            full = mask & (b != 0)
            if truth is not None:
                print("%-10s over the whole mask: Pearson r with the truth %.4f over %d voxels"
                      % (name, np.corrcoef(b[full], truth[full])[0, 1], full.sum()))
            e = maps["exact" + name[4:]]
            both = fitted & (e != 0)
            d = b[both] - e[both]
            print("%-10s against exact at the same pad: Pearson r %.4f, difference %.2f +- %.2f A^2, "
                  "max |diff| %.1f A^2, relative RMS %.4f"
                  % (name, np.corrcoef(b[both], e[both])[0, 1], d.mean(), d.std(), np.abs(d).max(),
                     np.sqrt(np.mean(d ** 2) / np.mean(e[both] ** 2))))


if __name__ == "__main__":
    main()
