#!/usr/bin/env bash
# Create the virtualenv and install graphnas with everything its demo and tests need.
# Idempotent: a second run only checks. Used by `make demo` and `make test` (and so by CI).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "graphnas needs Python >= 3.10; $PYTHON is $("$PYTHON" --version 2>&1)" >&2
    exit 1
fi

# Graphviz's `dot` renders the pictures; install it where we can.
if ! command -v dot >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"
    if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; }; then
        echo "installing Graphviz (dot) with apt-get"
        $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq graphviz >/dev/null
    elif command -v brew >/dev/null 2>&1; then
        brew install graphviz
    else
        echo "warning: Graphviz's dot is missing and could not be installed; install the 'graphviz' package" >&2
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.graphnas-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    "$VENV/bin/python" -m pip install -q --upgrade pip
    # The CPU build of torch 2.13 (a local wheel where the machine has one); never a newer one.
    "$VENV/bin/python" -m pip install -q "torch>=2.11,<=2.13.0" || "$VENV/bin/python" -m pip install -q torch==2.13.0
    "$VENV/bin/python" -m pip install -q -e ".[dev,onnx,docs,ray,dask]"
    touch "$stamp"
fi
