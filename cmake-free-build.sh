#!/usr/bin/env bash
# Builds localscale without CMake: installs the Debian packages it links (Open MPI, FFTW with
# threads and MPI, HDF5, gemmi) when missing, then `swift build -c release`, and prints the binary path.
#   ./cmake-free-build.sh          install + build; prints the path of the localscale binary
#   ./cmake-free-build.sh test     the same, then the whole test suite
set -euo pipefail
cd "$(dirname "$0")"

packages=(libopenmpi-dev openmpi-bin libfftw3-dev libfftw3-mpi-dev libhdf5-dev pkg-config
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
swift build -c release --product localscale >&2
bin="$(swift build -c release --show-bin-path)/localscale"

case "${1:-}" in
    "")
        echo "$bin" ;;
    test)
        # Real data (EMD-3488 + a model map of 5ME2) for the end-to-end test: fetched once
        # from PyPI into a cache folder. CLI tests run the release binary; unit tests build in debug.
        data="${LOCALSCALE_TESTDATA:-/tmp/localscale-testdata}"
        Tests/Fixtures/fetch_emd3488.sh "$data" >&2
        LOCALSCALE_BIN="$bin" LOCALSCALE_TESTDATA="$data" swift test
        ;;
    *)
        echo "usage: $0 [test]" >&2; exit 2 ;;
esac
