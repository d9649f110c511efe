#!/usr/bin/env bash
# Regenerates the paper's Fig. 22 toy phase diagram of the general two-layer model (A = 1, B = 2; THEORY §6.1):
# phase lines dw/dτ (6.3) per conserved C, (a, b) trajectories from the explicit solution (6.4) checked against an
# rk8pd integration of (6.2), and the fitted late-time rates next to the theory B·sqrt(C² + 4w*²) (2A when stuck).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/apps/specbias
[[ -x $bin ]] || { cmake --preset release && cmake --build build/release -j2; }
exec "$bin" phase configs/figures/fig22_two_layer_phase.toml --out "${1:-runs/fig22_two_layer_phase}"
