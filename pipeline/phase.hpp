// `specbias phase`: the phase diagram of the general two-layer per-mode dynamics (THEORY.md §6.1; paper Fig. 22).
//
// For a config with kind = "two_layer", every mode k is one start (a_k, b_k) at data variance λ_k, trained at the
// noise level σ = analysis.weight_sigma[0] with rate η. In the paper's notation dh/dτ = sqrt(4h² + C²)(A − Bh)
// with A = 2ηλ, B = 2η(λ+σ²) (6.3). The run writes, to the output directory:
//   phase_field.csv         dw/dτ of (6.3) on a w grid for every distinct C (the 1-D phase line per C);
//   phase_trajectories.csv  a(τ), b(τ), w(τ) from the explicit solution (6.4) next to an rk8pd integration of the
//                           (a, b) flow (6.2), and C along the numeric flow;
//   phase_summary.json      per start: C, the fixed point it reaches (w* = A/B, or 0 for the stuck start b = −a),
//                           the theoretical late-time rate (4η(λ+σ²) sqrt(w*² + C²/4), or 4ηλ when stuck), the
//                           rates fitted (OLS of ln|w − w_limit| on τ) to the explicit and to the numeric
//                           trajectories, max |explicit − numeric| and the drift of C;
//   figures/phase.{gp,png}  the phase lines and the (a, b)-plane trajectories with the hyperbola ab = w*.
// Returns the table printed by the CLI.
#pragma once

#include <filesystem>
#include <string>

#include "config/run_config.hpp"

namespace specbias::pipeline {

std::string run_phase_diagram(const config::Config& c, const std::filesystem::path& out_dir);

}  // namespace specbias::pipeline
