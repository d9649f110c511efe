#!/usr/bin/env bash
# Regenerates the paper's Fig. 21 (THEORY.md §3.3): weight and bias trajectories of the one-layer denoiser on
# non-centred 1-D data (λ = 1, m = 1) at σ ∈ {0.1, 1.5, 4}, with phase portraits (w vs b), from the closed form
# (3.8) and dopri5 on the gradient (2.3). Checks both against each other and the late-time values against the
# fixed point (2.4); writes figures/fig21_noncentred.png in the run directory and prints the checks.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/apps/specbias
[[ -x $bin ]] || scripts/build.sh release
out="${1:-runs/fig21_noncentred}"
"$bin" simulate configs/figures/fig21_noncentred.toml --out "$out" --quiet
python3 validation/fig21_noncentred.py "$out"
