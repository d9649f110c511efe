#!/usr/bin/env bash
# Configure and build specbias with the 'release' preset (or the preset given as $1).
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
