// `specbias validate` for kind = "conv_full" (THEORY §7): the per-Fourier-mode problem's own rows (closed form vs
// quadrature vs nested numeric paths, as for any one- or two-layer config), prefixed "Fourier modes:", plus pixel-space
// rows on the config's own data covariance, independent of the Fourier reduction, while N ≤ kPixelRowsMaxN:
//   filter (7.4) / filter pair (7.9) vs dopri5 on the filter entries with ∂L/∂w_l = Σ_i G_{i,(i+l)}, at each
//   analysis.weight_sigma, for the τ an explicit integrator can afford;
//   generated variances (7.7)/(7.9) vs the full-matrix PF transport (4.1)–(4.2) of the circulant W, at up to 4 τ.
#pragma once

#include "validation/validate.hpp"

namespace specbias::validation {

inline constexpr int kPixelRowsMaxN = 64;  // the pixel-space flow costs O(N³) per right-hand side

Report run_conv_validation(const config::Config& c);

}  // namespace specbias::validation
