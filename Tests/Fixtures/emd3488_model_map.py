#!/usr/bin/env python3
"""Model map of an atomic model on exactly the grid of a given map, with gemmi's DensityCalculatorE
(electron scattering factors, International Tables C 4.3.2), band-limited to d_min without aliasing;
plus a soft mask made from that model map.

    python3 emd3488_model_map.py EM.mrc MODEL.pdb OUT_MODEL.mrc OUT_MASK.mrc [--dmin D]

How (oracle for DESIGN.md §1.3):
  * the map box (n voxels x voxel size per axis) is taken as the periodic cell; atoms are shifted by
    -origin (origin field if non-zero, else nstart * voxel) so voxel 0 sits at the cell origin;
  * gemmi puts the density of every atom (B_iso, ANISOU, occupancy, + an extra blur) on a grid
    OVERSAMPLE times finer than the map (default 2), so that aliasing at |s| <= 1/d_min is < 1e-8;
  * numpy FFT of that grid -> structure factors; multiply by exp(blur * s^2 / 4) to take the extra
    blur out (gemmi's reciprocal_space_multiplier); keep |s| <= 1/d_min (inclusive, with a relative
    tolerance of 1e-9 on s^2, because with d_min = 2 x voxel there are many exact ties);
  * those coefficients are folded onto the map's own n^3 index grid (h mod n) and inverse
    transformed: this gives the exact samples of the band-limited density at the map's voxels.
Mask: model map smoothed with a 3 Å Gaussian, thresholded at 5 % of its maximum, dilated by
~3 Å (smoothing + threshold), then softened with a 1.5 Å Gaussian edge; values in [0, 1].
"""
import argparse
import math
import os
import sys

import numpy as np
import mrcfile
import gemmi


def read_geometry(path):
    with mrcfile.open(path, permissive=True) as m:
        h = m.header
        if (int(h.mapc), int(h.mapr), int(h.maps)) != (1, 2, 3):
            sys.exit(f"{path}: only mapc/mapr/maps = 1,2,3 handled here")
        shape = m.data.shape  # (nz, ny, nx)
        vox = np.array([float(h.cella.x) / int(h.mx), float(h.cella.y) / int(h.my),
                        float(h.cella.z) / int(h.mz)])  # x, y, z
        org = np.array([float(h.origin.x), float(h.origin.y), float(h.origin.z)])
        nst = np.array([int(h.nxstart), int(h.nystart), int(h.nzstart)])
        header = h.copy()
    return shape, vox, org, nst, header


def smooth(vol_zyx, sigma_vox_zyx):
    """Periodic Gaussian smoothing by FFT (sigma in voxels per axis)."""
    F = np.fft.rfftn(vol_zyx)
    fz = np.fft.fftfreq(vol_zyx.shape[0])[:, None, None]
    fy = np.fft.fftfreq(vol_zyx.shape[1])[None, :, None]
    fx = np.fft.rfftfreq(vol_zyx.shape[2])[None, None, :]
    sz, sy, sx = sigma_vox_zyx
    F *= np.exp(-2 * math.pi ** 2 * ((sz * fz) ** 2 + (sy * fy) ** 2 + (sx * fx) ** 2))
    return np.fft.irfftn(F, s=vol_zyx.shape, axes=(0, 1, 2))


def write_like(path, data_zyx, header, label):
    with mrcfile.new(path, overwrite=True) as m:
        m.set_data(data_zyx.astype("<f4"))
        for f in ("cella", "mx", "my", "mz", "nxstart", "nystart", "nzstart", "mapc", "mapr", "maps",
                  "origin"):
            m.header[f] = header[f]
        m.header.label[:] = b""
        m.header.label[0] = label.encode()[:80]
        m.header.nlabl = 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("em")
    ap.add_argument("model")
    ap.add_argument("out_model")
    ap.add_argument("out_mask")
    ap.add_argument("--dmin", type=float, default=None, help="default: 2 x the largest voxel size")
    ap.add_argument("--oversample", type=int, default=2)
    ap.add_argument("--min-total-b", type=float, default=40.0,
                    help="extra blur = max(0, this - smallest atomic B)")
    ap.add_argument("--cutoff", type=float, default=None,
                    help="gemmi's density cutoff level (default: gemmi's own, 1e-5)")
    a = ap.parse_args()

    shape, vox, org, nst, header = read_geometry(a.em)
    n_xyz = np.array(shape[::-1])
    dmin = a.dmin if a.dmin else 2 * vox.max()
    origin = org if np.any(org != 0) else nst * vox  # ARCHITECTURE §1.1 position rule
    cell = n_xyz * vox

    st = gemmi.read_structure(a.model)
    st.setup_entities()
    st.remove_empty_chains()
    model = st[0]
    shift = gemmi.Position(*(-origin))
    for ch in model:
        for res in ch:
            for at in res:
                at.pos = at.pos + shift

    dc = gemmi.DensityCalculatorE()
    dc.grid.set_unit_cell(gemmi.UnitCell(*cell, 90, 90, 90))
    dc.grid.spacegroup = gemmi.find_spacegroup_by_name("P1")
    N = n_xyz * a.oversample
    dc.grid.set_size(*[int(v) for v in N])
    dc.d_min = 0.0  # grid already sized: put_model_density_on_grid only zero-fills it
    b_min = min(at.b_iso for ch in model for res in ch for at in res)
    dc.blur = max(0.0, a.min_total_b - b_min)
    if a.cutoff is not None:
        dc.cutoff = a.cutoff
    dc.put_model_density_on_grid(model)
    fine = np.array(dc.grid.array, dtype=np.float64)  # (x, y, z)

    # structure factors (numpy convention), unblur, band limit, fold onto the map grid
    FF = np.fft.fftn(fine)
    hx, hy, hz = [np.rint(np.fft.fftfreq(int(m)) * int(m)).astype(np.int64) for m in N]  # exact ints
    H = hx[:, None, None]
    K = hy[None, :, None]
    L = hz[None, None, :]
    s2 = (H / cell[0]) ** 2 + (K / cell[1]) ** 2 + (L / cell[2]) ** 2
    keep = s2 <= (1.0 / dmin) ** 2 * (1 + 1e-9)
    FF = FF * np.exp(dc.blur * s2 / 4.0)
    idx = np.nonzero(keep)
    coarse = np.zeros(tuple(n_xyz), dtype=complex)
    np.add.at(coarse, (H[idx[0], 0, 0] % n_xyz[0], K[0, idx[1], 0] % n_xyz[1], L[0, 0, idx[2]] % n_xyz[2]),
              FF[idx])
    rho = np.fft.ifftn(coarse).real * (np.prod(n_xyz) / np.prod(N))  # (x, y, z)
    model_zyx = np.ascontiguousarray(rho.transpose(2, 1, 0))
    write_like(a.out_model, model_zyx, header,
               f"gemmi DensityCalculatorE, dmin {dmin:.4g} A, blur {dc.blur:.3g}, x{a.oversample} grid")

    # soft mask
    vz = vox[::-1]
    sm = smooth(model_zyx, 3.0 / vz)
    core = (sm > 0.05 * sm.max()).astype(float)
    dil = (smooth(core, 1.5 / vz) > 0.05).astype(float)  # ~3 Å dilation
    soft = np.clip(smooth(dil, 1.5 / vz), 0.0, 1.0)
    soft[np.abs(soft - 0.5) < 1e-6] = 0.5 + 1e-6  # no voxel exactly at the 0.5 threshold
    write_like(a.out_mask, soft, header, "soft mask from the gemmi model map (see emd3488_model_map.py)")

    print(f"grid (x,y,z) {n_xyz.tolist()}, voxel {np.round(vox, 5).tolist()}, origin {origin.tolist()}, "
          f"dmin {dmin:.4g}, blur {dc.blur:.3g}, fine grid {N.tolist()}, "
          f"{len(idx[0])} coefficients kept; model map min/max {model_zyx.min():.4g}/{model_zyx.max():.4g}; "
          f"mask>=0.5: {100 * (soft >= 0.5).mean():.1f} % of voxels")


if __name__ == "__main__":
    main()
