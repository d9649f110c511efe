// `specbias validate` for the loss variants of THEORY §2.2 and flow matching §9 (`[training] loss` ≠ "edm_x"), on
// the config's own data, levels and τ grid. Rows:
//   weights: closed-form flow (3.2) with the rates of (2.9) vs full-matrix dopri5 on the raw gradient (2.8);
//   invariants: ∇L = 0 at the optimum (2.9); loss at the optimum vs the per-mode minimum loss (2.10);
//   generated variance: closed form (edm_x, edm_eps, flow matching (9.6)) vs the sampler quadrature, the numeric
//   nested path vs the reference, and the sampler at the optimum vs the documented optimum variance ((4.8), (9.5)).
#pragma once

#include "config/run_config.hpp"
#include "validation/validate.hpp"

namespace specbias::validation {

Report run_loss_validation(const config::Config& c);

}  // namespace specbias::validation
