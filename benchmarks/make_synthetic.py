#!/usr/bin/env python3
"""Deterministic synthetic benchmark case for localscale / LocScale (DESIGN section 5).

Writes DIR/em.mrc, DIR/model.mrc, DIR/mask.mrc (MRC2014, mode 2, origin 0, axis order
x,y,z) and DIR/case.json, and prints the number of voxels with mask >= 0.5.

Content:
  * atoms: random points (C/N/O/S mix, weights 6/7/8/16) uniformly in a ball centred in the
    box, at about protein density (one atom per 17 A^3);
  * model map: every atom a Gaussian blob with B = --model-b (20 A^2);
  * "experimental" map: the same atoms with a per-atom B rising from --b-core (50 A^2) at the
    centre to --b-outer (180 A^2) at the ball's surface (quadratically in radius), plus white
    Gaussian noise with sigma = --noise x the standard deviation of the noiseless map inside
    the mask;
  * mask: soft sphere (cosine edge of --mask-edge voxels) whose 0.5 level lies on the radius
    that holds --mask-fraction of the box's voxels.

Maps are made in Fourier space: atoms are deposited on the grid with cloud-in-cell weights,
the CIC transfer function is divided out, and each Gaussian blur is exp(-B s^2 / 4). A
continuous per-atom B is handled by splitting each atom's weight linearly between the two
nearest of --b-levels B values (one FFT per level). Everything is float32 and vectorised, so
256^3 and 384^3 are practical (memory is about 10 x N^3 x 4 bytes).

Example:
  python3 benchmarks/make_synthetic.py --size 128 --out /tmp/localscale-bench/syn128
"""

import argparse
import json
import os
import struct
import sys
import time

import numpy as np

ELEMENTS = (("C", 6.0, 0.63), ("N", 7.0, 0.17), ("O", 8.0, 0.19), ("S", 16.0, 0.01))
ATOM_DENSITY = 1.0 / 17.0  # non-H atoms per A^3 in protein


def write_mrc(path, data, voxel, label):
    """Write a (z, y, x) float32 array as MRC2014 mode 2, origin 0, mapc/r/s = 1/2/3."""
    data = np.ascontiguousarray(data, dtype=np.float32)
    nz, ny, nx = data.shape
    h = bytearray(1024)
    struct.pack_into("<3i", h, 0, nx, ny, nz)
    struct.pack_into("<i", h, 12, 2)                      # mode 2: float32
    struct.pack_into("<3i", h, 16, 0, 0, 0)               # nxstart, nystart, nzstart
    struct.pack_into("<3i", h, 28, nx, ny, nz)            # mx, my, mz
    struct.pack_into("<3f", h, 40, nx * voxel, ny * voxel, nz * voxel)  # cella
    struct.pack_into("<3f", h, 52, 90.0, 90.0, 90.0)      # cellb
    struct.pack_into("<3i", h, 64, 1, 2, 3)               # mapc, mapr, maps
    dmin, dmax = float(data.min()), float(data.max())
    dmean = float(data.mean(dtype=np.float64))
    rms = float(data.std(dtype=np.float64))
    struct.pack_into("<3f", h, 76, dmin, dmax, dmean)
    struct.pack_into("<i", h, 88, 1)                      # ispg
    struct.pack_into("<i", h, 92, 0)                      # nsymbt
    h[104:108] = b"MRCO"                                  # exttyp
    struct.pack_into("<i", h, 108, 20140)                 # nversion
    struct.pack_into("<3f", h, 196, 0.0, 0.0, 0.0)        # origin
    h[208:212] = b"MAP "
    h[212:216] = bytes((0x44, 0x44, 0x00, 0x00))          # little-endian machine stamp
    struct.pack_into("<f", h, 216, rms)
    struct.pack_into("<i", h, 220, 1)                     # nlabl
    lab = label.encode("ascii", "replace")[:80]
    h[224:224 + len(lab)] = lab
    tmp = path + ".tmp-%d" % os.getpid()
    with open(tmp, "wb") as f:
        f.write(h)
        f.write(data.astype("<f4", copy=False).tobytes())
    os.replace(tmp, path)


def freq_grids(n, voxel):
    """s^2 (1/A^2) on the rfftn half grid, and the CIC transfer function, both float32."""
    k = np.fft.fftfreq(n).astype(np.float32)          # cycles / voxel
    kr = np.fft.rfftfreq(n).astype(np.float32)
    s2 = (k[:, None, None] ** 2 + k[None, :, None] ** 2 + kr[None, None, :] ** 2) / np.float32(voxel * voxel)
    # CIC deposit = box * box per axis: transfer sinc^2(k), never zero for |k| <= 1/2
    w = (np.sinc(k) ** 2).astype(np.float32)
    wr = (np.sinc(kr) ** 2).astype(np.float32)
    cic = w[:, None, None] * w[None, :, None] * wr[None, None, :]
    return s2, cic


def deposit(n, pos, weight):
    """Cloud-in-cell deposit of points (voxel coordinates, columns x,y,z) into an (n,n,n) grid."""
    grid = np.zeros(n * n * n, dtype=np.float64)
    base = np.floor(pos).astype(np.int64)
    frac = pos - base
    for dz in (0, 1):
        wz = frac[:, 2] if dz else 1.0 - frac[:, 2]
        iz = (base[:, 2] + dz) % n
        for dy in (0, 1):
            wy = frac[:, 1] if dy else 1.0 - frac[:, 1]
            iy = (base[:, 1] + dy) % n
            for dx in (0, 1):
                wx = frac[:, 0] if dx else 1.0 - frac[:, 0]
                ix = (base[:, 0] + dx) % n
                idx = (iz * n + iy) * n + ix
                grid += np.bincount(idx, weights=weight * wz * wy * wx, minlength=n * n * n)
    return grid.reshape(n, n, n).astype(np.float32)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=128, help="cubic box edge in voxels (default 128)")
    ap.add_argument("--voxel", type=float, default=1.0, help="voxel size in A (default 1.0)")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--mask-fraction", type=float, default=0.25,
                    help="fraction of box voxels with mask >= 0.5 (default 0.25)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--model-b", type=float, default=20.0, help="B of the model map, A^2 (default 20)")
    ap.add_argument("--b-core", type=float, default=50.0, help="experimental B at the centre (default 50)")
    ap.add_argument("--b-outer", type=float, default=180.0, help="experimental B at the atom ball's surface (default 180)")
    ap.add_argument("--b-levels", type=int, default=8, help="B levels used to realise the B gradient (default 8)")
    ap.add_argument("--noise", type=float, default=0.3,
                    help="noise sigma relative to the noiseless EM map's std inside the mask (default 0.3)")
    ap.add_argument("--mask-edge", type=float, default=6.0, help="soft mask edge width in voxels (default 6)")
    ap.add_argument("--atom-margin", type=float, default=4.0,
                    help="atoms lie within the mask radius minus this many A (default 4)")
    a = ap.parse_args(argv)

    t0 = time.perf_counter()
    n, vox = a.size, a.voxel
    if n < 16 or vox <= 0 or not (0.0 < a.mask_fraction < 0.5) or a.b_levels < 2:
        ap.error("need --size >= 16, --voxel > 0, 0 < --mask-fraction < 0.5, --b-levels >= 2")
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)

    # geometry, in voxels unless noted; centre at index n/2 on every axis
    c = n / 2.0
    r_mask = (3.0 * a.mask_fraction / (4.0 * np.pi)) ** (1.0 / 3.0) * n   # 0.5 level of the mask
    if r_mask + a.mask_edge / 2 > n / 2 - 1:
        print("warning: the soft mask reaches the box edge", file=sys.stderr)
    r_atoms_A = r_mask * vox - a.atom_margin
    if r_atoms_A <= 0:
        ap.error("box too small for --atom-margin")

    # atoms: uniform in a ball (radius r_atoms_A), element weights
    n_atoms = int(round(ATOM_DENSITY * 4.0 / 3.0 * np.pi * r_atoms_A ** 3))
    u = rng.standard_normal((n_atoms, 3))
    u /= np.linalg.norm(u, axis=1)[:, None]
    rad_A = r_atoms_A * rng.random(n_atoms) ** (1.0 / 3.0)
    pos = c + u * (rad_A / vox)[:, None]                                   # voxel coords x,y,z
    probs = np.array([e[2] for e in ELEMENTS])
    zw = np.array([e[1] for e in ELEMENTS])[rng.choice(len(ELEMENTS), size=n_atoms, p=probs / probs.sum())]
    noise_std_normal = rng.standard_normal((n, n, n), dtype=np.float32)    # drawn now: seed-stable

    s2, cic = freq_grids(n, vox)
    shape = (n, n, n)

    # model map: all atoms, one B
    F = np.fft.rfftn(deposit(n, pos, zw))
    F /= cic
    model = np.fft.irfftn(F * np.exp(np.float32(-a.model_b / 4.0) * s2), s=shape, axes=(0, 1, 2)).astype(np.float32)
    del F

    # experimental map: per-atom B(r) = b_core + (b_outer - b_core) (r / r_atoms)^2,
    # realised by splitting each atom between neighbouring B levels
    b_atom = a.b_core + (a.b_outer - a.b_core) * (rad_A / r_atoms_A) ** 2
    levels = np.linspace(a.b_core, a.b_outer, a.b_levels)
    t = (b_atom - levels[0]) / (levels[1] - levels[0])
    lo = np.clip(np.floor(t).astype(np.int64), 0, a.b_levels - 2)
    frac = np.clip(t - lo, 0.0, 1.0)
    acc = None
    for li, b in enumerate(levels):
        w = np.where(lo == li, 1.0 - frac, 0.0) + np.where(lo + 1 == li, frac, 0.0)
        sel = w > 0
        if not sel.any():
            continue
        F = np.fft.rfftn(deposit(n, pos[sel], (zw * w)[sel]))
        F *= np.exp(np.float32(-b / 4.0) * s2)
        acc = F if acc is None else acc + F
        del F
    acc /= cic
    em = np.fft.irfftn(acc, s=shape, axes=(0, 1, 2)).astype(np.float32)
    del acc, s2, cic

    # soft spherical mask: 1 inside, cosine edge of width mask_edge centred on r_mask
    ii = np.arange(n, dtype=np.float32) - np.float32(c)
    r = np.sqrt(ii[:, None, None] ** 2 + ii[None, :, None] ** 2 + ii[None, None, :] ** 2)
    e = np.float32(a.mask_edge)
    x = np.clip((r - np.float32(r_mask) + e / 2) / e, 0.0, 1.0)
    mask = (0.5 * (1.0 + np.cos(np.pi * x))).astype(np.float32)
    del r, x
    inside = mask >= 0.5
    n_masked = int(np.count_nonzero(inside))

    sig = float(em[inside].std(dtype=np.float64))
    noise_sigma = a.noise * sig
    em += np.float32(noise_sigma) * noise_std_normal
    del noise_std_normal

    label = "localscale make_synthetic size=%d voxel=%g seed=%d" % (n, vox, a.seed)
    write_mrc(os.path.join(a.out, "em.mrc"), em, vox, label + " em")
    write_mrc(os.path.join(a.out, "model.mrc"), model, vox, label + " model")
    write_mrc(os.path.join(a.out, "mask.mrc"), mask, vox, label + " mask")

    info = {
        "size": n, "voxel": vox, "seed": a.seed, "mask_fraction_requested": a.mask_fraction,
        "masked_voxels": n_masked, "masked_fraction": n_masked / n ** 3,
        "mask_radius_vox": r_mask, "mask_edge_vox": a.mask_edge,
        "atoms": n_atoms, "atom_ball_radius_A": r_atoms_A,
        "model_b": a.model_b, "b_core": a.b_core, "b_outer": a.b_outer, "b_levels": a.b_levels,
        "noise_rel": a.noise, "noise_sigma": noise_sigma,
        "files": ["em.mrc", "model.mrc", "mask.mrc"],
        "generator": "benchmarks/make_synthetic.py",
        "seconds": round(time.perf_counter() - t0, 3),
    }
    with open(os.path.join(a.out, "case.json"), "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    print("wrote %s: %d^3, voxel %g A, %d atoms, mask>=0.5 voxels: %d (%.1f %%), %.1f s"
          % (a.out, n, vox, n_atoms, n_masked, 100.0 * n_masked / n ** 3, info["seconds"]))
    print("masked_voxels=%d" % n_masked)


if __name__ == "__main__":
    main()
