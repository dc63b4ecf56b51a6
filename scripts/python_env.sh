# Sourced by setup.sh, build.sh and test.sh: where the pinned Python environment lives.
# It sits outside the checkout, in a cache folder named by the pinned torch (whose C++ library
# the build links), so every clone and CI run on a machine share one install; the marker file
# records which requirements.lock it holds. $CODEALIGN_VENV overrides the location.
scripts_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lock_file="$scripts_dir/requirements.lock"
lock_hash="$(sha256sum "$lock_file" | cut -c1-16)"
torch_version="$(sed -n 's/^torch==\([^ ]*\).*/\1/p' "$lock_file")"
venv_dir="${CODEALIGN_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/codealign/venv-torch-$torch_version}"
venv_python="$venv_dir/bin/python"
# Written last by setup.sh, holding the lock's hash: a venv without it is half-installed.
venv_marker="$venv_dir/.codealign-complete"
