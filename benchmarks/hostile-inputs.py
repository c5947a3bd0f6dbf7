#!/usr/bin/env python3
"""Hostile inputs against the localscale binary: the promise of the README, checked kind by kind.

Every kind is made from the shipped fixture (Tests/Fixtures/data/{em,model,mask}.mrc, window 8,
and Tests/Fixtures/models/sim_small.pdb) in a scratch folder, run under a time limit, and judged:

  crash       killed by a signal, or an exit status other than 0, 1 and 2
  hang        still running at the time limit
  message     exit 1 without exactly one error line, last, "localscale: error: ..." (warnings
              "localscale: warning: ..." may come before it); exit 2 without ArgumentParser's
              "Error: ..." first line
  non-finite  exit 0 and a NaN or Inf in the output map
  overwrote   an input file changed
  leftover    a NAME.tmp-PID file left in the scratch folder
  ok          none of these (a refusal, or an output that is finite)

Each kind also says what it expects: "refuse" (exit 1/2) or "accept" (exit 0, finite). A kind that
ends otherwise is "unexpected". Standard library only (no numpy), so CI can run it.

  benchmarks/hostile-inputs.py BINARY [--only SUBSTRING] [--limit SECONDS]

Prints a table and the closing line "N passed, N failed"; exits 1 when any kind failed.
"""
import argparse
import array
import gzip
import math
import os
import shutil
import stat
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "Tests", "Fixtures")
DATA = os.path.join(FIXTURES, "data")
PDB = os.path.join(FIXTURES, "models", "sim_small.pdb")

SCALE = ["scale", "--em", "em.mrc", "--model-map", "model.mrc", "--mask", "mask.mrc", "--window", "8",
         "--out", "out.mrc"]
SIMULATE = ["simulate", "--model", "model.pdb", "--like", "sim_grid.mrc", "--out", "out.mrc"]


# ---------------------------------------------------------------------------------------------
# Making the inputs

def read(name):
    with open(os.path.join(DATA, name), "rb") as f:
        return bytearray(f.read())


def put_word(data, word, value, kind="i"):
    """MRC word `word` (1-based) of a little-endian file set to `value` ('i' int32, 'f' float32)."""
    struct.pack_into("<" + kind, data, 4 * (word - 1), value)


def header_variant(name, changes):
    data = read(name)
    for word, value, kind in changes:
        put_word(data, word, value, kind)
    return data


def values_of(data):
    """The float32 values of a little-endian mode-2 map with no extended header."""
    values = array.array("f")
    values.frombytes(bytes(data[1024:]))
    return values


def with_values(name, change):
    data = read(name)
    values = values_of(data)
    change(values)
    return data[:1024] + bytearray(values.tobytes())


def scaled(name, factor):
    return with_values(name, lambda v: v.__setitem__(slice(None), array.array("f", (x * factor for x in v))))


def set_voxel(name, index, value):
    return with_values(name, lambda v: v.__setitem__(index, value))


def pdb_variant(change):
    """sim_small.pdb with `change(columns)` applied to every ATOM line's fixed columns."""
    out = []
    with open(PDB) as f:
        for n, line in enumerate(f):
            if line.startswith(("ATOM", "HETATM")):
                line = change(n, line)
            out.append(line)
    return "".join(out).encode()


def atom_field(start, end, text, only_line=None):
    """Replace columns start..end (1-based, inclusive) with `text`, right-aligned."""
    width = end - start + 1

    def change(n, line):
        if only_line is not None and n != only_line:
            return line
        return line[:start - 1] + text.rjust(width)[:width] + line[end:]
    return change


FIRST_ATOM_LINE = 2  # line index of the first ATOM record in sim_small.pdb


class Kind:
    def __init__(self, name, args, files=None, expect="refuse", special=None):
        self.name, self.args, self.files, self.expect, self.special = name, args, files or {}, expect, special


def kinds():
    em, big = "em.mrc", 2 ** 21
    k = []
    # --- MRC headers (the experimental map unless said otherwise)
    k.append(Kind("NX = NY = NZ = 2^21", SCALE, {em: header_variant(em, [(1, big, "i"), (2, big, "i"), (3, big, "i")])}))
    k.append(Kind("NX = 2^31 - 1", SCALE, {em: header_variant(em, [(1, 2 ** 31 - 1, "i")])}))
    k.append(Kind("NX negative", SCALE, {em: header_variant(em, [(1, -22, "i")])}))
    k.append(Kind("NZ = 0", ["info", em], {em: header_variant(em, [(3, 0, "i")])}))
    k.append(Kind("NSYMBT = 2^31 - 1", SCALE, {em: header_variant(em, [(24, 2 ** 31 - 1, "i")])}))
    k.append(Kind("NSYMBT negative", ["info", em], {em: header_variant(em, [(24, -1024, "i")])}, expect="either"))
    k.append(Kind("mode 3 (complex int16)", SCALE, {em: header_variant(em, [(4, 3, "i")])}))
    k.append(Kind("mode 101 (4-bit)", SCALE, {em: header_variant(em, [(4, 101, "i")])}))
    k.append(Kind("MAPC/MAPR/MAPS = 1,1,3", SCALE, {em: header_variant(em, [(17, 1, "i"), (18, 1, "i"), (19, 3, "i")])}))
    k.append(Kind("MAPC = 2^31 - 1", ["info", em], {em: header_variant(em, [(17, 2 ** 31 - 1, "i")])}))
    k.append(Kind("4.4 TB promised over a sparse file of that size", ["info", em], special="sparse"))
    k.append(Kind("data truncated", SCALE, {em: read(em)[:5000]}))
    k.append(Kind("empty file", SCALE, {em: b""}))
    k.append(Kind("100 random bytes", SCALE, {em: bytes((i * 37 + 11) % 256 for i in range(100))}))
    k.append(Kind("4096 random bytes", ["info", em], {em: bytes((i * 7919 + 13) % 256 for i in range(4096))}))
    k.append(Kind("a directory as the map", SCALE, special="directory"))
    k.append(Kind("a FIFO as the map", SCALE, special="fifo"))
    k.append(Kind("/dev/zero as the map", ["scale", "--em", "/dev/zero", "--model-map", "model.mrc", "--mask", "none", "--window", "8",
                                           "--out", "out.mrc"]))
    k.append(Kind("voxel size 0 (CELLA 0)", ["scale", "--em", em, "--model-map", "model.mrc", "--mask", "none", "--out", "out.mrc"],
                  {em: header_variant(em, [(11, 0.0, "f")])}))
    k.append(Kind("voxel size NaN", SCALE, {em: header_variant(em, [(11, math.nan, "f")])}))
    k.append(Kind("voxel size negative", ["scale", "--em", em, "--model-map", "model.mrc", "--mask", "none", "--out", "out.mrc"],
                  {em: header_variant(em, [(11, -26.4, "f")])}))
    k.append(Kind("voxel size 1e-30", ["scale", "--em", em, "--model-map", "model.mrc", "--mask", "none", "--out", "out.mrc"],
                  {em: header_variant(em, [(11, 1e-30, "f"), (12, 1e-30, "f"), (13, 1e-30, "f")])}))
    k.append(Kind("voxel size Inf (validate)", ["validate", "--map", em, "--model-map", "model.mrc"],
                  {em: header_variant(em, [(12, math.inf, "f")])}))
    k.append(Kind("voxel size 0 in the model map", SCALE, {"model.mrc": header_variant("model.mrc", [(11, 0.0, "f")])}))
    k.append(Kind("origin NaN in the mask", SCALE, {"mask.mrc": header_variant("mask.mrc", [(50, math.nan, "f")])}))
    k.append(Kind("cell angles 60°", SCALE, {em: header_variant(em, [(14, 60.0, "f")])}))
    k.append(Kind("ISPG 401 volume stack", ["info", em], {em: header_variant(em, [(23, 401, "i"), (10, 10, "i")])}))
    k.append(Kind("MAP word 'MAP\\0' (MotionCor2)", ["info", em], special="mapword-nul", expect="accept"))
    k.append(Kind("no MAP word (old CCP4)", ["info", em], special="mapword-none", expect="either"))
    # --- map values
    k.append(Kind("NaN voxel in the map", SCALE, {em: set_voxel(em, 1234, math.nan)}))
    k.append(Kind("Inf voxel in the model map", SCALE, {"model.mrc": set_voxel("model.mrc", 77, math.inf)}))
    k.append(Kind("NaN in the mask", SCALE, {"mask.mrc": set_voxel("mask.mrc", 5, math.nan)}))
    k.append(Kind("validate: Inf voxel in the map", ["validate", "--map", em, "--model-map", "model.mrc"],
                  {em: set_voxel(em, 999, math.inf)}))
    k.append(Kind("validate: NaN in a half map", ["validate", "--map", em, "--model-map", "model.mrc", "--half-maps",
                                                  "model.mrc", "mask.mrc"], {"mask.mrc": set_voxel("mask.mrc", 9, math.nan)}))
    k.append(Kind("model map with one 3e38 voxel", SCALE, {"model.mrc": set_voxel("model.mrc", 4000, 3e38)},
                  expect="either"))
    k.append(Kind("model map × 1e30", SCALE, {"model.mrc": scaled("model.mrc", 1e30)}, expect="either"))
    k.append(Kind("map × 1e-25", SCALE, {em: scaled(em, 1e-25)}, expect="accept"))
    k.append(Kind("map × 1e-40 (denormal)", SCALE, {em: scaled(em, 1e-40)}, expect="either"))
    k.append(Kind("map × 1e30", SCALE, {em: scaled(em, 1e30)}, expect="either"))
    k.append(Kind("map all zero", SCALE, {em: scaled(em, 0.0)}, expect="either"))
    k.append(Kind("empty mask", SCALE, {"mask.mrc": scaled("mask.mrc", 0.0)}))
    k.append(Kind("fast mode, 1e30 and 1e-30 regions", SCALE[:-2] + ["--method", "fast", "--out", "out.mrc"],
                  {em: with_values(em, lambda v: [v.__setitem__(i, (1e30 if i < len(v) // 2 else 1e-30) * v[i])
                                                  for i in range(len(v))])}, expect="either"))
    k.append(Kind("fast mode without a mask, zero outside a blob", ["scale", "--em", em, "--model-map", "model.mrc",
              "--mask", "none", "--window", "8", "--method", "fast", "--out", "out.mrc"],
              {em: with_values(em, lambda v: [v.__setitem__(i, v[i] if 3000 < i < 5000 else 0.0) for i in range(len(v))])},
              expect="accept"))
    # The slab kept holds the noise cubes of the central planes: nothing tells the map was cut.
    k.append(Kind("automatic mask of a map zero outside central planes", ["scale", "--em", em, "--model-map",
              "model.mrc", "--window", "8", "--out", "out.mrc"],
              {em: with_values(em, lambda v: [v.__setitem__(i, v[i] if 3000 < i < 5000 else 0.0) for i in range(len(v))])},
              expect="accept"))
    k.append(Kind("automatic mask of an all-zero map", ["scale", "--em", em, "--model-map", "model.mrc", "--window", "8",
                                                        "--out", "out.mrc"], {em: scaled(em, 0.0)}))
    # --- atomic models
    x, y, z, occ, b = (31, 38), (39, 46), (47, 54), (55, 60), (61, 66)
    for label, field, text in [("NaN coordinate", x, "nan"), ("Inf coordinate", y, "inf"),
                               ("coordinate 1e30", z, "1e30"), ("B = 1e30", b, "1e30"), ("B = 1e8", b, "1e8"),
                               ("B = -999", b, "-999"), ("B = -1e6", b, "-1e6"), ("occupancy NaN", occ, "nan"),
                               ("occupancy -1", occ, "-1")]:
        k.append(Kind("model: " + label, SIMULATE, {"model.pdb": pdb_variant(atom_field(*field, text, FIRST_ATOM_LINE))}))
    k.append(Kind("model: every occupancy -1", SIMULATE, {"model.pdb": pdb_variant(atom_field(*occ, "-1.00"))}))
    k.append(Kind("model: every occupancy 0", SIMULATE, {"model.pdb": pdb_variant(atom_field(*occ, "0.00"))}))
    k.append(Kind("model: a directory", SIMULATE, special="model-directory"))
    k.append(Kind("model: corrupt .gz", [a if a != "model.pdb" else "model.pdb.gz" for a in SIMULATE],
                  {"model.pdb.gz": gzip.compress(open(PDB, "rb").read())[:300]}))
    k.append(Kind("model: random bytes", SIMULATE, {"model.pdb": bytes((i * 131 + 7) % 256 for i in range(3000))}))
    k.append(Kind("model: empty file", SIMULATE, {"model.pdb": b""}))
    k.append(Kind("scale --model with a NaN coordinate", ["scale", "--em", em, "--model", "model.pdb", "--mask", "none", "--window", "8",
                                                          "--out", "out.mrc"],
                  {"model.pdb": pdb_variant(atom_field(*x, "nan", FIRST_ATOM_LINE))}))
    # --- outputs and options
    k.append(Kind("--timings-json names the map", SCALE + ["--timings-json", em]))
    k.append(Kind("--out names the mask", SCALE[:-1] + ["mask.mrc"]))
    k.append(Kind("--hdf5 names --out", SCALE + ["--hdf5", "./out.mrc"]))
    k.append(Kind("--mask-out names the map", ["scale", "--em", em, "--model-map", "model.mrc", "--out", "out.mrc",
                                               "--mask-out", em]))
    k.append(Kind("--fdr nan", ["scale", "--em", em, "--model-map", "model.mrc", "--out", "out.mrc", "--fdr", "nan"]))
    k.append(Kind("simulate --out names --like", SIMULATE[:-1] + ["sim_grid.mrc"]))
    k.append(Kind("--out in a missing folder", SCALE[:-1] + ["no/such/../../x/out.mrc"]))
    k.append(Kind("--out under a file", SCALE[:-1] + ["em.mrc/out.mrc"]))
    k.append(Kind("--window 0", SCALE[:-3] + ["0", "--out", "out.mrc"]))
    k.append(Kind("--window 100000", SCALE[:-3] + ["100000", "--out", "out.mrc"]))
    k.append(Kind("--pad-factor nan", SCALE + ["--pad-factor", "nan"]))
    k.append(Kind("--threads 0", SCALE + ["--threads", "0"]))
    k.append(Kind("simulate --resolution 0", SIMULATE + ["--resolution", "0"]))
    k.append(Kind("simulate --resolution nan", SIMULATE + ["--resolution", "nan"]))
    k.append(Kind("--fast-exact-shells 1000000", SCALE + ["--method", "fast", "--fast-exact-shells", "1000000"],
                  expect="either"))
    return k


def prepare(kind, folder):
    for name in ["em.mrc", "model.mrc", "mask.mrc", "sim_grid.mrc"]:
        shutil.copy(os.path.join(DATA, name), os.path.join(folder, name))
    shutil.copy(PDB, os.path.join(folder, "model.pdb"))
    for name, data in kind.files.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    em = os.path.join(folder, "em.mrc")
    if kind.special == "sparse":
        data = header_variant("em.mrc", [(1, 10000, "i"), (2, 10000, "i"), (3, 11000, "i")])
        with open(em, "wb") as f:
            f.write(data[:1024])
            f.truncate(1024 + 4 * 10000 * 10000 * 11000)
    elif kind.special == "directory":
        os.remove(em)
        os.mkdir(em)
    elif kind.special == "model-directory":
        os.remove(os.path.join(folder, "model.pdb"))
        os.mkdir(os.path.join(folder, "model.pdb"))
    elif kind.special == "fifo":
        os.remove(em)
        os.mkfifo(em)
    elif kind.special in ("mapword-nul", "mapword-none"):
        data = read("em.mrc")
        data[208:212] = b"MAP\0" if kind.special == "mapword-nul" else b"\0\0\0\0"
        with open(em, "wb") as f:
            f.write(data)


def snapshot(folder):
    state = {}
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        info = os.lstat(path)
        if stat.S_ISREG(info.st_mode) and info.st_size < 10 ** 8:
            with open(path, "rb") as f:
                state[name] = f.read()
        else:
            state[name] = (info.st_mode, info.st_size)
    return state


def non_finite(path):
    """Count of NaN/Inf voxels in a mode-2 little-endian map (its extended header skipped)."""
    with open(path, "rb") as f:
        data = f.read()
    extended = struct.unpack_from("<i", data, 92)[0]
    values = array.array("f")
    values.frombytes(data[1024 + extended:])
    return sum(1 for v in values if not math.isfinite(v))


def judge(kind, status, stderr, folder, before):
    lines = stderr.decode(errors="replace").splitlines()
    if status == 124:
        return "hang", ""
    if status < 0 or status not in (0, 1, 2):
        return "crash", lines[-1] if lines else ""
    first = lines[0] if lines else ""
    after = snapshot(folder)
    for name, content in before.items():
        if after.get(name) != content:
            return "overwrote", name
    if any(".tmp-" in name for name in after):
        return "leftover", first
    errors = [l for l in lines if "error" in l.lower()]
    if status == 1 and (len(errors) != 1 or lines[-1] != errors[0] or not errors[0].startswith("localscale: error: ")
                        or any(not l.startswith("localscale: ") for l in lines)):
        return "message", " | ".join(lines[:3])
    if status == 1:
        first = errors[0]
    if status == 2 and not first.startswith("Error: "):
        return "message", first
    if status == 0:
        out = os.path.join(folder, "out.mrc")
        if os.path.exists(out) and non_finite(out):
            return "non-finite", f"{non_finite(out)} voxels"
        warnings = [l for l in lines if "warning" in l]
        first = warnings[0] if warnings else "accepted"
    if kind.expect == "refuse" and status == 0 or kind.expect == "accept" and status != 0:
        return "unexpected", first
    return "ok", first


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--only", default="")
    parser.add_argument("--limit", type=int, default=60)
    options = parser.parse_args()
    binary = os.path.abspath(options.binary)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMIX_", "SLURM_"))}
    environment["LOCALSCALE_FFTW_WISDOM"] = "none"
    environment["SWIFT_BACKTRACE"] = "enable=no"  # a crash is judged by its status, not its trace
    passed = failed = 0
    print(f"{'kind':52} {'exit':>4}  {'verdict':10}  first line")
    for kind in kinds():
        if options.only not in kind.name:
            continue
        with tempfile.TemporaryDirectory(prefix="localscale-hostile-") as folder:
            prepare(kind, folder)
            before = {n: c for n, c in snapshot(folder).items() if n != "out.mrc"}
            # stderr to a file, not a pipe: MPI's singleton daemon may outlive a crashed binary
            # and hold a pipe open.
            with tempfile.TemporaryFile() as stderr:
                run = subprocess.run(["timeout", "-k", "5", str(options.limit), binary] + kind.args, cwd=folder,
                                     env=environment, stdout=subprocess.DEVNULL, stderr=stderr)
                stderr.seek(0)
                verdict, line = judge(kind, run.returncode, stderr.read(), folder, before)
            line = line.replace(folder + "/", "")
        passed, failed = (passed + 1, failed) if verdict == "ok" else (passed, failed + 1)
        print(f"{kind.name[:52]:52} {run.returncode:>4}  {verdict:10}  {line[:150]}", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
