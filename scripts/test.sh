#!/usr/bin/env bash
# Quick start 2: install dependencies, build, and run the whole test suite (CI runs exactly this).
# Pass --fast to skip tests tagged [slow] (CTest label "slow").
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
label_args=()
[[ "${1:-}" == "--fast" ]] && label_args=(-LE slow)
ctest --preset release "${label_args[@]}" --output-on-failure -j "$(nproc)"
