// The probability-flow ODE and the generated distribution (THEORY.md §4), three independent ways:
//   • general affine transport (4.1)–(4.2): integrate A and c over s = ln σ with dopri5 — valid for any
//     (non-commuting, non-aligned, biased) denoiser;
//   • mode-wise quadrature (4.4) for commuting weights, either adaptive (GSL) on a callable w(σ), or on a fixed
//     node grid (what the nested driver provides);
//   • the one-layer closed form (4.6) evaluated stably through E1 (4.9), with the limits (4.7)–(4.8).
// Sampling runs from σ_T down to σ_0 with x(σ_T) ~ N(0, σ_T² I) (conventions C3, C5).
#pragma once

#include <Eigen/Dense>
#include <functional>
#include <span>

#include "solver/node_grid.hpp"
#include "solver/ode_options.hpp"
#include "solver/quadrature.hpp"

namespace specbias::models {

struct SamplingRange {
  double sigma_min = 0.002;  // σ_0
  double sigma_max = 80.0;   // σ_T
};

// ---- closed forms (one-layer, zero mean, aligned σ-independent start) ----------------------------------------
// λ̃_k(τ) by (4.9); c = 2ητ. τ = 0 uses the exact limit (4.7).
double one_layer_generated_variance(double lambda, double Q, double eta, double tau, const SamplingRange& range);
// The same on a whole (τ × mode) grid: entry (j, k) = one_layer_generated_variance(λ_k, Q_k, η, τ_j) to a few ulp.
// The τ-only E1 pair and the λ-only logarithm of (4.9) are computed once per row/column instead of per entry
// (half the E1 calls), exponentials are vectorised, and rows run on `threads` threads (0: all). Needs τ ≥ 0.
Eigen::MatrixXd one_layer_generated_variance_grid(const Eigen::VectorXd& lambda, const Eigen::VectorXd& Q, double eta,
                                                  std::span<const double> taus, const SamplingRange& range,
                                                  int threads = 0);
// (4.7): σ_T^{2Q} σ_0^{2(1−Q)}
double one_layer_initial_variance(double Q, const SamplingRange& range);
// (4.8): σ_T² (λ + σ_0²)/(λ + σ_T²); also the optimum's generated variance (4.5).
double converged_generated_variance(double lambda, const SamplingRange& range);

// ---- mode-wise quadrature (4.4) ----------------------------------------------------------------------------
// λ̃ = σ_T² exp(2 ∫_{ln σ_0}^{ln σ_T} (w(e^s) − 1) ds), adaptive GSL quadrature in s with optional break points
// (in s) where w changes character, e.g. ½ ln λ and −½ ln c (THEORY §15).
double generated_variance_quadrature(const std::function<double(double sigma)>& w, const SamplingRange& range,
                                     std::vector<double> breakpoints_s = {},
                                     const solver::QuadratureOptions& options = {});
// Same on a fixed node grid over s ∈ [ln σ_0, ln σ_T], all modes at once: w_at_nodes is modes × nodes, column i
// holding every mode's w(exp(grid.nodes()[i])); returns λ̃ per mode. One GEMV per τ for the nested path.
Eigen::VectorXd generated_variance_on_grid(const solver::PanelGrid& grid, const Eigen::MatrixXd& w_at_nodes,
                                           const SamplingRange& range);

// ---- general affine transport (4.1)–(4.2) ------------------------------------------------------------------
struct AffineTransport {
  Eigen::MatrixXd A;  // x(σ_0) = A x(σ_T) + c
  Eigen::VectorXd c;
  solver::OdeStats stats;
  [[nodiscard]] Eigen::MatrixXd covariance(double sigma_max) const { return sigma_max * sigma_max * A * A.transpose(); }
};
// denoiser(s, W, b) writes the affine denoiser (W_σ, b_σ) at σ = e^s. Integrates the augmented state [A c]
// from s = ln σ_T down to ln σ_0 with dopri5 (options: tolerances, step limit, context).
AffineTransport pf_affine_transport(const std::function<void(double s, Eigen::MatrixXd& W, Eigen::VectorXd& b)>& denoiser,
                                    int dim, const SamplingRange& range, const solver::OdeOptions& options);

}  // namespace specbias::models
