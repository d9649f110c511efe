#!/usr/bin/env bash
# Regenerates the paper's Fig. 7 (flow matching, THEORY §9): weights at t ∈ {0.1, 0.5, 0.9, 0.99} and the generated
# variance (9.6) against the sampler quadrature and the numeric nested path; figures in <out>/figures/.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/apps/specbias
[[ -x $bin ]] || scripts/build.sh release
exec "$bin" simulate configs/figures/fig7_flow_matching.toml --out "${1:-runs/fig7_flow_matching}"
