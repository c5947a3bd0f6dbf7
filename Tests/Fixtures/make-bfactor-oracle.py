#!/usr/bin/env python3
"""Float64 numpy oracle of the local B factor (issue 14; LocalBFactorObserver in
Sources/LocScaleCore/Scaling/LocalBFactors.swift), computed directly from the definition:

  for a voxel c: cut the w^3 cube of the experimental map around c (index w//2 at c; outside the
  box the map's mean over mask < 0.5), zero-pad it to P^3 (exact rule; P the smooth size >=
  pad_factor * w), FFT, per shell s = round(|k|) of the wrapped frequency over the whole spectrum
  the mean power PE(s)/n(s); shells with 1/from <= s/(P*voxel) <= min(1/to, 1/(2*voxel)) are fitted
  by a least-squares line ln sqrt(PE/n) = a + slope * (s/(P*voxel))^2, and B = -4 * slope (A^2;
  amplitude ~ exp(-B s^2/4)).
  locscale2 rule: no padding; LocScale 2's profile shells n = floor(|raw rfft index|) <= w/2 of
  the rfftn half-spectrum, mean amplitude per shell, s = n/(w*voxel); B from ln(mean amplitude).

Inputs: the committed oracle maps em.mrc (non-cubic, non-zero origin) and b_em.mrc (non-cubic,
non-zero nstart) with their masks (Tests/Fixtures/make_fixtures.py). For each case a fixed,
seeded choice of masked voxels (with some whose cubes leave the box). Writes
Tests/Fixtures/data/bfactor_cases.json. Deterministic. Run:
  python3 Tests/Fixtures/make-bfactor-oracle.py      (numpy, mrcfile)
"""
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import DATA, cut_cube, extended, outside_mean, padded_size, read_map  # noqa: E402

# (experimental map, mask, window, rule, pad factor, fit from A, fit to A or None, voxels)
CASES = (
    ("em.mrc", "mask.mrc", 10, "exact", 1.0, 10.0, None, 30),
    ("em.mrc", "mask.mrc", 10, "exact", 2.0, 10.0, None, 30),
    ("b_em.mrc", "b_mask.mrc", 9, "exact", 1.0, 10.0, None, 30),
    ("b_em.mrc", "b_mask.mrc", 9, "exact", 2.0, 8.0, 3.0, 30),
    ("em.mrc", "mask.mrc", 10, "compat", None, 10.0, None, 30),
)


def fit_b(freq, amplitude):
    """B = -4 x the least-squares slope of ln(amplitude) against freq^2 (freq in 1/A)."""
    x = freq ** 2
    y = np.log(amplitude)
    slope = np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2)
    return -4.0 * slope


def fitted(freq, lo, hi):
    tol = 1e-9
    return (freq >= lo * (1 - tol)) & (freq <= hi * (1 + tol))


def exact_b(cube, P, voxel, lo, hi):
    box = np.zeros((P, P, P))
    w = cube.shape[0]
    box[:w, :w, :w] = cube
    power = np.abs(np.fft.fftn(box)) ** 2
    k = np.fft.fftfreq(P) * P  # wrapped integer frequencies
    shell = np.rint(np.sqrt(k[:, None, None] ** 2 + k[None, :, None] ** 2 + k[None, None, :] ** 2)).astype(int)
    nshell = shell.max() + 1
    pe = np.bincount(shell.ravel(), weights=power.ravel(), minlength=nshell)
    count = np.bincount(shell.ravel(), minlength=nshell)
    freq = np.arange(nshell) / (P * voxel)
    sel = fitted(freq, lo, hi)
    return fit_b(freq[sel], np.sqrt(pe[sel] / count[sel])), freq[sel]


def compat_b(cube, voxel, lo, hi):
    w = cube.shape[0]
    amplitude = np.abs(np.fft.rfftn(cube))
    kz, ky, kx = np.meshgrid(np.arange(w), np.arange(w), np.arange(w // 2 + 1), indexing="ij")
    shell = np.floor(np.sqrt(kz ** 2 + ky ** 2 + kx ** 2)).astype(int)
    nodes = w // 2 + 1
    keep = shell < nodes
    total = np.bincount(shell[keep], weights=amplitude[keep], minlength=nodes)
    count = np.bincount(shell[keep], minlength=nodes)
    freq = np.arange(nodes) / (w * voxel)
    sel = fitted(freq, lo, hi)
    return fit_b(freq[sel], total[sel] / count[sel]), freq[sel]


def main():
    rng = np.random.default_rng(14)
    cases = []
    for em_name, mask_name, w, rule, pad, fit_from, fit_to, nvox in CASES:
        em, vsize, origin, nstart = read_map(os.path.join(DATA, em_name))
        mask = read_map(os.path.join(DATA, mask_name))[0]
        voxel = sum(vsize) / 3
        assert max(vsize) - min(vsize) < 1e-6
        lo, hi = 1 / fit_from, min(1 / fit_to if fit_to else math.inf, 0.5 / voxel)
        ext = extended(em, w, outside_mean(em, mask))
        masked = np.flatnonzero(mask.ravel() >= 0.5)
        chosen = np.sort(rng.choice(masked, nvox, replace=False))
        # and the masked voxels nearest to two corners of the box (cubes beyond the edge)
        coords = np.array(np.unravel_index(masked, em.shape)).T
        corners = [masked[np.argmin(coords.sum(axis=1))], masked[np.argmax(coords.sum(axis=1))]]
        voxels = sorted(set(int(v) for v in chosen) | set(int(v) for v in corners))
        P = padded_size(w, pad) if rule == "exact" else w
        values, freq = [], None
        for i in voxels:
            c = np.unravel_index(i, em.shape)
            cube = cut_cube(ext, c, w)
            b, freq = exact_b(cube, P, voxel, lo, hi) if rule == "exact" else compat_b(cube, voxel, lo, hi)
            values.append(float(b))
        cases.append(dict(em=em_name, model=em_name.replace("em", "model"), mask=mask_name, window=w,
                          mode=rule, pad_factor=pad if rule == "exact" else "compat", guinier_from=fit_from,
                          guinier_to=fit_to, padded_size=P, voxel_size=voxel, origin_xyz=list(origin),
                          nstart_xyz=list(nstart), fit_frequencies=[float(f) for f in freq],
                          voxels=voxels, bfactors=values))
        print("%s w%d %s pad %s: %d voxels, %d shells, B %.1f .. %.1f A^2"
              % (em_name, w, rule, pad, len(voxels), len(freq), min(values), max(values)))
    with open(os.path.join(DATA, "bfactor_cases.json"), "w") as f:
        json.dump(dict(generator="Tests/Fixtures/make-bfactor-oracle.py", cases=cases), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
