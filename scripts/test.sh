#!/usr/bin/env bash
# Quick start 2: install dependencies, build, and run the test suite (all tests not tagged [slow]).
# Pass --all to include [slow] tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
label_args=(-LE slow)
[[ "${1:-}" == "--all" ]] && label_args=()
ctest --preset release "${label_args[@]}" --output-on-failure -j "$(nproc)"
