#!/usr/bin/env bash
# Regenerates the paper's Fig. 5 (symmetric two-layer model, Q = 0.5): weights, generated variance with the
# non-monotone decaying modes, emergence fits per branch; validates the paths and prints the fitted exponents.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/apps/specbias
[[ -x $bin ]] || { cmake --preset release && cmake --build build/release -j2; }
out="${1:-runs/fig5_two_layer}"
"$bin" simulate configs/figures/fig5_two_layer.toml --out "$out" --quiet
"$bin" validate configs/figures/fig5_two_layer.toml
grep -E "power law|weight emergence" "$out/run.log" | sed 's/^\[[^]]*\] //'
