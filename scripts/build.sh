#!/usr/bin/env bash
# Configure and build specbias with the 'release' preset (or the preset given as $1).
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
launcher=()
if command -v ccache >/dev/null; then
  # Optional: reuse object files across clean builds and worktrees (paths under the repo are hashed relative).
  export CCACHE_BASEDIR="$PWD"
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
fi
cmake --preset "$preset" "${launcher[@]}" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
