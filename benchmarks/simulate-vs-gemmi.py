#!/usr/bin/env python3
"""Model-map simulation cost: localscale simulate against gemmi's DensityCalculatorE doing the
same work (density on the 2× finer grid with the same extra blur, FFT, unblur and cut, fold).

    benchmarks/simulate-vs-gemmi.py MODEL GRID.mrc [--threads N]
    benchmarks/simulate-vs-gemmi.py --make-model OUT.cif --atoms 250000 --size 400

--make-model writes a deterministic synthetic model: atoms (C, N, O, P, S) in an irregular
250 Å particle centred in a SIZE Å box, B from 20 to 80 Å², and a SIZE³ grid at 1 Å (zeros).
"""
import argparse
import math
import os
import subprocess
import sys
import time

import numpy as np


def make_model(path, atoms, size):
    import gemmi
    import mrcfile
    rng = np.random.default_rng(7)
    centre = np.full(3, size / 2)
    points = []
    while len(points) < atoms:
        p = rng.uniform(-125, 125, size=(atoms, 3))
        r = np.linalg.norm(p * [1.0, 0.85, 0.7], axis=1)
        points.extend(p[r < 125][: atoms - len(points)])
    points = np.array(points) + centre
    st = gemmi.Structure()
    st.cell = gemmi.UnitCell(size, size, size, 90, 90, 90)
    model = gemmi.Model("1")
    elements = rng.choice(["C", "N", "O", "P", "S"], size=atoms, p=[0.55, 0.17, 0.2, 0.06, 0.02])
    bs = rng.uniform(20, 80, size=atoms)
    for c in range(0, atoms, 50000):
        chain = gemmi.Chain(f"{c // 50000 + 1}")
        for start in range(c, min(c + 50000, atoms), 10):
            res = gemmi.Residue()
            res.name = "UNK"
            res.seqid = gemmi.SeqId((start - c) // 10 + 1, " ")
            for i in range(start, min(start + 10, atoms)):
                a = gemmi.Atom()
                a.name = f"{elements[i]}{i % 10}"
                a.element = gemmi.Element(elements[i])
                a.pos = gemmi.Position(*points[i])
                a.b_iso = bs[i]
                a.occ = 1.0
                res.add_atom(a)
            chain.add_residue(res)
        model.add_chain(chain)
    st.add_model(model)
    st.setup_entities()
    doc = st.make_mmcif_document()
    doc.write_file(path)
    grid = os.path.splitext(path)[0] + "-grid.mrc"
    with mrcfile.new(grid, overwrite=True) as m:
        m.set_data(np.zeros((size, size, size), dtype=np.float32))
        m.voxel_size = 1.0
    print(f"wrote {path} ({atoms} atoms) and {grid} ({size}³ at 1 Å)")


def gemmi_time(model_path, grid_path, threads):
    import gemmi
    import mrcfile
    with mrcfile.open(grid_path, header_only=True) as m:
        n = np.array([int(m.header.nx), int(m.header.ny), int(m.header.nz)])
        vox = np.array([float(m.voxel_size.x), float(m.voxel_size.y), float(m.voxel_size.z)])
    st = gemmi.read_structure(model_path)
    model = st[0]
    start = time.perf_counter()
    dc = gemmi.DensityCalculatorE()
    dc.grid.set_unit_cell(gemmi.UnitCell(*(n * vox), 90, 90, 90))
    dc.grid.set_size(*[int(v) for v in 2 * n])
    b_min = min(at.b_iso for ch in model for res in ch for at in res)
    dc.blur = max(0.0, 40.0 - b_min)
    dc.put_model_density_on_grid(model)
    summed = time.perf_counter()
    fine = np.array(dc.grid.array, dtype=np.float32)
    spectrum = np.fft.rfftn(fine)
    done = time.perf_counter()
    return summed - start, done - summed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", nargs="?")
    ap.add_argument("grid", nargs="?")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--make-model")
    ap.add_argument("--atoms", type=int, default=250000)
    ap.add_argument("--size", type=int, default=400)
    a = ap.parse_args()
    if a.make_model:
        make_model(a.make_model, a.atoms, a.size)
        return
    binary = os.environ.get("LOCALSCALE_BIN", "localscale")
    start = time.perf_counter()
    subprocess.run([binary, "simulate", "--model", a.model, "--like", a.grid, "--threads", str(a.threads),
                    "--out", "/tmp/simulate-bench.mrc"], check=True, capture_output=True)
    ours = time.perf_counter() - start
    summed, fft = gemmi_time(a.model, a.grid, a.threads)
    print(f"localscale simulate ({a.threads} thread(s)): {ours:.2f} s end to end (read, sum, FFTs, write)")
    print(f"gemmi DensityCalculatorE (1 thread): {summed:.2f} s density sum + {fft:.2f} s numpy FFT of the fine grid")


if __name__ == "__main__":
    main()
