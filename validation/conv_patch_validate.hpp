// `specbias validate` for kind = "conv_patch" (THEORY §8), on the config's own data and τ grid:
//   generated variance (8.9) vs the nested numeric path (exact per-node filter flow, FFT multipliers) and vs the
//   adaptive quadrature (8.8) (for at most kPatchQuadratureModes Fourier modes when N is larger);
//   and, while N ≤ kPixelRowsMaxN, on the data covariance itself, independent of the spectrum:
//   T (8.2) from s_k vs T straight from Σ; the filter (8.4) vs dopri5 on the patch gradient (8.3) and on the
//   brute-force pixel-space gradient of the circulant W, at each analysis.weight_sigma; (8.9) vs the full-matrix PF
//   transport (4.1)–(4.2) of the circulant W at up to 4 τ.
#pragma once

#include "validation/validate.hpp"

namespace specbias::validation {

inline constexpr int kPatchQuadratureModes = 64;  // adaptive (8.8) costs one integral per (mode, τ)

Report run_conv_patch_validation(const config::Config& c);

}  // namespace specbias::validation
