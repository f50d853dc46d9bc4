#!/usr/bin/env bash
# The Python wheel, for real: assembles it around the static binary, installs it into a fresh
# venv (offline, with the pinned test requirements from the wheelhouse .ci/run downloaded), and
# runs the pytest suite in packaging/python/tests, which uses the `mockidp` fixture with requests
# and authlib. Run by tests/it/packaging.rs.
#   usage: packaging/test-python.sh        prints the wheel's path on success
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WHEELHOUSE=target/ci/python-wheelhouse
VENV=target/ci/python-wheel-test-venv
[ -d "$WHEELHOUSE" ] || { echo "test-python: no $WHEELHOUSE (made by .ci/run)" >&2; exit 1; }

binary=$(packaging/build-static.sh)
wheel=$(python3 packaging/build-wheel.py "$binary" target/packages)
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --no-index --find-links "$WHEELHOUSE" \
    -r packaging/python/requirements.txt "$wheel"
# A user's shell after `pip install mockidp` in an activated venv: its bin/ first on PATH.
export PATH="$ROOT/$VENV/bin:$PATH" PYTHONDONTWRITEBYTECODE=1
unset MOCKIDP_BIN
cd packaging/python/tests
python -m pytest -p no:cacheprovider -q
echo "$ROOT/$wheel"
