#!/usr/bin/env python3
"""Float64 numpy oracle of localscale's FDR confidence map (ARCHITECTURE §1.6), and its fixtures.

    python3 Tests/Fixtures/make-confidence-oracle.py      # needs numpy, mrcfile

Our definition is LocScale 2.4.1's `run_FDR` default (Beckers' `calculateConfidenceMap`):
  * noise: the four cubes of `window` voxels of `estimateNoiseFromMap` (central z planes; low/high
    y at 2 % from the edge, centred x; low/high x, centred y), mean and population variance;
  * tested voxels: `makeCircularMask`'s ball (radius max(shape)//2 on numpy.linspace coordinates);
  * p = 1 - 0.5 (1 + erf(t / sqrt 2)), t = (v - mean) / sd, p = 1 for t < 0;
  * q: Benjamini-Yekutieli with LocScale 2's H(n) series; confidence 1 - q in the ball, else 0;
  * mask: confidence >= 1 - fdr.
Writes into data/: conf_em.mrc (28 x 20 x 24 voxels z,y,x at 1.3 A, origin and nstart non-zero:
white noise to the edges plus a blob), conf_expected_w4.mrc (window 4, the default) and
conf_expected_w6_fdr5.mrc (window 6, FDR 5 %) with their masks conf_expected_*_mask.mrc, two maps
the program must refuse (conf_masked.mrc: solvent zeroed; conf_edge.mrc: a blob in the low-y
cube) and conf_cases.json with the expected refusal figures.
"""
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import DATA, write_map  # noqa: E402

VOXEL, ORIGIN, NSTART = 1.3, (12.5, -7.25, 30.0), (-3, 5, 2)


def cubes(shape, w):
    """(z, y, x) slices of the four noise cubes, in LocScale 2's order."""
    nz, ny, nx = shape
    z0, cy, cx = int(0.5 * nz - 0.5 * w), int(0.5 * ny - 0.5 * w), int(0.5 * nx - 0.5 * w)
    z = slice(z0, z0 + w)
    return [(z, slice(int(0.02 * ny), int(0.02 * ny) + w), slice(cx, cx + w)),
            (z, slice(int(0.98 * ny - w), int(0.98 * ny)), slice(cx, cx + w)),
            (z, slice(cy, cy + w), slice(int(0.02 * nx), int(0.02 * nx) + w)),
            (z, slice(cy, cy + w), slice(int(0.98 * nx) - w, int(0.98 * nx)))]


def corners(shape, w):
    return [(slice(a, a + w), slice(b, b + w), slice(c, c + w))
            for a in (0, shape[0] - w) for b in (0, shape[1] - w) for c in (0, shape[2] - w)]


def sample(em, slices):
    return np.concatenate([em[s].ravel() for s in slices])


def ball(shape):
    axes = [np.linspace(-math.floor(n / 2.0), -math.floor(n / 2.0) + n, n) for n in shape]
    zz, yy, xx = np.meshgrid(*axes, indexing="ij")
    d = np.sqrt(zz ** 2 + yy ** 2 + xx ** 2)
    return (d <= max(shape) // 2) & (d > 0)


def confidence(em, window, fdr):
    s = sample(em, cubes(em.shape, window))
    mean, var = s.mean(), s.var()
    inside = ball(em.shape)
    t = (em - mean) * (1.0 / math.sqrt(var))
    p = 1.0 - 0.5 * (1.0 + np.vectorize(math.erf)(t / math.sqrt(2.0)))
    p[t < 0] = 1.0
    pin = p[inside]
    n = pin.size
    hn = math.log(n) + 0.5772 + 0.5 / n - 1.0 / (12 * n ** 2) + 1.0 / (120 * n ** 4)
    order = np.argsort(pin, kind="stable")
    f = pin[order] * (n / np.arange(1, n + 1, dtype=np.float64)) * hn
    q_sorted = np.minimum(np.minimum.accumulate(f[::-1])[::-1], 1.0)
    q = np.ones(em.shape)
    q[inside] = q_sorted[np.argsort(order)]
    conf = np.where(inside, 1.0 - q, 0.0)
    return conf, conf >= 1.0 - fdr


def blob(shape, centre, radius, amplitude):
    z, y, x = np.indices(shape)
    r2 = (z - centre[0]) ** 2 + (y - centre[1]) ** 2 + (x - centre[2]) ** 2
    return amplitude * np.exp(-r2 / (2.0 * radius ** 2))


def main():
    shape = (28, 20, 24)
    rng = np.random.default_rng(14)
    em = (rng.normal(0.1, 1.0, shape) + blob(shape, (14, 10, 12), 3.0, 6.0)).astype(np.float32)
    write_map(os.path.join(DATA, "conf_em.mrc"), em, VOXEL, ORIGIN, NSTART)
    e = em.astype(np.float64)
    for name, window, fdr in (("w4", 4, 0.01), ("w6_fdr5", 6, 0.05)):
        conf, mask = confidence(e, window, fdr)
        write_map(os.path.join(DATA, f"conf_expected_{name}.mrc"), conf, VOXEL, ORIGIN, NSTART)
        write_map(os.path.join(DATA, f"conf_expected_{name}_mask.mrc"), mask.astype(np.float64), VOXEL,
                  ORIGIN, NSTART)
        print(f"{name}: {int(mask.sum())} voxels in the mask, {int(ball(shape).sum())} tested")

    # Solvent masked to zero outside a sphere of radius 8 voxels.
    z, y, x = np.indices(shape)
    keep = (z - 14) ** 2 + (y - 10) ** 2 + (x - 12) ** 2 <= 64
    masked = np.where(keep, em, 0).astype(np.float32)
    write_map(os.path.join(DATA, "conf_masked.mrc"), masked, VOXEL, ORIGIN, NSTART)
    zeros = 100.0 * float((sample(masked.astype(np.float64), cubes(shape, 4)) == 0).mean())

    # A second particle in the low-y noise cube.
    edge = (em + blob(shape, (14, 2, 12), 2.5, 8.0)).astype(np.float32)
    write_map(os.path.join(DATA, "conf_edge.mrc"), edge, VOXEL, ORIGIN, NSTART)
    ed = edge.astype(np.float64)
    ratio = float(sample(ed, cubes(shape, 4)).var() / sample(ed, corners(shape, 4)).var())
    cases = {"masked_zero_percent": zeros, "edge_variance_ratio": ratio}
    with open(os.path.join(DATA, "conf_cases.json"), "w") as out:
        json.dump(cases, out, indent=1)
        out.write("\n")
    print(cases)


if __name__ == "__main__":
    main()
