// `specbias conv-compare`: per-mode emergence times (11.1) of one data set under several linear denoisers side by
// side — the dense one-layer model (PCs, variance λ_k, (4.9)), the full-width circular convolution (Fourier modes,
// variance s_k, (7.7)) and local patch convolutions of kernel K (Fourier modes, (8.9)) — to make the claim "local
// convolution makes many Fourier modes emerge nearly together" quantitative:
//   • spread: the ratio of the 90th to the 10th percentile of the emergence clock over the usable modes;
//   • the power-law exponent α of τ* ∝ variance^{−α} (11.4), per branch.
// Emergence is compared on each model's own training clock c* = 2ητ* (dense) and 2Nητ* (convolutions, (7.5)): on
// stationary data the full-width convolution then coincides with the dense model mode by mode. Everything else
// (data, Q, η, σ range, τ window, criterion, target, gray zone) comes from the ordinary run config.
// Usable modes: positive variance (MNIST's constant border pixels give λ_k = 0), crossed inside the τ window, and
// outside the gray zone (11.3).
#pragma once

#include <Eigen/Dense>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/power_law.hpp"
#include "config/run_config.hpp"
#include "models/fourier_spectrum.hpp"

namespace specbias::pipeline {

struct EmergenceSpread {
  int n = 0;                         // usable modes
  double p10 = NAN, p25 = NAN, p50 = NAN, p75 = NAN, p90 = NAN;  // percentiles of the clock c* (interpolated)
  double ratio = NAN;                // p90 / p10: the headline spread
  double iqr_ratio = NAN;            // p75 / p25
  double densest_factor2 = NAN;      // largest fraction of the n clocks inside one window [c, 2c] ("emerge together")
};

struct ComparedModel {
  std::string name;                  // "dense", "conv_full", "conv_patch_K3", ...
  int kernel = 0;                    // 0: dense; N (1-D) / image side (2-D) for conv_full; K for conv_patch
  double clock_per_tau = 0;          // c/τ: 2η (dense) or 2Nη (convolutions)
  std::vector<analysis::ModeEmergence> modes;  // lambda = λ_k (dense) or s_k (convolutions)
  EmergenceSpread spread;
  analysis::BranchFits fits;
};

struct ConvCompareResult {
  models::ImageShape shape;
  std::string data_description;
  std::vector<ComparedModel> models;
  nlohmann::json summary;
};

// Percentiles of `values` (any order; non-finite entries are ignored) by GSL's gsl_stats_quantile_from_sorted_data
// (linear interpolation, numpy's default), and the densest factor-2 window.
EmergenceSpread emergence_spread(std::vector<double> values);

// From a covariance Σ and the image shape: dense, full-width and one local model per kernel (odd, ≤ each side).
ConvCompareResult compare_convolutions(const config::Config& c, const Eigen::MatrixXd& covariance,
                                       const models::ImageShape& shape, const std::vector<int>& kernels,
                                       const std::string& data_description,
                                       const std::function<void(const std::string&)>& log = {});

// Config → data (build_data; image shape from data.shape or the file) → compare_convolutions → run directory:
// resolved_config.toml, environment.json, run.log, emergence.csv, summary.json, figures/conv_compare.png.
ConvCompareResult conv_compare_to_directory(const config::Config& c, const std::vector<int>& kernels,
                                            const std::filesystem::path& out, bool quiet);

}  // namespace specbias::pipeline
