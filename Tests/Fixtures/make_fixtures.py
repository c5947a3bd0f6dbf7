#!/usr/bin/env python3
"""Independent float64 numpy oracle + fixtures for localscale.

Writes into Tests/Fixtures/data/ (next to this script):
  * synthetic maps (model, em, soft mask) on a non-cubic grid with a non-zero origin, and the
    expected scaled maps for DESIGN.md §1.2 ("exact" mode) and docs/COMPAT-LOCSCALE2.md
    ("compat" mode), computed THE NAIVE WAY (one inverse FFT per voxel);
  * small MRC files for the reader tests (modes, axis orders, big-endian, extended header);
  * cases.json describing all of it.

Deterministic: fixed seeds, no timestamps in the files.  Run:  python3 Tests/Fixtures/make_fixtures.py
Needs numpy and mrcfile (pip install mrcfile).
"""
import itertools
import json
import math
import os
import sys
import time

import numpy as np
import mrcfile

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
LABEL = "localscale test fixture (Tests/Fixtures/make_fixtures.py)"


# --------------------------------------------------------------------------------------------
# MRC writing
# --------------------------------------------------------------------------------------------
def _finish_header(m, label=LABEL):
    # mrcfile's default label contains a timestamp: replace it so regeneration is byte-identical.
    m.header.label[:] = b""
    m.header.label[0] = label.encode()
    m.header.nlabl = 1


def write_map(path, zyx, voxel, origin_xyz, nstart_xyz=(0, 0, 0)):
    """Mode-2 MRC2014, little-endian, mapc/mapr/maps = 1,2,3, cubic voxels."""
    with mrcfile.new(path, overwrite=True) as m:
        m.set_data(np.ascontiguousarray(zyx, dtype="<f4"))
        m.voxel_size = voxel  # cella = voxel * (mx, my, mz); mx,my,mz = nx,ny,nz
        m.header.origin.x, m.header.origin.y, m.header.origin.z = origin_xyz
        m.header.nxstart, m.header.nystart, m.header.nzstart = nstart_xyz
        m.header.mapc, m.header.mapr, m.header.maps = 1, 2, 3
        _finish_header(m)


def read_map(path):
    with mrcfile.open(path, permissive=False) as m:
        h = m.header
        assert (int(h.mapc), int(h.mapr), int(h.maps)) == (1, 2, 3)
        return (np.array(m.data, dtype=np.float64),
                (float(m.voxel_size.x), float(m.voxel_size.y), float(m.voxel_size.z)),
                (float(h.origin.x), float(h.origin.y), float(h.origin.z)),
                (int(h.nxstart), int(h.nystart), int(h.nzstart)))


# --------------------------------------------------------------------------------------------
# Small helpers shared by both modes
# --------------------------------------------------------------------------------------------
def is_smooth7(n):
    for p in (2, 3, 5, 7):
        while n % p == 0:
            n //= p
    return n == 1


def padded_size(w, pad_factor):
    n = math.ceil(pad_factor * w - 1e-9)  # ceil(pad_factor*w), robust to 1.5*7 = 10.5 etc.
    n = max(n, w)
    while not is_smooth7(n):
        n += 1
    return n


def outside_mean(vol, mask):
    """Mean of vol over voxels with mask < 0.5 (the whole map when there is no mask)."""
    if mask is None:
        return float(vol.mean())
    sel = mask < 0.5
    return float(vol[sel].mean())


def extended(vol, w, fill):
    """vol embedded in a box w voxels larger on every side, filled with `fill` (never wrap)."""
    return np.pad(vol, w, mode="constant", constant_values=fill)


def cut_cube(ext, c, w):
    """w^3 cube of the original map whose index w//2 is voxel c (c in original coordinates).
    For even w: [c - w/2, c + w/2); for odd w: [c - (w-1)/2, c + (w-1)/2]."""
    lo = [ci - w // 2 + w for ci in c]  # +w: offset of the extension
    return ext[lo[0]:lo[0] + w, lo[1]:lo[1] + w, lo[2]:lo[2] + w]


# --------------------------------------------------------------------------------------------
# ARCHITECTURE §1.2 ("exact" mode), naive: full complex FFT, inverse FFT per voxel
# --------------------------------------------------------------------------------------------
def exact_shells(P):
    k = np.rint(np.fft.fftfreq(P) * P)  # wrapped integer frequency index (exact integers)
    kz, ky, kx = np.meshgrid(k, k, k, indexing="ij")
    kk = np.sqrt(kz ** 2 + ky ** 2 + kx ** 2)
    s = np.rint(kk).astype(np.int64)  # |k| = sqrt(integer) is never exactly x.5: no ties
    nshell = int(round(math.sqrt(3) * P / 2)) + 1
    assert s.max() < nshell
    return s, nshell


def exact_voxel(cE, cM, P, shells, nshell, offset=(0, 0, 0)):
    """Naive per-voxel scaling.  The cube is placed at `offset` in the P^3 zero box (circularly,
    offset (0,0,0) = the corner [0,w)), and the value is read at offset + w//2 (mod P)."""
    w = cE.shape[0]
    padE = np.zeros((P, P, P))
    padM = np.zeros((P, P, P))
    padE[:w, :w, :w] = cE
    padM[:w, :w, :w] = cM
    padE = np.roll(padE, offset, axis=(0, 1, 2))
    padM = np.roll(padM, offset, axis=(0, 1, 2))
    FE = np.fft.fftn(padE)
    FM = np.fft.fftn(padM)
    PE = np.bincount(shells.ravel(), weights=(np.abs(FE) ** 2).ravel(), minlength=nshell)
    PM = np.bincount(shells.ravel(), weights=(np.abs(FM) ** 2).ravel(), minlength=nshell)
    g = np.zeros(nshell)
    nz = PE > 0
    g[nz] = np.sqrt(PM[nz] / PE[nz])
    out = np.fft.ifftn(FE * g[shells]).real
    i = [(o + w // 2) % P for o in offset]
    return out[i[0], i[1], i[2]], g


def exact_voxel_fast(cE, cM, P, pad_factor_unused=None):
    """ARCHITECTURE §1.2's one-pass formula (r2c half spectrum, Hermitian weights, cube shifted so c is
    at index 0, no inverse FFT).  Only used as a self-check against the naive path."""
    w = cE.shape[0]
    padE = np.zeros((P, P, P))
    padM = np.zeros((P, P, P))
    padE[:w, :w, :w] = cE
    padM[:w, :w, :w] = cM
    sh = (-(w // 2),) * 3
    FE = np.fft.rfftn(np.roll(padE, sh, axis=(0, 1, 2)))
    FM = np.fft.rfftn(np.roll(padM, sh, axis=(0, 1, 2)))
    k = np.rint(np.fft.fftfreq(P) * P)
    kx = np.arange(P // 2 + 1)
    KZ, KY, KX = np.meshgrid(k, k, kx, indexing="ij")
    s = np.rint(np.sqrt(KZ ** 2 + KY ** 2 + KX ** 2)).astype(np.int64).ravel()
    wt = np.where(KX == 0, 1.0, 2.0)
    if P % 2 == 0:
        wt = np.where(KX == P // 2, 1.0, wt)
    wt = wt.ravel()
    ns = int(round(math.sqrt(3) * P / 2)) + 1
    PE = np.bincount(s, wt * np.abs(FE.ravel()) ** 2, ns)
    PM = np.bincount(s, wt * np.abs(FM.ravel()) ** 2, ns)
    R = np.bincount(s, wt * FE.ravel().real, ns)
    g = np.zeros(ns)
    g[PE > 0] = np.sqrt(PM[PE > 0] / PE[PE > 0])
    return float((g * R).sum()) / P ** 3


# --------------------------------------------------------------------------------------------
# docs/COMPAT-LOCSCALE2.md ("compat" mode), literally: rfftn/irfftn on the unpadded w^3 cube
# --------------------------------------------------------------------------------------------
def compat_tables(w):
    assert w % 2 == 0
    i = np.arange(w)
    l = np.arange(w // 2 + 1)
    I, J, L = np.meshgrid(i, i, l, indexing="ij")  # raw, unwrapped indices of the rfft array
    shell = np.floor(np.sqrt(I ** 2 + J ** 2 + L ** 2)).astype(np.int64)
    fz = np.fft.fftfreq(w)
    fx = np.fft.rfftfreq(w)
    FZ, FY, FX = np.meshgrid(fz, fz, fx, indexing="ij")
    fmag = np.sqrt(FZ ** 2 + FY ** 2 + FX ** 2)  # wrapped, cycles/voxel
    nodes = np.arange(w // 2 + 1) / w
    return shell, fmag, nodes


def compat_profile(F, shell, w):
    amp = np.abs(F)
    n = w // 2 + 1
    p = np.zeros(n)
    for s in range(n):
        sel = shell == s
        p[s] = amp[sel].mean()  # mean amplitude of the coefficients in shell s
    return p


def compat_gain(pE, pM):
    with np.errstate(divide="ignore", invalid="ignore"):
        g = pM / pE
    g[~np.isfinite(g)] = 0.0
    return g


def compat_voxel(cE, cM, tables):
    shell, fmag, nodes = tables
    w = cE.shape[0]
    FE = np.fft.rfftn(cE)
    FM = np.fft.rfftn(cM)
    g = compat_gain(compat_profile(FE, shell, w), compat_profile(FM, shell, w))
    scale = np.interp(fmag, nodes, g)  # clamped to g[w/2] beyond 0.5
    out = np.fft.irfftn(scale * FE, s=cE.shape, axes=(0, 1, 2))
    return out[w // 2, w // 2, w // 2], g


def compat_voxel_fullfft(cE, cM, tables):
    """Same as compat_voxel with complex fftn/ifftn (self-check of the oracle)."""
    shell, _, nodes = tables
    w = cE.shape[0]
    FE = np.fft.fftn(cE)
    FM = np.fft.fftn(cM)
    h = w // 2 + 1
    g = compat_gain(compat_profile(FE[:, :, :h], shell, w), compat_profile(FM[:, :, :h], shell, w))
    f = np.fft.fftfreq(w)
    FZ, FY, FX = np.meshgrid(f, f, f, indexing="ij")
    scale = np.interp(np.sqrt(FZ ** 2 + FY ** 2 + FX ** 2), nodes, g)
    out = np.fft.ifftn(scale * FE)
    return out.real[w // 2, w // 2, w // 2]


def compat_voxel_fast(cE, cM, tables):
    """COMPAT-LOCSCALE2.md's one-pass formula (self-check only)."""
    shell, fmag, nodes = tables
    w = cE.shape[0]
    sh = (-(w // 2),) * 3
    FEs = np.fft.rfftn(np.roll(cE, sh, axis=(0, 1, 2)))
    FE = np.fft.rfftn(cE)
    FM = np.fft.rfftn(cM)
    g = compat_gain(compat_profile(FE, shell, w), compat_profile(FM, shell, w))
    n = w // 2 + 1
    l = np.arange(w // 2 + 1)
    wt = np.broadcast_to(np.where((l > 0) & (l < w // 2), 2.0, 1.0), FE.shape)
    t = fmag * w
    R = np.zeros(n)
    for idx in np.ndindex(FE.shape):
        v = wt[idx] * FEs[idx].real
        if t[idx] >= w // 2:
            R[w // 2] += v
        else:
            s0 = int(math.floor(t[idx]))
            fr = t[idx] - s0
            R[s0] += (1 - fr) * v
            R[s0 + 1] += fr * v
    return float((g * R).sum()) / w ** 3


# --------------------------------------------------------------------------------------------
# Whole-map drivers
# --------------------------------------------------------------------------------------------
def scaled_voxels(mask, shape):
    if mask is None:
        return [tuple(int(v) for v in c) for c in np.ndindex(shape)]
    return [tuple(int(v) for v in c) for c in np.argwhere(mask >= 0.5)]


def run_exact(E, M, mask, w, pad_factor):
    P = padded_size(w, pad_factor)
    shells, nshell = exact_shells(P)
    extE = extended(E, w, outside_mean(E, mask))
    extM = extended(M, w, outside_mean(M, mask))
    out = np.zeros(E.shape)
    gmax = 0.0
    vox = scaled_voxels(mask, E.shape)
    for c in vox:
        v, g = exact_voxel(cut_cube(extE, c, w), cut_cube(extM, c, w), P, shells, nshell)
        assert np.all(np.isfinite(g))
        gmax = max(gmax, float(g.max()))
        out[c] = v
    return out, P, len(vox), gmax


def run_compat(E, M, mask, w):
    assert w % 2 == 0
    # The reference pads ("window bleed") only when a masked voxel lies within w/2 of an edge;
    # the fixtures are built so that this holds (asserted here), so the drop rule never applies.
    idx = np.argwhere(mask >= 0.5)
    n = np.array(mask.shape)
    assert np.any(idx.min(axis=0) < w // 2) or np.any(idx.max(axis=0) >= n - w // 2), "mask must touch the edge"
    tables = compat_tables(w)
    extE = extended(E, w, outside_mean(E, mask))
    extM = extended(M, w, outside_mean(M, mask))
    out = np.zeros(E.shape)
    gmax = 0.0
    vox = scaled_voxels(mask, E.shape)
    for c in vox:
        v, g = compat_voxel(cut_cube(extE, c, w), cut_cube(extM, c, w), tables)
        assert np.all(np.isfinite(g))
        gmax = max(gmax, float(g.max()))
        out[c] = v
    return out, w, len(vox), gmax


def self_checks(E, M, mask, rng):
    """Cheap sanity checks of the oracle itself (asserted)."""
    vox = scaled_voxels(mask, E.shape)
    picks = [vox[0], vox[-1]] + [vox[i] for i in rng.choice(len(vox), 4, replace=False)]
    worst = {}
    # 1. compat: rfftn/irfftn == fftn/ifftn, and == the one-pass formula of COMPAT-LOCSCALE2.md
    w = 8
    tables = compat_tables(w)
    extE = extended(E, w, outside_mean(E, mask))
    extM = extended(M, w, outside_mean(M, mask))
    for c in picks:
        cE, cM = cut_cube(extE, c, w), cut_cube(extM, c, w)
        a, _ = compat_voxel(cE, cM, tables)
        b = compat_voxel_fullfft(cE, cM, tables)
        f = compat_voxel_fast(cE, cM, tables)
        scale = max(1.0, abs(a))
        assert abs(a - b) <= 1e-10 * scale, (c, a, b)
        assert abs(a - f) <= 1e-10 * scale, (c, a, f)
        worst["compat_rfft_vs_fft"] = max(worst.get("compat_rfft_vs_fft", 0), abs(a - b))
        worst["compat_naive_vs_onepass"] = max(worst.get("compat_naive_vs_onepass", 0), abs(a - f))
    # 2. exact: invariant to where the cube sits in the padded box (read-out index compensated),
    #    and equal to ARCHITECTURE §1.2's one-pass formula (r2c weights, no inverse FFT)
    for w, pf in ((8, 2), (8, 1), (7, 2), (7, 1)):
        P = padded_size(w, pf)
        shells, nshell = exact_shells(P)
        extE = extended(E, w, outside_mean(E, mask))
        extM = extended(M, w, outside_mean(M, mask))
        offsets = [(0, 0, 0), (1, 2, 3), (P - 3, P - 1, 5 % P), (P - w // 2, P - w // 2, P - w // 2)]
        for c in picks:
            cE, cM = cut_cube(extE, c, w), cut_cube(extM, c, w)
            ref, _ = exact_voxel(cE, cM, P, shells, nshell)
            scale = max(1.0, abs(ref))
            for off in offsets[1:]:
                v, _ = exact_voxel(cE, cM, P, shells, nshell, offset=off)
                assert abs(v - ref) <= 1e-10 * scale, (w, pf, c, off, v, ref)
                worst["exact_placement"] = max(worst.get("exact_placement", 0), abs(v - ref))
            f = exact_voxel_fast(cE, cM, P)
            assert abs(f - ref) <= 1e-10 * scale, (w, pf, c, f, ref)
            worst["exact_naive_vs_onepass"] = max(worst.get("exact_naive_vs_onepass", 0), abs(f - ref))
    return worst


# --------------------------------------------------------------------------------------------
# Synthetic data
# --------------------------------------------------------------------------------------------
def gaussian_atoms(shape, voxel, centers_vox, B, amp=1.0):
    """Sum of isotropic Gaussians, rho(r) = amp * (4pi/B)^1.5 exp(-4 pi^2 r^2 / B), r in Å,
    evaluated at voxel centres (no band limit: it is synthetic data, not a simulation)."""
    z, y, x = [np.arange(n) * voxel for n in shape]
    out = np.zeros(shape)
    pref = amp * (4 * math.pi / B) ** 1.5
    a = 4 * math.pi ** 2 / B
    for cz, cy, cx in centers_vox * voxel:
        gz = np.exp(-a * (z - cz) ** 2)
        gy = np.exp(-a * (y - cy) ** 2)
        gx = np.exp(-a * (x - cx) ** 2)
        out += pref * gz[:, None, None] * gy[None, :, None] * gx[None, None, :]
    return out


def ellipsoid_r(shape, centre, semi):
    Z, Y, X = np.meshgrid(*[np.arange(n, dtype=float) for n in shape], indexing="ij")
    return np.sqrt(((Z - centre[0]) / semi[0]) ** 2 + ((Y - centre[1]) / semi[1]) ** 2 +
                   ((X - centre[2]) / semi[2]) ** 2)


def make_synthetic(shape, voxel, seed, mask_centre, mask_semi, n_atoms, lumps):
    rng = np.random.default_rng(seed)
    # soft ellipsoidal mask (logistic edge ~1 voxel wide)
    r = ellipsoid_r(shape, mask_centre, mask_semi)
    mask = 1.0 / (1.0 + np.exp((r - 1.0) / 0.08))
    mask = mask.astype(np.float32)
    # no mask voxel exactly 0.5 (then ">= 0.5", "> 0.5", "< 0.5", "<= 0.5" all agree)
    mask[mask == np.float32(0.5)] = np.float32(0.5000001)
    # atoms: rejection-sample an irregular region = union of a few ellipsoidal lumps (voxel units)
    atoms = []
    while len(atoms) < n_atoms:
        p = rng.uniform([-1, -1, -1], np.array(shape) + 1.0)
        for cen, semi in lumps:
            if np.sum(((p - cen) / semi) ** 2) <= 1.0:
                atoms.append(p)
                break
    atoms = np.array(atoms)
    occ = rng.uniform(0.6, 1.4, len(atoms))
    model = sum(gaussian_atoms(shape, voxel, atoms[i:i + 1], 20.0, occ[i]) for i in range(len(atoms)))
    # "experimental": B rising from 50 (centre of the region) to 180 Å^2 (outside), by blending
    blur = {B: sum(gaussian_atoms(shape, voxel, atoms[i:i + 1], B, occ[i]) for i in range(len(atoms)))
            for B in (50.0, 110.0, 180.0)}
    rc = ellipsoid_r(shape, lumps[0][0], np.array(mask_semi) * 1.1)
    t = np.clip(rc, 0.0, 1.0)  # 0 in the core -> 1 at the mask edge and beyond
    w50 = np.clip(1 - 2 * t, 0, 1)
    w180 = np.clip(2 * t - 1, 0, 1)
    w110 = 1 - w50 - w180
    em = 0.35 * (w50 * blur[50.0] + w110 * blur[110.0] + w180 * blur[180.0])
    em += 0.15 * em[mask >= 0.5].std() * rng.standard_normal(shape) + 0.02  # noise + offset
    return model.astype(np.float32), em.astype(np.float32), mask, len(atoms)


# --------------------------------------------------------------------------------------------
# MRC reader fixtures
# --------------------------------------------------------------------------------------------
def reader_fixtures(cases):
    logical = np.arange(60).reshape(3, 4, 5)  # (z, y, x)
    desc = "numpy.arange(60).reshape(3,4,5) as (z,y,x), x fastest; value at (z,y,x) = 20z+5y+x"
    modes = {0: "i1", 1: "<i2", 2: "<f4", 6: "<u2", 12: "<f2"}
    for mode, dt in modes.items():
        name = f"iota_mode{mode}.mrc"
        with mrcfile.new(os.path.join(DATA, name), overwrite=True) as m:
            m.set_data(logical.astype(dt))
            m.voxel_size = 1.0
            _finish_header(m)
        cases["mrc_reader"].append(dict(file=name, mode=mode, dtype=np.dtype(dt).name, logical_zyx=desc,
                                        shape_zyx=[3, 4, 5], voxel_size_xyz=[1.0, 1.0, 1.0],
                                        nstart_xyz=[0, 0, 0], origin_xyz=[0.0, 0.0, 0.0]))
    # axis orders
    size_xyz = (5, 4, 3)
    vox_xyz = (1.0, 1.5, 2.0)
    start_xyz = (1, 2, 3)
    for perm in itertools.permutations((1, 2, 3)):
        mapc, mapr, maps = perm
        # on-disk array dims (section, row, column) are axes (maps, mapr, mapc); logical array
        # dim of axis a (1=X,2=Y,3=Z) is 3-a
        disk = np.ascontiguousarray(logical.transpose(3 - maps, 3 - mapr, 3 - mapc)).astype("<f4")
        name = f"iota_axes_{mapc}{mapr}{maps}.mrc"
        with mrcfile.new(os.path.join(DATA, name), overwrite=True) as m:
            m.set_data(disk)  # sets nx,ny,nz (= NC,NR,NS) from the on-disk shape
            h = m.header
            h.mapc, h.mapr, h.maps = mapc, mapr, maps
            h.mx, h.my, h.mz = size_xyz  # sampling along X, Y, Z (not permuted)
            h.cella.x, h.cella.y, h.cella.z = [n * v for n, v in zip(size_xyz, vox_xyz)]
            # NXSTART/NYSTART/NZSTART are the starts of the column/row/section (file order)
            h.nxstart, h.nystart, h.nzstart = [start_xyz[a - 1] for a in perm]
            _finish_header(m)
            header_words = dict(nx=int(h.nx), ny=int(h.ny), nz=int(h.nz), nxstart=int(h.nxstart),
                                nystart=int(h.nystart), nzstart=int(h.nzstart), mx=int(h.mx),
                                my=int(h.my), mz=int(h.mz),
                                cella=[float(h.cella.x), float(h.cella.y), float(h.cella.z)],
                                mapc=mapc, mapr=mapr, maps=maps)
        cases["mrc_reader"].append(dict(file=name, mode=2, logical_zyx=desc, shape_zyx=[3, 4, 5],
                                        voxel_size_xyz=list(vox_xyz), nstart_xyz=list(start_xyz),
                                        origin_xyz=[0.0, 0.0, 0.0], header_words=header_words))
    # big-endian
    name = "iota_bigendian.mrc"
    with mrcfile.new(os.path.join(DATA, name), overwrite=True) as m:
        m.set_data(logical.astype(">f4"))  # mrcfile swaps the header too, machst = 11 11 00 00
        m.voxel_size = 1.0
        _finish_header(m)
    raw = open(os.path.join(DATA, name), "rb").read()
    assert raw[212:216] == b"\x11\x11\x00\x00" and raw[0:4] == b"\x00\x00\x00\x05"
    cases["mrc_reader"].append(dict(file=name, mode=2, byte_order="big", machst="11 11 00 00",
                                    logical_zyx=desc, shape_zyx=[3, 4, 5], voxel_size_xyz=[1.0] * 3,
                                    nstart_xyz=[0, 0, 0], origin_xyz=[0.0, 0.0, 0.0]))
    # extended header of 160 junk bytes
    name = "iota_exthdr.mrc"
    junk = np.random.default_rng(7).integers(0, 256, 160, dtype=np.uint8).tobytes()
    with mrcfile.new(os.path.join(DATA, name), overwrite=True) as m:
        m.set_data(logical.astype("<f4"))
        m.set_extended_header(np.frombuffer(junk, dtype="V1"))
        m.voxel_size = 1.0
        _finish_header(m)
    raw = open(os.path.join(DATA, name), "rb").read()
    assert int.from_bytes(raw[92:96], "little") == 160 and len(raw) == 1024 + 160 + 240
    cases["mrc_reader"].append(dict(file=name, mode=2, nsymbt=160, exttyp="",
                                    logical_zyx=desc, shape_zyx=[3, 4, 5], voxel_size_xyz=[1.0] * 3,
                                    nstart_xyz=[0, 0, 0], origin_xyz=[0.0, 0.0, 0.0]))
    # read back every reader fixture with mrcfile and check the logical array
    for c in cases["mrc_reader"]:
        with mrcfile.open(os.path.join(DATA, c["file"])) as m:
            h = m.header
            d = np.asarray(m.data, dtype=np.float64)
            order = (int(h.mapc), int(h.mapr), int(h.maps))
            # disk dims (s, r, c) hold axes (maps, mapr, mapc); bring them to (Z, Y, X)
            axes_of_dims = [order[2], order[1], order[0]]
            zyx = np.transpose(d, [axes_of_dims.index(a) for a in (3, 2, 1)])
            assert np.array_equal(zyx, logical), c["file"]
            vs = [float(h.cella.x) / int(h.mx), float(h.cella.y) / int(h.my), float(h.cella.z) / int(h.mz)]
            assert np.allclose(vs, c["voxel_size_xyz"]), c["file"]
            st = [int(h.nxstart), int(h.nystart), int(h.nzstart)]
            assert [st[order.index(a)] for a in (1, 2, 3)] == c["nstart_xyz"], c["file"]


# --------------------------------------------------------------------------------------------
def main():
    t0 = time.time()
    os.makedirs(DATA, exist_ok=True)
    cases = {"generator": "Tests/Fixtures/make_fixtures.py", "scaling": [], "mrc_reader": [],
             "self_checks": {}}

    variants = [
        # prefix, shape (nz,ny,nx), voxel, origin field (x,y,z), nstart (x,y,z), seed, mask
        # centre/semi-axes (z,y,x voxels), atoms, lumps (centre, semi-axes in voxels), cases
        dict(prefix="", shape=(20, 18, 22), voxel=1.2, origin=(-7.5, 3.0, 12.25), nstart=(0, 0, 0),
             seed=20240501, mask_centre=(11.0, 8.5, 8.0), mask_semi=(9.0, 7.0, 9.5), n_atoms=140,
             lumps=[((10.5, 8.5, 9.0), (6.5, 5.5, 7.5)), ((5.0, 6.0, 3.0), (3.5, 3.0, 4.0)),
                    ((15.0, 12.0, 13.0), (3.0, 3.0, 3.5))],
             cases=[("exact", 8, 1), ("exact", 8, 2), ("exact", 7, 2), ("compat", 8, None),
                    ("exact-nomask", 8, 2)]),
        dict(prefix="b_", shape=(16, 21, 19), voxel=1.05, origin=(0.0, 0.0, 0.0), nstart=(-9, -10, -8),
             seed=77, mask_centre=(3.0, 12.0, 9.0), mask_semi=(7.0, 8.5, 7.0), n_atoms=110,
             lumps=[((5.0, 11.0, 9.0), (5.5, 6.5, 5.5)), ((2.0, 16.0, 12.0), (3.0, 4.0, 3.0))],
             cases=[("exact", 7, 1), ("exact", 7, 1.5), ("compat", 8, None)]),
    ]
    rng_checks = np.random.default_rng(99)
    for V in variants:
        pre = V["prefix"]
        model, em, mask, nat = make_synthetic(V["shape"], V["voxel"], V["seed"], V["mask_centre"],
                                              V["mask_semi"], V["n_atoms"], V["lumps"])
        for nm, arr in (("model", model), ("em", em), ("mask", mask)):
            write_map(os.path.join(DATA, f"{pre}{nm}.mrc"), arr, V["voxel"], V["origin"], V["nstart"])
        # compute from exactly what is in the files
        M, vs, org, nst = read_map(os.path.join(DATA, f"{pre}model.mrc"))
        E, _, _, _ = read_map(os.path.join(DATA, f"{pre}em.mrc"))
        K, _, _, _ = read_map(os.path.join(DATA, f"{pre}mask.mrc"))
        assert E.shape == V["shape"] and np.allclose(vs, V["voxel"]) and org == tuple(map(float, V["origin"]))
        sel = K >= 0.5
        edge = {ax: [bool(np.take(sel, 0, axis=ax).any()), bool(np.take(sel, -1, axis=ax).any())]
                for ax in range(3)}
        assert any(any(v) for v in edge.values()), "mask must touch the box edge"
        frac = sel.mean()
        print(f"[{pre or 'a_'}] shape {E.shape} voxel {vs[0]:.4f} origin {org} nstart {nst}; "
              f"{nat} atoms; mask>=0.5: {sel.sum()} voxels ({100 * frac:.1f} %); "
              f"touches edge planes (z,y,x)x(first,last): {[edge[a] for a in range(3)]}")
        if not pre:
            assert 0.25 <= frac <= 0.40, frac
            t = time.time()
            cases["self_checks"] = self_checks(E, M, K, rng_checks)
            print(f"  self-checks passed ({time.time() - t:.1f} s): "
                  + ", ".join(f"{k} max|diff| {v:.1e}" for k, v in cases["self_checks"].items()))
        results = {}
        for kind, w, pf in V["cases"]:
            t = time.time()
            if kind == "compat":
                out, P, n, gmax = run_compat(E, M, K, w)
                name = f"{pre}expected_compat_w{w}.mrc"
                mask_file = f"{pre}mask.mrc"
            elif kind == "exact":
                out, P, n, gmax = run_exact(E, M, K, w, pf)
                name = f"{pre}expected_exact_w{w}_pad{pf:g}.mrc"
                mask_file = f"{pre}mask.mrc"
            else:  # no mask: every voxel scaled, extension mean over the whole map
                out, P, n, gmax = run_exact(E, M, None, w, pf)
                name = f"{pre}expected_exact_w{w}_pad{pf:g}_nomask.mrc"
                mask_file = None
            dt = time.time() - t
            assert np.all(np.isfinite(out))
            write_map(os.path.join(DATA, name), out, V["voxel"], V["origin"], V["nstart"])
            results[name] = out
            cases["scaling"].append(dict(
                expected=name, em=f"{pre}em.mrc", model=f"{pre}model.mrc", mask=mask_file,
                mode="compat" if kind == "compat" else "exact", window=w,
                pad_factor="compat" if kind == "compat" else pf, padded_size=P,
                centre_index_in_cube=w // 2, n_scaled=n, shape_zyx=list(E.shape),
                voxel_size=V["voxel"], origin_xyz=list(map(float, V["origin"])),
                nstart_xyz=list(V["nstart"]),
                outside_mean_em=outside_mean(E, K if mask_file else None),
                outside_mean_model=outside_mean(M, K if mask_file else None),
                max_gain=gmax, max_abs_expected=float(np.abs(out).max())))
            print(f"  {name:38s} w={w} P={P:2d} scaled={n:5d} max gain {gmax:8.3f} "
                  f"max|out| {np.abs(out).max():.4f}  ({dt:.1f} s)")
        # relative differences between the cases (over the scaled voxels of the mask)
        names = [k for k in results if "nomask" not in k]
        for a, b in itertools.combinations(names, 2):
            d = np.linalg.norm((results[a] - results[b])[sel]) / np.linalg.norm(results[b][sel])
            print(f"  rel. L2 diff {a} vs {b}: {d:.3f}")
        if not pre:
            nm = f"{pre}expected_exact_w8_pad2_nomask.mrc"
            d = np.linalg.norm((results[nm] - results["expected_exact_w8_pad2.mrc"])[sel]) / \
                np.linalg.norm(results["expected_exact_w8_pad2.mrc"][sel])
            print(f"  rel. L2 diff (inside mask) nomask vs masked w8 pad2: {d:.3f}")
            em_in = E[sel]
            d = np.linalg.norm(results["expected_exact_w8_pad2.mrc"][sel] - em_in) / np.linalg.norm(em_in)
            print(f"  rel. L2 diff expected_exact_w8_pad2 vs em (inside mask): {d:.3f}")

    reader_fixtures(cases)
    with open(os.path.join(DATA, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(DATA, f)) for f in os.listdir(DATA))
    print(f"wrote {len(os.listdir(DATA))} files, {total / 1024:.0f} KiB, in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
