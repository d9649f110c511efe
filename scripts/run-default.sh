#!/usr/bin/env bash
# Quick start 1: install dependencies, build, and run the main job on the built-in default config.
# Results land in runs/default/ (variance.csv, summary.json, figures/*.png, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
exec build/release/apps/specbias simulate configs/default.toml --out "${1:-runs/default}"
