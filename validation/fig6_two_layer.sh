#!/usr/bin/env bash
# Regenerates the two-layer row of the paper's Fig. 6 (symmetric two-layer model, THEORY §5) and prints the fitted
# exponents per Q and criterion. Q = 0 never learns (the unstable fixed point of (5.2)): its rows have no fits.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/apps/specbias
[[ -x $bin ]] || { cmake --preset release && cmake --build build/release -j2; }
exec "$bin" sweep configs/figures/fig6_two_layer.toml \
  --param model.Q=0.0,0.1,0.5,0.6,1.0 --param analysis.criterion=harmonic,geometric --out "${1:-runs/fig6_two_layer}"
