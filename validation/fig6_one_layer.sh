#!/usr/bin/env bash
# Regenerates the one-layer row of the paper's Fig. 6 and prints the fitted exponents per Q and criterion.
# THEORY (11.5) reference: Q = 0.1 geometric α ≈ 1.02, harmonic ≈ 1.18; Q = 1 geometric ≈ 0.50, harmonic ≈ 1.00.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/apps/specbias
[[ -x $bin ]] || scripts/build.sh release
exec "$bin" sweep configs/figures/fig6_one_layer.toml \
  --param model.Q=0.0,0.1,0.5,0.6,1.0 --param analysis.criterion=harmonic,geometric --out "${1:-runs/fig6_one_layer}"
