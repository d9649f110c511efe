#!/usr/bin/env bash
# Regenerates the paper's Fig. 8 (flow matching, THEORY §9, §11): fitted emergence exponents α (τ* ∝ λ^{−α}) of the
# one-layer flow-matching model per Q ∈ {0, 0.1, 0.5, 0.6, 1.0} and criterion (harmonic, geometric), per branch.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/apps/specbias
[[ -x $bin ]] || scripts/build.sh release
exec "$bin" sweep configs/figures/fig8_flow_matching.toml \
  --param model.Q=0.0,0.1,0.5,0.6,1.0 --param analysis.criterion=harmonic,geometric --out "${1:-runs/fig8_flow_matching}"
