#!/usr/bin/env python3
"""Why the local B of the window spectra misses make-ribosome-map's B field, and what would not.

  benchmarks/bfactor-window-study.py CASE_DIR [voxels] [seed]

For a random sample of masked voxels of a make-ribosome-map case (window: LocScale's default,
pad 1) this float64 prototype fits B = -4 x slope of ln(shell RMS amplitude) against s^2 from
10 A to several upper limits, for
  hard   the window as the kernel sees it (localscale's definition, LocalBFactorObserver);
  hann   the window minus its mean, times a separable Hann window (no edge discontinuity);
and, with the case's known noise sigma, "noise-corrected": the expected white-noise power
subtracted per shell and the fit stopped at the first shell whose corrected power is below the
noise (voxels with fewer than 3 such shells left out). Prints the Pearson correlation with the
case's B field (the blur make-ribosome-map applied) and the mean B.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures"))
from make_fixtures import cut_cube, extended, outside_mean, read_map  # noqa: E402


def main():
    case_dir = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    rng = np.random.default_rng(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    em, voxel, _, _ = read_map(os.path.join(case_dir, "em.mrc"))
    mask = read_map(os.path.join(case_dir, "mask.mrc"))[0]
    case = json.load(open(os.path.join(case_dir, "case.json")))
    v, n = voxel[0], em.shape[0]
    i = (np.arange(n) * v - n * v / 2.0) / case["r_ref_A"]
    t = np.clip(np.sqrt(i[:, None, None] ** 2 + i[None, :, None] ** 2 + i[None, None, :] ** 2), 0, 1)
    truth = case["b_core"] + (case["b_surface"] - case["b_core"]) * t * t * (3 - 2 * t)
    w = int(np.ceil(25 / v)); w += w % 2
    ext = extended(em, w, outside_mean(em, mask))
    voxels = rng.choice(np.flatnonzero(mask.ravel() >= 0.5), count, replace=False)
    k = np.fft.fftfreq(w) * w
    shell = np.rint(np.sqrt(k[:, None, None] ** 2 + k[None, :, None] ** 2 + k[None, None, :] ** 2)).astype(int)
    coefficients = np.bincount(shell.ravel())
    freq = np.arange(coefficients.size) / (w * v)
    h = np.hanning(w + 2)[1:-1]
    windows = {"hard": np.ones((w, w, w)), "hann": h[:, None, None] * h[None, :, None] * h[None, None, :]}
    truths = truth.ravel()[voxels]
    sigma = case["noise_sigma"]
    print("%s: %d^3 x %g A, window %d, %d voxels, noise sigma %.4g; r = Pearson with the B field"
          % (case_dir, n, v, w, count, sigma))
    for name, apodisation in windows.items():
        powers = []
        for c in voxels:
            cube = cut_cube(ext, np.unravel_index(c, em.shape), w)
            if name != "hard":
                cube = (cube - cube.mean()) * apodisation
            power = np.abs(np.fft.fftn(cube)) ** 2
            powers.append(np.bincount(shell.ravel(), weights=power.ravel()) / coefficients)
        powers = np.array(powers)
        noise = sigma ** 2 * np.sum(apodisation ** 2)
        for highest in (0.5 / v, 0.4 / v, 0.3 / v, 0.25 / v):
            sel = np.flatnonzero((freq >= 0.1 - 1e-9) & (freq <= highest + 1e-9))
            x = freq[sel] ** 2 - np.mean(freq[sel] ** 2)
            b = -2 * np.log(powers[:, sel]) @ x / (x @ x)
            fits, kept = [], []
            for j in range(count):
                p = powers[j, sel] - noise
                m = int(np.argmin(p > noise)) if not (p > noise).all() else p.size
                if m >= 3:
                    xm = freq[sel[:m]] ** 2 - np.mean(freq[sel[:m]] ** 2)
                    fits.append(-2 * np.log(p[:m]) @ xm / (xm @ xm))
                    kept.append(truths[j])
            corrected = ("r %.3f, mean %.0f A^2 over %d voxels" % (np.corrcoef(fits, kept)[0, 1], np.mean(fits),
                                                                 len(fits))) if len(fits) > 2 else "too few fits"
            print("%-4s 10 A .. %.2f A (%2d shells): r %+.3f, mean %4.0f A^2 | noise-corrected: %s"
                  % (name, 1 / highest, sel.size, np.corrcoef(b, truths)[0, 1], b.mean(), corrected))


if __name__ == "__main__":
    main()
