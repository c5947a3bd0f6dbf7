#!/usr/bin/env bash
# Builds localscale without CMake: installs the Debian packages it links (Open MPI, FFTW with
# threads and MPI, HDF5, gemmi) when missing, then `swift build -c release`, and prints the binary path.
#   ./cmake-free-build.sh                  install + build; prints the path of the localscale binary
#   ./cmake-free-build.sh test             the same, then the whole test suite (LOCALSCALE_STATIC=1:
#                                          on the static binary)
#   ./cmake-free-build.sh static           a binary with the Swift runtime linked in (for compute
#                                          nodes without a Swift toolchain), built in .build-static/
#   ./cmake-free-build.sh install PREFIX   the static binary, its man pages, shell completions and
#                                          an Lmod module file under PREFIX
#   ./cmake-free-build.sh demo             install + build, then scale EMD-3488 against its model into
#                                          demo/ (map, HDF5, HTML report) and print a three-line summary
# The git commit goes into the binary (`localscale --version`, /provenance) through the generated,
# untracked Sources/localscale/BuildCommit.generated.swift; a plain `swift build` says "unknown".
set -euo pipefail
cd "$(dirname "$0")"

packages=(libopenmpi-dev openmpi-bin libfftw3-dev libfftw3-mpi-dev libhdf5-openmpi-dev pkg-config
          gemmi-dev tao-pegtl-dev zlib1g-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}" >&2
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

export PATH="/opt/swift/usr/bin:$PATH"

# The commit of this tree, rewritten only when it changes (a rewrite recompiles the command target).
commit_file=Sources/localscale/BuildCommit.generated.swift
commit=$(git describe --always --dirty 2>/dev/null || echo unknown)
commit_text="// Written by cmake-free-build.sh (not in git): the commit this binary was built from.
extension BuildInfo {
    static var commit: String { \"$commit\" }
}"
[ "$(cat "$commit_file" 2>/dev/null)" = "$commit_text" ] || printf '%s\n' "$commit_text" >"$commit_file"

# build [SWIFT BUILD OPTIONS…]: the release binary; prints its path.
build() {
    swift build -c release --product localscale "$@" >&2
    echo "$(swift build -c release --show-bin-path "$@")/localscale"
}
static_options=(--static-swift-stdlib --scratch-path .build-static)

# demo BINARY: EMD-3488 (fetched as the tests fetch it) scaled against PDB 5ME2 with the fast
# method into demo/ — map, HDF5 with the per-rank timings, report — then a three-line summary.
# Offline: the shipped 22×18×20 fixture (exact method; no atoms, so RSCC over the mask).
demo() {
    local bin=$1 data=${LOCALSCALE_TESTDATA:-/tmp/localscale-testdata} name args
    rm -rf demo && mkdir -p demo
    if Tests/Fixtures/fetch_emd3488.sh "$data" >demo/fetch.log 2>&1; then
        name=emd3488
        args=(--em "$data/emd_3488.mrc" --model "$data/5me2.pdb" --resolution 3.2 --mask "$data/emd3488_mask.mrc"
              --method fast)
    else
        echo "demo: EMD-3488 could not be fetched (demo/fetch.log): the shipped fixture instead" >&2
        name=fixture
        args=(--em Tests/Fixtures/data/em.mrc --model-map Tests/Fixtures/data/model.mrc
              --mask Tests/Fixtures/data/mask.mrc --window 8)
    fi
    "$bin" scale "${args[@]}" --out "demo/$name-scaled.mrc" --hdf5 "demo/$name-scaled.h5" --report demo/report \
        2>demo/scale.log || { cat demo/scale.log >&2; exit 1; }
    python3 - demo/report/summary.json "$name" <<'PY'
import json, sys
maps = json.load(open(sys.argv[1]))["maps"]
name, before, after = sys.argv[2], maps["input"], maps["output"]
near = "rscc_within_2.5A_of_atoms"
if near in before:
    print(f"RSCC within 2.5 Å of the atoms {before[near]:.3f} → {after[near]:.3f} (whole mask "
          f"{before['rscc_mask']:.3f} → {after['rscc_mask']:.3f})")
else:
    print(f"RSCC over the mask {before['rscc_mask']:.3f} → {after['rscc_mask']:.3f}")
low, high = before["guinier_range_A"]
print(f"Guinier B {before['guinier_b_A2']:.1f} → {after['guinier_b_A2']:.1f} Å² over {low:g}–{high:g} Å "
      f"(model map {before['model_guinier_b_A2']:.1f} Å²)")
print(f"report demo/report/report.html; map demo/{name}-scaled.mrc, HDF5 with timings demo/{name}-scaled.h5")
PY
}

case "${1:-}" in
    "")
        build ;;
    test)
        # Real data (EMD-3488 + a model map of 5ME2) for the end-to-end test: fetched once
        # from PyPI into a cache folder. CLI tests run the release binary; unit tests build in debug.
        # LOCALSCALE_STATIC=1 (CI does this): the suite runs the static binary instead, and
        # compares its maps with the debug build's.
        if [ "${LOCALSCALE_STATIC:-0}" = 1 ]; then bin=$(build "${static_options[@]}"); else bin=$(build); fi
        data="${LOCALSCALE_TESTDATA:-/tmp/localscale-testdata}"
        Tests/Fixtures/fetch_emd3488.sh "$data" >&2
        LOCALSCALE_BIN="$bin" LOCALSCALE_TESTDATA="$data" swift test
        ;;
    static)
        build "${static_options[@]}" ;;
    install)
        prefix=${2:?usage: $0 install PREFIX}
        bin=$(build "${static_options[@]}")
        # swift-argument-parser's man page generator (a tool of the package) reads the binary's help.
        swift build -c release --product generate-manual >&2
        manual="$(swift build -c release --show-bin-path)/generate-manual"
        install -D -m 0755 "$bin" "$prefix/bin/localscale"
        mkdir -p "$prefix/share/man/man1"
        "$manual" "$prefix/bin/localscale" --multi-page --output-directory "$prefix/share/man/man1" >&2
        install -d "$prefix/share/bash-completion/completions" "$prefix/share/zsh/site-functions" \
                   "$prefix/share/fish/vendor_completions.d"
        "$prefix/bin/localscale" --generate-completion-script bash >"$prefix/share/bash-completion/completions/localscale"
        "$prefix/bin/localscale" --generate-completion-script zsh >"$prefix/share/zsh/site-functions/_localscale"
        "$prefix/bin/localscale" --generate-completion-script fish >"$prefix/share/fish/vendor_completions.d/localscale.fish"
        version=$("$prefix/bin/localscale" --version | head -n 1 | cut -d' ' -f2)
        install -d "$prefix/share/modulefiles/localscale"
        sed "s|@PREFIX@|$(cd "$prefix" && pwd)|g; s|@VERSION@|$version|g" slurm/localscale.lua \
            >"$prefix/share/modulefiles/localscale/$version.lua"
        install -D -m 0644 -t "$prefix/share/localscale/slurm" slurm/*.sbatch
        echo "installed localscale $version in $prefix (module use $prefix/share/modulefiles; module load localscale)" >&2
        ;;
    demo)
        demo "$(build)" ;;
    *)
        echo "usage: $0 [test | static | install PREFIX | demo]" >&2; exit 2 ;;
esac
