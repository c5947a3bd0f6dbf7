#!/usr/bin/env bash
# Install the reference LocScale 2.4.1 (PyPI `locscale`) into a venv, as in
# /work/shared/REFERENCE-LOCSCALE.md. Idempotent: re-running skips finished steps.
#
#   benchmarks/reference/install-reference.sh            # venv at /tmp/ls2-venv
#   LS2_VENV=/path LS2_DL=/path benchmarks/reference/install-reference.sh
#
# Python here is 3.11; locscale 2.4.1 declares Python >= 3.12, so its dependencies are
# installed explicitly and then the wheel alone with --no-deps --ignore-requires-python.
# torch comes from PyPI (large, CUDA wheels included). Needs network access to PyPI.
set -euo pipefail

VENV=${LS2_VENV:-/tmp/ls2-venv}
DL=${LS2_DL:-/tmp/ls2-dl}
PY=${PYTHON:-python3}
WHEEL="$DL/locscale-2.4.1-py3-none-any.whl"

if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
# shellcheck disable=SC1091
. "$VENV/bin/activate"

if "$VENV/bin/python" -c "import locscale, importlib.metadata as m; assert m.version('locscale') == '2.4.1'" 2>/dev/null \
   && [ -x "$VENV/bin/locscale" ]; then
    echo "locscale 2.4.1 already installed in $VENV"
else
    pip install -U pip wheel setuptools
    pip install "numpy>=2.0,<3" "scipy>=1.13,<2" "torch>=2.3" "gemmi>=0.7,<0.8" "servalcat>=0.4,<0.5" "mrcfile>=1.5" \
        "pandas>=2.2.2,<3" "matplotlib>=3.9" "scikit-learn>=1.7" "pwlf>=2.2" "tqdm>=4.66" "pyfiglet>=1.0" "loguru>=0.7" joblib "mpi4py>=3.1"
    if [ ! -f "$WHEEL" ]; then
        mkdir -p "$DL"
        pip download locscale==2.4.1 --no-deps --python-version 3.12 --only-binary=:all: -d "$DL"
    fi
    pip install --no-deps --ignore-requires-python "$WHEEL"
fi

# /usr/bin/time -v is used by run-reference.sh
if [ ! -x /usr/bin/time ]; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        apt-get update && apt-get install -y time
    else
        echo "warning: /usr/bin/time missing; install the Debian package 'time'" >&2
    fi
fi

"$VENV/bin/python" -c "import importlib.metadata as m, torch, numpy; print('locscale', m.version('locscale'), '| torch', torch.__version__, '| numpy', numpy.__version__)"
echo "locscale entry point: $VENV/bin/locscale"
