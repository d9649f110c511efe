// `specbias simulate` for [model] kind = "conv_patch": the local K-tap / K×K circular filter of THEORY §8.
//
// The data enter through the Fourier-mode variances s_k (7.3) of the convolution setup (any source; Σ need not be
// stationary): the shift-averaged autocovariance is their inverse DFT, t = C(Δ) of (7.6) applied to s, and the patch
// covariance T (8.2) is its Toeplitz / block-Toeplitz K×K block. Then, per Fourier mode k (index ky·W + kx):
//   closed_form  λ̃_k(τ) by (8.9);
//   numeric      the nested path: at every Gauss–Legendre node σ_i in s = ln σ the filter follows its own gradient
//                flow (SymmetricLinearFlow, the exact propagator of dw/dτ = −η ∂L/∂w (8.3)), its multipliers γ_k come
//                from an FFT of the filter (not from (8.7)'s cosines), and (8.8) is the node-grid quadrature;
//   quadrature   adaptive (8.8) per mode and τ (costly: N·n_tau integrals; for small N).
// Emergence (11.1) per Fourier mode from the closed form, abscissa s_k; target `data` = s_k, `asymptote` = the
// τ → ∞ limit of §8.3 (the patch model cannot reach s_k, so the asymptote is usually the meaningful target).
#pragma once

#include <Eigen/Dense>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/power_law.hpp"
#include "config/run_config.hpp"
#include "models/conv_patch.hpp"
#include "models/fourier_spectrum.hpp"

namespace specbias::pipeline {

struct ConvPatchResult {
  models::ImageShape shape;
  int kernel = 0;
  Eigen::VectorXd s;                       // (7.3), mode order k
  Eigen::MatrixXd T;                       // (8.2), taps × taps
  Eigen::VectorXd w0;                      // initial filter (delta start Q e_0)
  std::vector<double> tau;
  Eigen::MatrixXd variance_closed_form;    // n_tau × N, (8.9)
  Eigen::MatrixXd variance_numeric;        // nested path (empty if not run)
  Eigen::MatrixXd variance_quadrature;     // adaptive (8.8) (empty if not run)
  Eigen::MatrixXd kernel_closed_form;      // generated covariance kernel C(Δ) (7.6) per τ, n_tau × N
  Eigen::MatrixXd filter_sigma1;           // closed-form filter (8.4) at σ = analysis.weight_sigma[0], n_tau × taps
  std::vector<analysis::ModeEmergence> emergence;
  nlohmann::json summary;
};

// The patch geometry of an image shape and an odd kernel K.
models::PatchGeometry patch_geometry(const models::ImageShape& shape, int kernel);
// T (8.2) from s (7.3): t = inverse DFT of s ((7.6) applied to s), then the K×K Toeplitz block.
Eigen::MatrixXd patch_covariance_from_spectrum(const Eigen::VectorXd& s, const models::PatchGeometry& g);

// Everything for a conv_patch config given its Fourier-mode variances s (no files).
ConvPatchResult simulate_conv_patch(const config::Config& c, const models::ImageShape& shape, const Eigen::VectorXd& s,
                                    const std::string& data_description,
                                    const std::function<void(const std::string&)>& log = {});

// The run directory for conv_patch (docs/outputs.md): resolved_config.toml, environment.json, run.log,
// variance.csv (+ .npy), fourier.csv, filter.csv, kernel.csv, summary.json, figures/.
ConvPatchResult write_conv_patch_run(const config::Config& c, const models::ImageShape& shape, const Eigen::VectorXd& s,
                                     const std::string& data_description, const std::filesystem::path& out, bool quiet);

}  // namespace specbias::pipeline
