#!/usr/bin/env bash
# Configures and builds codealign into build/, against the torch of the pinned Python
# environment (scripts/setup.sh). With target names (e.g. `codealign`), builds only those.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python_env.sh
[ -f "$venv_marker" ] || { echo "build: the pinned Python environment is missing at '$venv_dir' (run scripts/setup.sh)" >&2; exit 1; }
torch_prefix="$("$venv_python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="${CODEALIGN_BUILD_TYPE:-Release}" \
  -DCMAKE_PREFIX_PATH="$torch_prefix" -DCODEALIGN_PYTHON="$venv_python" >/dev/null
cmake --build build -j "$(nproc)" ${1:+--target "$@"}
