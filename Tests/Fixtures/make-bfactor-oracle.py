#!/usr/bin/env python3
"""Float64 numpy oracle of the local B map (issue 14; LocalBFactorMap in
Sources/LocScaleCore/Scaling/LocalBFactors.swift, docs/KERNEL.md §8), computed from the definition:

  for a voxel c (with stride > 1: the lattice voxel nearest to c, per axis the nearest multiple of
  the stride, halves up, within the box): cut the w^3 cube of the experimental map around it (index
  w//2 at it; outside the box the map's mean over mask < 0.5), remove the cube's mean, multiply by
  the separable Hann window numpy.hanning(w + 2)[1:-1], FFT (w^3, no padding), per shell
  s = round(|k|) of the wrapped frequency over the whole spectrum the mean power P(s) at
  f = s/(w*voxel); subtract the noise power N = sigma^2 * sum(hann^3 ** 2); over the shells with
  1/from <= f <= min(1/to, 1/(2*voxel)), in order, keep those before the first whose P - N is not
  above N/2; least-squares line ln(P - N) = a + slope * f^2 and B = -2 * slope (A^2; amplitude
  ~ exp(-B f^2/4)). Fewer than 3 shells: B = 0 (a failed fit).

Inputs: the committed oracle maps em.mrc (non-cubic, non-zero origin) and b_em.mrc (non-cubic,
non-zero nstart) with their masks (Tests/Fixtures/make_fixtures.py); sigma^2 a fixed fraction of
the map's variance (or none). For each case a fixed, seeded choice of masked voxels (and the masked
voxels nearest to two corners, whose cubes leave the box); voxels whose noise stop lies within
1e-3 * N of the threshold are left out (float32 may decide them the other way). Writes
Tests/Fixtures/data/bfactor_cases.json.

The `scale --bfactor-map` cases (CLI_CASES; Tests/CLITests/LocalBMapCLITests.swift): every masked
voxel of the box, sigma^2 the population variance of the confidence map's noise region (LocScale
2's four edge cubes, make-confidence-oracle.py's `cubes`, window 10 % of NZ rounded up to even),
the fit's high end Nyquist; B of every voxel of the box (0 outside the mask) and the indices of
the voxels left out as above. Writes Tests/Fixtures/data/bfactor_cli_cases.json.

Deterministic. Run:
  python3 Tests/Fixtures/make-bfactor-oracle.py      (numpy, mrcfile)
"""
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import DATA, cut_cube, extended, outside_mean, read_map  # noqa: E402

# (experimental map, mask, window, noise variance / map variance or None, fit from A, to A or None, stride, voxels)
CASES = (
    ("em.mrc", "mask.mrc", 10, 0.02, 10.0, None, 1, 40),
    ("em.mrc", "mask.mrc", 10, None, 10.0, None, 1, 30),
    ("b_em.mrc", "b_mask.mrc", 9, 0.001, 12.0, 3.0, 1, 40),
    ("em.mrc", "mask.mrc", 8, 0.01, 12.0, None, 2, 40),
)


def lattice(c, shape, stride):
    return tuple(min((ci + stride // 2) // stride, (n - 1) // stride) * stride for ci, n in zip(c, shape))


def bfactor(cube, voxel, lo, hi, sigma2):
    """(B or 0, shells fitted, smallest |P - 2N| / N among the shells examined)."""
    w = cube.shape[0]
    h = np.hanning(w + 2)[1:-1]
    hann = h[:, None, None] * h[None, :, None] * h[None, None, :]
    power = np.abs(np.fft.fftn((cube - cube.mean()) * hann)) ** 2
    k = np.fft.fftfreq(w) * w
    shell = np.rint(np.sqrt(k[:, None, None] ** 2 + k[None, :, None] ** 2 + k[None, None, :] ** 2)).astype(int)
    mean_power = np.bincount(shell.ravel(), weights=power.ravel()) / np.bincount(shell.ravel())
    freq = np.arange(mean_power.size) / (w * voxel)
    tol = 1e-9
    sel = np.flatnonzero((freq >= lo * (1 - tol)) & (freq <= hi * (1 + tol)))
    noise = sigma2 * np.sum(hann ** 2)
    corrected = mean_power[sel] - noise
    above = corrected > noise / 2
    m = int(np.argmin(above)) if not above.all() else sel.size
    examined = corrected[:min(m + 1, sel.size)]
    margin = np.min(np.abs(examined - noise / 2)) / noise if noise > 0 else math.inf
    if m < 3:
        return 0.0, m, margin
    x = freq[sel[:m]] ** 2
    y = np.log(corrected[:m])
    slope = np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2)
    return -2.0 * slope, m, margin


# (experimental map, model map, mask, window, fit from A, stride) of `scale --bfactor-map`.
CLI_CASES = (
    ("em.mrc", "model.mrc", "mask.mrc", 8, 10.0, 1),
    ("b_em.mrc", "b_model.mrc", "b_mask.mrc", 8, 9.0, 2),
)


def noise_variance(em):
    """Population variance of the noise region's voxels (ARCHITECTURE 1.6), float64."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("confidence_oracle", os.path.join(HERE, "make-confidence-oracle.py"))
    oracle = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(oracle)
    edge = math.ceil(0.1 * em.shape[0])
    w = edge if edge % 2 == 0 else edge + 1
    return float(np.var(oracle.sample(em, oracle.cubes(em.shape, w))))


def cli_cases():
    cases = []
    for em_name, model_name, mask_name, w, fit_from, stride in CLI_CASES:
        em, vsize, origin, nstart = read_map(os.path.join(DATA, em_name))
        mask = read_map(os.path.join(DATA, mask_name))[0]
        voxel = sum(vsize) / 3
        lo, hi = 1 / fit_from, 0.5 / voxel
        sigma2 = noise_variance(em)
        ext = extended(em, w, outside_mean(em, mask))
        values = np.zeros(em.size)
        uncertain, failed = [], 0
        for i in np.flatnonzero(mask.ravel() >= 0.5):
            c = lattice(np.unravel_index(i, em.shape), em.shape, stride)
            b, m, margin = bfactor(cut_cube(ext, c, w), voxel, lo, hi, sigma2)
            values[i] = b
            failed += m < 3
            if margin < 1e-3:
                uncertain.append(int(i))
        cases.append(dict(em=em_name, model=model_name, mask=mask_name, window=w, guinier_from=fit_from,
                          stride=stride, noise_variance=sigma2, failed=failed, uncertain=uncertain,
                          bfactors=[round(float(v), 6) for v in values]))
        print("CLI %s w%d stride %d: sigma^2 %.6g, %d masked voxels, %d failed, %d uncertain" % (
            em_name, w, stride, sigma2, int((mask >= 0.5).sum()), failed, len(uncertain)))
    with open(os.path.join(DATA, "bfactor_cli_cases.json"), "w") as f:
        json.dump(dict(generator="Tests/Fixtures/make-bfactor-oracle.py", cases=cases), f, indent=None)
        f.write("\n")


def main():
    rng = np.random.default_rng(14)
    cases = []
    for em_name, mask_name, w, noise_fraction, fit_from, fit_to, stride, nvox in CASES:
        em, vsize, origin, nstart = read_map(os.path.join(DATA, em_name))
        mask = read_map(os.path.join(DATA, mask_name))[0]
        voxel = sum(vsize) / 3
        assert max(vsize) - min(vsize) < 1e-6
        lo, hi = 1 / fit_from, min(1 / fit_to if fit_to else math.inf, 0.5 / voxel)
        sigma2 = float(np.float32(noise_fraction * em.var())) if noise_fraction else 0.0
        ext = extended(em, w, outside_mean(em, mask))
        masked = np.flatnonzero(mask.ravel() >= 0.5)
        chosen = rng.choice(masked, nvox, replace=False)
        coords = np.array(np.unravel_index(masked, em.shape)).T
        corners = [masked[np.argmin(coords.sum(axis=1))], masked[np.argmax(coords.sum(axis=1))]]
        voxels, values, shells, skipped = [], [], [], 0
        for i in sorted(set(int(v) for v in chosen) | set(int(v) for v in corners)):
            c = lattice(np.unravel_index(i, em.shape), em.shape, stride)
            b, m, margin = bfactor(cut_cube(ext, c, w), voxel, lo, hi, sigma2)
            if margin < 1e-3:
                skipped += 1
                continue
            voxels.append(i)
            values.append(float(b))
            shells.append(m)
        cases.append(dict(em=em_name, model=em_name.replace("em", "model"), mask=mask_name, window=w,
                          noise_variance=sigma2 if noise_fraction else None, guinier_from=fit_from,
                          guinier_to=fit_to, stride=stride, voxel_size=voxel, origin_xyz=list(origin),
                          nstart_xyz=list(nstart), voxels=voxels, shells=shells, bfactors=values))
        print("%s w%d noise %s stride %d: %d voxels (%d near the noise threshold left out), shells %d..%d, "
              "%d failed, B %.1f .. %.1f A^2" % (em_name, w, sigma2, stride, len(voxels), skipped, min(shells),
                                                max(shells), values.count(0.0), min(values), max(values)))
    with open(os.path.join(DATA, "bfactor_cases.json"), "w") as f:
        json.dump(dict(generator="Tests/Fixtures/make-bfactor-oracle.py", cases=cases), f, indent=1)
        f.write("\n")
    cli_cases()


if __name__ == "__main__":
    main()
