#!/usr/bin/env bash
# Regenerates the paper's Fig. 2A–C for the one-layer model (weights at σ = 1, generated variance, τ* vs λ with
# the fit), validates every numeric path against the closed forms on the same problem, and prints the exponent.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/apps/specbias
[[ -x $bin ]] || scripts/build.sh release
out="${1:-runs/fig2_one_layer}"
"$bin" simulate configs/figures/fig2_one_layer.toml --out "$out"
"$bin" validate configs/figures/fig2_one_layer.toml
grep -A3 '"rising"' "$out/summary.json" | head -4
