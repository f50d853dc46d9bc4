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
# Offline: pip takes everything from the wheelhouse and the folder of the wheel.
export PIP_NO_INDEX=1 PIP_FIND_LINKS="$ROOT/$WHEELHOUSE" PIP_QUIET=1 PYTHONDONTWRITEBYTECODE=1
"$VENV/bin/pip" install -r packaging/python/requirements.txt
# A user's shell: an activated venv, the README's command (tests/it/packaging.rs checks it).
# shellcheck disable=SC1091
. "$VENV/bin/activate"
unset MOCKIDP_BIN
cd "$(dirname "$wheel")"
pip install mockidp-0.1.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
cd "$ROOT/packaging/python/tests"
python -m pytest -p no:cacheprovider -q
echo "$ROOT/$wheel"
