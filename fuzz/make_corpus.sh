#!/usr/bin/env bash
# Builds the seed corpora fuzz/corpus/{mrc,model} from the test fixtures (committed; rerun when
# the fixtures change). MRC: every mode (0, 1, 2, 6, 12), all six axis orders, an extended
# header, big-endian. Model: PDB, mmCIF, both gzipped, several MODELs, ANISOU, altlocs,
# unknown elements; each file behind the fuzz-model target's selector byte (bit 0: .cif,
# bit 1: .gz).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$here/../Tests/Fixtures
rm -rf "$here/corpus" && mkdir -p "$here/corpus/mrc" "$here/corpus/model"
cp "$fixtures"/data/iota_*.mrc "$here/corpus/mrc/"
seed() {  # seed SELECTOR FILE
    { printf "\\x$(printf %02x "$1")"; cat "$fixtures/models/$2"; } > "$here/corpus/model/$2"
}
for f in small.pdb two_models.pdb unknown_element.pdb broken.pdb empty.pdb sim_small.pdb; do seed 0 "$f"; done
for f in small.cif broken.cif no_atoms.cif; do seed 1 "$f"; done
seed 2 small.pdb.gz
seed 3 small.cif.gz
