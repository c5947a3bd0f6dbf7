#!/usr/bin/env python3
"""Independent float64 numpy oracle + fixtures for the validation metrics (FSC, RSCC).

Writes into Tests/Fixtures/data/ (next to this script):
  val_a.mrc, val_b.mrc, val_mask.mrc       two maps + a soft mask on a NON-CUBIC grid
                                           (nz, ny, nx) = (24, 20, 28) with hx=1.1, hy=1.0, hz=1.2 Å
  val_half1.mrc, val_half2.mrc             val_a + two independent noise realisations
  val_expected.json                        shells, counts, FSC curves, resolutions, RSCC

Definitions (computed THE NAIVE WAY: float64, full complex np.fft.fftn, no Hermitian bookkeeping):
  * FFT index k along an axis of n voxels is the wrapped integer rint(fftfreq(n) * n);
    s_x = kx / (nx*hx), s_y = ky / (ny*hy), s_z = kz / (nz*hz)   (Å⁻¹).
  * Δ = 1 / max(nx*hx, ny*hy, nz*hz); shell(k) = rint(|s| / Δ);
    S = floor((1 / (2 * max(hx, hy, hz))) / Δ + 1e-9); shells 0..S, coefficients in shells > S ignored.
    Shell s has frequency s·Δ, resolution 1/(s·Δ) (inf for s = 0, written as null in the JSON).
  * FSC(a, b)[s] = Re Σ A·conj(B) / sqrt(Σ|A|² Σ|B|²) over the shell, 0 where the denominator is 0.
  * masked FSC = FSC(a·m, b·m) with the soft mask values as stored (not thresholded).
  * resolution at t: first shell s ≥ 1 with FSC[s] < t,
        f = Δ·((s−1) + (FSC[s−1] − t)/(FSC[s−1] − FSC[s])), d = 1/f;
    if FSC never drops below t: d = 1/(S·Δ).
  * RSCC(a, b, m) = Pearson correlation over the voxels with m ≥ 0.5 (float64, mean-subtracted).

All metrics are computed from the float32 values exactly as stored in the MRC files (read back),
with the nominal voxel sizes (1.1, 1.0, 1.2) in float64.  Deterministic: fixed seeds, no
timestamps.  Run:  python3 Tests/Fixtures/validation_fixtures.py   (needs numpy and mrcfile)
"""
import json
import math
import os

import numpy as np
import mrcfile

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
LABEL = "localscale test fixture (Tests/Fixtures/validation_fixtures.py)"

SHAPE = (24, 20, 28)          # (nz, ny, nx)
VOXEL = (1.1, 1.0, 1.2)       # (hx, hy, hz) in Å
NOISE_SCALE = 8.0             # tuned so FSC(a, b) crosses 0.143 mid-way through the shells
THRESHOLDS = (0.143, 0.5)


# --------------------------------------------------------------------------------------------
# MRC I/O (same conventions as make_fixtures.py: mode 2, little-endian, mapc/mapr/maps = 1,2,3)
# --------------------------------------------------------------------------------------------
def _finish_header(m, label=LABEL):
    m.header.label[:] = b""
    m.header.label[0] = label.encode()
    m.header.nlabl = 1


def write_map(path, zyx, voxel_xyz):
    with mrcfile.new(path, overwrite=True) as m:
        m.set_data(np.ascontiguousarray(zyx, dtype="<f4"))
        m.voxel_size = voxel_xyz  # cella = (nx*hx, ny*hy, nz*hz); mx,my,mz = nx,ny,nz
        m.header.origin.x, m.header.origin.y, m.header.origin.z = 0.0, 0.0, 0.0
        m.header.nxstart, m.header.nystart, m.header.nzstart = 0, 0, 0
        m.header.mapc, m.header.mapr, m.header.maps = 1, 2, 3
        _finish_header(m)


def read_map(path):
    with mrcfile.open(path, permissive=False) as m:
        h = m.header
        assert (int(h.mapc), int(h.mapr), int(h.maps)) == (1, 2, 3)
        assert m.data.dtype == np.dtype("<f4")
        assert (int(h.mx), int(h.my), int(h.mz)) == (int(h.nx), int(h.ny), int(h.nz))
        cell = (float(h.cella.x), float(h.cella.y), float(h.cella.z))
        return np.array(m.data, dtype=np.float64), cell


# --------------------------------------------------------------------------------------------
# Oracle
# --------------------------------------------------------------------------------------------
def wrapped_index(n):
    return np.rint(np.fft.fftfreq(n) * n)


def shell_geometry(shape, voxel):
    nz, ny, nx = shape
    hx, hy, hz = voxel
    delta = 1.0 / max(nx * hx, ny * hy, nz * hz)
    S = int(math.floor((1.0 / (2.0 * max(hx, hy, hz))) / delta + 1e-9))
    sz = wrapped_index(nz) / (nz * hz)
    sy = wrapped_index(ny) / (ny * hy)
    sx = wrapped_index(nx) / (nx * hx)
    SZ, SY, SX = np.meshgrid(sz, sy, sx, indexing="ij")
    r = np.sqrt(SZ ** 2 + SY ** 2 + SX ** 2) / delta
    shell = np.rint(r).astype(np.int64)
    # distance of |s|/Δ from a rounding tie (x.5), over the coefficients whose shell assignment
    # decides membership in shells 0..S (|s|/Δ ≤ S + 1)
    rr = r[r <= S + 1]
    tie_margin = float(np.min(np.abs(rr - np.floor(rr) - 0.5)))
    return delta, S, shell, tie_margin


def fsc(a, b, shell, S):
    A = np.fft.fftn(a)
    B = np.fft.fftn(b)
    keep = shell <= S
    idx = shell[keep]
    num = np.bincount(idx, weights=(A * np.conj(B)).real[keep], minlength=S + 1)
    pa = np.bincount(idx, weights=(np.abs(A) ** 2)[keep], minlength=S + 1)
    pb = np.bincount(idx, weights=(np.abs(B) ** 2)[keep], minlength=S + 1)
    counts = np.bincount(idx, minlength=S + 1)
    den = np.sqrt(pa * pb)
    out = np.zeros(S + 1)
    nz = den > 0
    out[nz] = num[nz] / den[nz]
    return out, counts


def resolution(curve, t, delta, S):
    for s in range(1, S + 1):
        if curve[s] < t:
            f = delta * ((s - 1) + (curve[s - 1] - t) / (curve[s - 1] - curve[s]))
            return 1.0 / f, s
    return 1.0 / (S * delta), None


def rscc(a, b, m):
    sel = m >= 0.5
    x = a[sel] - a[sel].mean()
    y = b[sel] - b[sel].mean()
    return float(np.sum(x * y) / math.sqrt(np.sum(x * x) * np.sum(y * y))), int(sel.sum())


# --------------------------------------------------------------------------------------------
# Synthetic data
# --------------------------------------------------------------------------------------------
def coords_angstrom(shape, voxel):
    nz, ny, nx = shape
    hx, hy, hz = voxel
    Z, Y, X = np.meshgrid(np.arange(nz) * hz, np.arange(ny) * hy, np.arange(nx) * hx, indexing="ij")
    return Z, Y, X


def make_density(rng, shape, voxel, nblobs=40):
    nz, ny, nx = shape
    hx, hy, hz = voxel
    Z, Y, X = coords_angstrom(shape, voxel)
    L = np.array([nz * hz, ny * hy, nx * hx])
    rho = np.zeros(shape)
    for _ in range(nblobs):
        c = L * (0.2 + 0.6 * rng.random(3))  # centres in the middle 60 % of the box
        sigma = 1.2 + 1.3 * rng.random()
        amp = 0.5 + rng.random()
        # periodic (minimum-image) distance so the map has no wrap discontinuities
        d = [np.mod(g - ci + Li / 2, Li) - Li / 2 for g, ci, Li in zip((Z, Y, X), c, L)]
        rho += amp * np.exp(-(d[0] ** 2 + d[1] ** 2 + d[2] ** 2) / (2 * sigma ** 2))
    return rho


def make_noise(rng, shape, voxel, scale):
    """White noise filtered with amplitude 0.02 + |s| (power grows like |s|²)."""
    nz, ny, nx = shape
    hx, hy, hz = voxel
    w = rng.standard_normal(shape)
    sz = wrapped_index(nz) / (nz * hz)
    sy = wrapped_index(ny) / (ny * hy)
    sx = wrapped_index(nx) / (nx * hx)
    SZ, SY, SX = np.meshgrid(sz, sy, sx, indexing="ij")
    filt = 0.02 + np.sqrt(SZ ** 2 + SY ** 2 + SX ** 2)  # small floor: low shells not noise-free
    return scale * np.fft.ifftn(np.fft.fftn(w) * filt).real


def make_mask(shape, voxel):
    """Soft ellipsoid (raised-cosine edge, 3 Å wide) around the box centre; ~30 % ≥ 0.5."""
    nz, ny, nx = shape
    hx, hy, hz = voxel
    Z, Y, X = coords_angstrom(shape, voxel)
    c = np.array([nz * hz, ny * hy, nx * hx]) / 2
    radii = np.array([0.415 * nz * hz, 0.415 * ny * hy, 0.415 * nx * hx])
    r = np.sqrt(((Z - c[0]) / radii[0]) ** 2 + ((Y - c[1]) / radii[1]) ** 2 + ((X - c[2]) / radii[2]) ** 2)
    # distance outside the unit ellipsoid, roughly in Å (scaled by the mean radius)
    dist = (r - 1.0) * radii.mean()
    edge = 3.0
    m = np.where(dist <= -edge / 2, 1.0,
                 np.where(dist >= edge / 2, 0.0, 0.5 * (1 - np.sin(np.pi * dist / edge))))
    m = m.astype(np.float32)
    # keep stored values clearly away from the 0.5 threshold so "≥ 0.5" is unambiguous
    near = np.abs(m.astype(np.float64) - 0.5) < 1e-3
    m[near] = np.where(m[near] >= 0.5, np.float32(0.501), np.float32(0.499))
    return m


def curve_list(x):
    return [float(v) for v in x]


def main():
    os.makedirs(DATA, exist_ok=True)
    rng = np.random.default_rng(20240611)
    a = make_density(rng, SHAPE, VOXEL)
    a = (a / a.std()).astype(np.float32)
    noise_b = make_noise(np.random.default_rng(101), SHAPE, VOXEL, NOISE_SCALE)
    noise_h1 = make_noise(np.random.default_rng(202), SHAPE, VOXEL, NOISE_SCALE)
    noise_h2 = make_noise(np.random.default_rng(303), SHAPE, VOXEL, NOISE_SCALE)
    b = (a + noise_b).astype(np.float32)
    h1 = (a + noise_h1).astype(np.float32)
    h2 = (a + noise_h2).astype(np.float32)
    mask = make_mask(SHAPE, VOXEL)

    files = {"val_a.mrc": a, "val_b.mrc": b, "val_mask.mrc": mask,
             "val_half1.mrc": h1, "val_half2.mrc": h2}
    for name, arr in files.items():
        write_map(os.path.join(DATA, name), arr, VOXEL)

    # read everything back: the oracle works on the stored float32 values
    maps = {}
    for name in files:
        arr, cell = read_map(os.path.join(DATA, name))
        assert arr.shape == SHAPE
        for c, n, h in zip(cell, SHAPE[::-1], VOXEL):
            assert abs(c - n * h) < 1e-5, (name, cell)
        maps[name] = arr
        header_voxel = tuple(c / n for c, n in zip(cell, SHAPE[::-1]))
    A, B, M = maps["val_a.mrc"], maps["val_b.mrc"], maps["val_mask.mrc"]
    H1, H2 = maps["val_half1.mrc"], maps["val_half2.mrc"]
    assert M.min() >= 0 and M.max() <= 1
    frac = float(np.mean(M >= 0.5))
    assert 0.25 <= frac <= 0.35, frac
    assert np.min(np.abs(M - 0.5)) >= 9.9e-4
    assert 0.2 < float(np.corrcoef(A[M >= 0.5], B[M >= 0.5])[0, 1]) < 0.9

    delta, S, shell, tie_margin = shell_geometry(SHAPE, VOXEL)
    assert tie_margin > 1e-4, tie_margin  # robust to float32 voxel sizes / float32 arithmetic
    # the header-derived voxel sizes (float32 cella / n) give the same shells and S
    d2, S2, shell2, _ = shell_geometry(SHAPE, header_voxel)
    assert S2 == S and np.array_equal(shell, shell2) and abs(d2 / delta - 1) < 1e-6

    f_ab, counts = fsc(A, B, shell, S)
    f_ba, _ = fsc(B, A, shell, S)
    f_aa, _ = fsc(A, A, shell, S)
    f_ab_m, _ = fsc(A * M, B * M, shell, S)
    f_ones, _ = fsc(A * np.ones(SHAPE), B * np.ones(SHAPE), shell, S)
    f_h12, _ = fsc(H1, H2, shell, S)
    f_h1a, _ = fsc(H1, A, shell, S)
    f_h2a, _ = fsc(H2, A, shell, S)

    # ---- self-checks ----
    assert np.all(counts > 0), counts
    assert np.allclose(f_aa[counts > 0], 1.0, atol=1e-12, rtol=0), f_aa
    assert np.allclose(f_ab, f_ba, atol=1e-14, rtol=0)
    assert np.allclose(f_ab, f_ones, atol=1e-14, rtol=0)
    r, nsel = rscc(A, B, M)
    sel = M >= 0.5
    assert abs(r - np.corrcoef(A[sel], B[sel])[0, 1]) < 1e-12
    assert abs(rscc(A, A, M)[0] - 1.0) < 1e-12

    res = {}
    for tag, curve in (("fsc_ab", f_ab), ("fsc_ab_masked", f_ab_m), ("fsc_half1_half2", f_h12),
                       ("fsc_half1_vs_a", f_h1a), ("fsc_half2_vs_a", f_h2a)):
        res[tag] = {}
        for t in THRESHOLDS:
            d, s = resolution(curve, t, delta, S)
            res[tag][str(t)] = {"resolution": d, "first_shell_below": s}
    # the unmasked a-vs-b curve must actually cross 0.143 somewhere in the middle
    s143 = res["fsc_ab"]["0.143"]["first_shell_below"]
    assert s143 is not None and 3 <= s143 <= S - 2, (s143, f_ab)
    assert res["fsc_half1_half2"]["0.143"]["first_shell_below"] is not None

    freqs = [s * delta for s in range(S + 1)]
    expected = {
        "description": "validation-metric oracle; see Tests/Fixtures/validation_fixtures.py docstring",
        "shape_zyx": list(SHAPE),
        "voxel_size_xyz": list(VOXEL),
        "delta": delta,
        "S": S,
        "shell_rounding_tie_margin": tie_margin,
        "shell_frequencies": freqs,
        "shell_resolutions": [None] + [1.0 / f for f in freqs[1:]],
        "shell_counts": [int(c) for c in counts],
        "coefficients_ignored": int(np.sum(shell > S)),
        "fsc_ab": curve_list(f_ab),
        "fsc_ab_masked": curve_list(f_ab_m),
        "fsc_aa": curve_list(f_aa),
        "fsc_half1_half2": curve_list(f_h12),
        "fsc_half1_vs_a": curve_list(f_h1a),
        "fsc_half2_vs_a": curve_list(f_h2a),
        "resolutions": res,
        "rscc_ab_mask": r,
        "rscc_selected_voxels": nsel,
        "mask_fraction_ge_half": frac,
        "files": sorted(files),
    }
    with open(os.path.join(DATA, "val_expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")

    print(f"delta={delta!r} S={S} tie_margin={tie_margin:.3e} counts={list(map(int, counts))}")
    for tag in res:
        print(tag, {t: (round(v['resolution'], 4), v['first_shell_below']) for t, v in res[tag].items()})
    print("fsc_ab   ", np.round(f_ab, 3))
    print("fsc_ab_m ", np.round(f_ab_m, 3))
    print("fsc_h12  ", np.round(f_h12, 3))
    print(f"rscc={r!r} n={nsel} mask_frac={frac:.3f}")
    for name in sorted(files) + ["val_expected.json"]:
        print(name, os.path.getsize(os.path.join(DATA, name)))


if __name__ == "__main__":
    main()
