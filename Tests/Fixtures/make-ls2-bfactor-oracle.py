#!/usr/bin/env python3
"""LocScale 2.4.1's own local B (issue 14 item 3, `--compat locscale2`) at chosen centres, the oracle of
LocScale2LocalBFactorMap (Sources/LocScaleCore/Scaling/LocScale2LocalBFactor.swift).

Calls the installed LocScale 2.4.1 itself: locscale.include.emmer.ndimage.map_tools.get_local_bfactor_emmap
(emmap_path, center, fsc_resolution, boxsize, standard_notation=True, wilson_cutoff="fixed") -- its fixed
Wilson cutoff branch (10 A); for a case with another cutoff the same four calls that function makes
(extract_window, compute_radial_profile, frequency_array, estimate_bfactor_standard) with that cutoff.
A centre where LocScale 2 raises (a window cut empty by numpy's negative-index slicing at the low edge,
log(0) of a flat window, fewer than 2 bins for curve_fit: the 10-5 A case) is written with bfactor null.

Two cases take its default branch, wilson_cutoff="singer" (the cutoff per centre from ls2b_mask.mrc).

Maps (written here, seeded, deterministic): ls2b_em.mrc, 30 x 26 x 34 (z, y, x) at 1.1 A with a non-zero
origin and nstart (LocScale 2 reads only the data and voxel_size.x): random atoms blurred by a B rising
from 30 A^2 at x = 0 to 150 A^2 at x = 33, plus 2 % white noise; ls2b_mask.mrc on its grid; ls2b_flat.mrc,
20 x 20 x 20, constant 3.
Writes Tests/Fixtures/data/ls2b_cases.json. Run:
  /tmp/ls2-venv/bin/python Tests/Fixtures/make-ls2-bfactor-oracle.py
"""
import json
import os
import sys
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import DATA, write_map  # noqa: E402

from locscale.include.emmer.ndimage.map_tools import get_local_bfactor_emmap  # noqa: E402
from locscale.include.emmer.ndimage.map_utils import extract_window  # noqa: E402
from locscale.include.emmer.ndimage.profile_tools import (  # noqa: E402
    compute_radial_profile, estimate_bfactor_standard, frequency_array)
from locscale.utils.math_tools import round_up_to_even  # noqa: E402

VOXEL = 1.1
SHAPE = (30, 26, 34)  # z, y, x


def make_map(rng):
    """Atoms (unit deltas) blurred by exp(-B s^2/4), B blended linearly along x from 30 to 150 A^2."""
    deltas = np.zeros(SHAPE)
    for _ in range(400):
        deltas[tuple(rng.integers(0, n) for n in SHAPE)] += rng.uniform(0.5, 1.5)
    s2 = sum(np.meshgrid(*(np.fft.fftfreq(n, VOXEL) ** 2 for n in SHAPE), indexing="ij"))
    spectrum = np.fft.fftn(deltas)
    low, high = (np.fft.ifftn(spectrum * np.exp(-b * s2 / 4)).real for b in (30.0, 150.0))
    t = np.arange(SHAPE[2]) / (SHAPE[2] - 1)
    clean = low * (1 - t) + high * t
    return clean + 0.02 * clean.std() * rng.standard_normal(SHAPE)


def make_mask(rng):
    """A soft mask: 1 (>= 0.99) in a core (y near 12.5, thickening along x, z <= 14), a 3-voxel cosine edge,
    0 beyond; so the centres' windows hold from none (z >= 24: the cutoff clipped to 1.5 fsc) to most of
    their voxels at >= 0.99."""
    z, y, x = np.meshgrid(*(np.arange(n, dtype=float) for n in SHAPE), indexing="ij")
    distance = np.maximum(np.abs(y - 12.5) - (2 + 8 * x / (SHAPE[2] - 1)), z - 14) + 0.3 * rng.standard_normal(SHAPE)
    return np.where(distance < 0, 1.0, np.where(distance < 3, 0.5 + 0.5 * np.cos(np.pi * distance / 3), 0.0))


def ls2_bfactor(path, centre, fsc, box, wilson, mask_path):
    """LocScale 2's B at centre (z, y, x), or (None, error name)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if mask_path is not None:
                b, _ = get_local_bfactor_emmap(path, centre, fsc, boxsize=box, standard_notation=True,
                                               mask_path=mask_path, wilson_cutoff="singer")
            elif wilson == 10.0:
                b, _ = get_local_bfactor_emmap(path, centre, fsc, boxsize=box, standard_notation=True,
                                               wilson_cutoff="fixed")
            else:  # get_local_bfactor_emmap's own steps with another Wilson cutoff
                import mrcfile
                with mrcfile.open(path) as m:
                    emmap, apix = m.data, m.voxel_size.tolist()[0]
                window = extract_window(emmap, centre, round_up_to_even(box))
                profile = compute_radial_profile(window)
                b = estimate_bfactor_standard(frequency_array(profile, apix), profile, wilson, fsc,
                                              standard_notation=True)
    except Exception as error:  # LocScale 2 has no rule for these: the fit is undefined
        return None, type(error).__name__
    b = float(b)
    return (b, None) if np.isfinite(b) else (None, "non-finite")


def centres(rng, shape, box, count):
    """Interior centres, then high-edge ones (the window truncated by the box), low-edge ones (empty
    window: LocScale 2 raises) and the far corner."""
    h = box // 2
    interior = [tuple(int(rng.integers(h, n - h + 1)) for n in shape) for _ in range(count)]
    high = [(shape[0] - 1, 13, 17), (14, shape[1] - 2, 17), (14, 13, shape[2] - 3),
            (shape[0] - 4, shape[1] - 5, shape[2] - 6), (n - 1 for n in shape)]
    low = [(h - 1, 13, 17), (14, 0, 17), (h, h, h)]
    return interior + [tuple(c) for c in high] + low


def main():
    rng = np.random.default_rng(2024)
    em_path = os.path.join(DATA, "ls2b_em.mrc")
    write_map(em_path, make_map(rng).astype(np.float32), VOXEL, (-3.3, 5.5, 12.1), (-4, 3, 7))
    write_map(os.path.join(DATA, "ls2b_mask.mrc"), make_mask(rng), VOXEL, (-3.3, 5.5, 12.1), (-4, 3, 7))
    flat_path = os.path.join(DATA, "ls2b_flat.mrc")
    write_map(flat_path, np.full((20, 20, 20), 3.0, dtype=np.float32), 1.0, (0, 0, 0))
    cases = []
    # (map, window (the scaling window; LocScale 2's box is round_up_to_even of it), fsc A or None,
    #  wilson A or "singer" (from ls2b_mask.mrc), interior centres)
    for name, window, fsc, wilson, count in (("ls2b_em.mrc", 16, 3.0, 10.0, 14), ("ls2b_em.mrc", 11, None, 10.0, 14),
                                             ("ls2b_em.mrc", 14, 2.9, 8.0, 12), ("ls2b_em.mrc", 11, 5.0, 10.0, 2),
                                             ("ls2b_em.mrc", 16, 3.0, "singer", 14),
                                             ("ls2b_em.mrc", 12, None, "singer", 14),
                                             ("ls2b_flat.mrc", 12, None, 10.0, 3)):
        mask_path = os.path.join(DATA, "ls2b_mask.mrc") if wilson == "singer" else None
        path = os.path.join(DATA, name)
        shape = SHAPE if name == "ls2b_em.mrc" else (20, 20, 20)
        voxel = VOXEL if name == "ls2b_em.mrc" else 1.0
        box = round_up_to_even(window)
        points = centres(rng, shape, box, count) if name == "ls2b_em.mrc" else [(10, 10, 10), (12, 9, 11), (19, 19, 19)]
        resolution = fsc if fsc is not None else 2 * float(np.float32(voxel))
        values, errors = zip(*(ls2_bfactor(path, c, resolution, window, wilson, mask_path) for c in points))
        cases.append({"em": name, "window": window, "fsc_resolution": fsc,
                      "wilson_cutoff": None if mask_path else wilson, "mask": mask_path and "ls2b_mask.mrc",
                      "centres_zyx": [list(map(int, c)) for c in points], "bfactors": list(values),
                      "errors": list(errors)})
        print(name, window, fsc, wilson, ["%.3f" % v if v is not None else e for v, e in zip(values, errors)])
    with open(os.path.join(DATA, "ls2b_cases.json"), "w") as f:
        f.write('{"generator": "Tests/Fixtures/make-ls2-bfactor-oracle.py (LocScale 2.4.1)",\n "cases": [\n')
        f.write(",\n".join("  " + json.dumps(case) for case in cases) + "]}\n")


if __name__ == "__main__":
    main()
