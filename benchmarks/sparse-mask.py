#!/usr/bin/env python3
"""A sparse copy of a mask for memory measurements: the same planes hold masked voxels in the
same proportions (so exact mode's slabs and halos are the same as with the full mask), but only
one voxel in STRIDE is kept, so the compute shrinks STRIDE-fold.

  benchmarks/sparse-mask.py MASK.mrc OUT.mrc [STRIDE=64]

Keeps a voxel of MASK >= 0.5 when (x + y + z) % STRIDE == 0; writes 1.0 there, 0 elsewhere,
with MASK's header (mrcfile).
"""
import sys

import mrcfile
import numpy as np


def main():
    source, out = sys.argv[1], sys.argv[2]
    stride = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    with mrcfile.open(source, permissive=True) as m:
        mask = np.asarray(m.data)
        voxel_size = m.voxel_size
        origin = m.header.origin
    z, y, x = np.ogrid[:mask.shape[0], :mask.shape[1], :mask.shape[2]]
    sparse = ((mask >= 0.5) & ((x + y + z) % stride == 0)).astype(np.float32)
    with mrcfile.new(out, overwrite=True) as m:
        m.set_data(sparse)
        m.voxel_size = voxel_size
        m.header.origin = origin
    print("%s: %d of %d masked voxels kept (stride %d)" % (out, int(sparse.sum()), int((mask >= 0.5).sum()), stride))


if __name__ == "__main__":
    main()
