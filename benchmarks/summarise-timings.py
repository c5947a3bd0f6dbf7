#!/usr/bin/env python3
"""Summarise localscale --timings-json files: wall of the compute phase, parallel efficiency
against the first file, compute imbalance, and halo+scatter+gather seconds as a fraction of
compute (the largest rank's of each).

    benchmarks/summarise-timings.py BASELINE.json OTHER.json ...
"""
import json
import sys

runs = [(path, json.load(open(path))) for path in sys.argv[1:]]


def wall(doc):
    """Seconds the run took: the slowest rank's read+scatter+halo+compute+gather+write."""
    phases = ("read_s", "scatter_s", "halo_s", "compute_s", "gather_s", "write_s")
    return max(sum(rank[p] for p in phases) for rank in doc["timing"])


base = runs[0][1]
base_wall = wall(base)
base_cores = base["ranks"] * base["threads_per_rank"]
print(f"{'run':28} {'ranks':>5} {'thr':>3} {'wall s':>8} {'compute s':>9} {'effic.':>6} {'imbal.':>6} {'comm/compute':>12}")
for path, doc in runs:
    cores = doc["ranks"] * doc["threads_per_rank"]
    compute = max(rank["compute_s"] for rank in doc["timing"])
    comm = max(rank["halo_s"] + rank["scatter_s"] + rank["gather_s"] for rank in doc["timing"])
    efficiency = base_wall * base_cores / (wall(doc) * cores)
    print(f"{path.split('/')[-1]:28} {doc['ranks']:5d} {doc['threads_per_rank']:3d} {wall(doc):8.2f} {compute:9.2f} "
          f"{efficiency:6.3f} {doc['imbalance']:6.3f} {comm / compute:12.4f}")
