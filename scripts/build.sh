#!/usr/bin/env bash
# Configures and builds codealign into build/, against the torch of the pinned Python
# environment (scripts/setup.sh). With target names (e.g. `codealign`), builds only those.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python_env.sh
[ -f "$venv_marker" ] || { echo "build: the pinned Python environment is missing at '$venv_dir' (run scripts/setup.sh)" >&2; exit 1; }
torch_prefix="$("$venv_python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')"
# ccache, when installed (scripts/setup.sh installs it), keeps compiled files under
# ~/.cache/codealign/ccache: a new build directory or checkout recompiles nothing compiled
# before (paths below the checkout are hashed relative to it, so clones elsewhere share the
# cache). The sloppiness lets it cache the files that use the precompiled torch header.
launcher=""
if command -v ccache >/dev/null; then
  launcher="env;CCACHE_DIR=${CODEALIGN_CCACHE_DIR:-$HOME/.cache/codealign/ccache};CCACHE_BASEDIR=$(pwd);CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime;ccache"
fi
build_dir=${CODEALIGN_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${CODEALIGN_BUILD_TYPE:-Release}" \
  -DCMAKE_PREFIX_PATH="$torch_prefix" -DCODEALIGN_PYTHON="$venv_python" -DCMAKE_CXX_COMPILER_LAUNCHER="$launcher" >/dev/null
cmake --build "$build_dir" -j "$(nproc)" ${1:+--target "$@"}
