// The one-layer theory end to end: generated distribution over training time τ computed four ways.
//
//   closed_form        (4.9) per mode, with (4.7) at τ = 0                          — aligned, zero mean
//   quadrature         (4.4) by adaptive GSL quadrature of the closed-form weights (3.4) — aligned, zero mean
//   nested_modewise    numeric per-mode gradient flow at every σ node of a Gauss–Legendre grid in s = ln σ,
//                      then (4.4) on that grid                                          — aligned, zero mean
//   nested_full_matrix numeric full-matrix flow of (W, b) at every σ node, then the affine PF transport
//                      (4.1)–(4.2) with W(s), b(s) interpolated between nodes           — any W(0), b(0), μ
// The two nested paths go through solver::run_nested (outer flows advanced τ by τ, nodes in parallel).
#pragma once

#include <Eigen/Dense>
#include <functional>
#include <string>
#include <vector>

#include "models/data_moments.hpp"
#include "models/one_layer.hpp"
#include "models/pf_ode.hpp"
#include "solver/ode_options.hpp"
#include "solver/quadrature.hpp"

namespace specbias::models {

struct OneLayerProblem {
  DataMoments data;
  Eigen::VectorXd Q;          // aligned part of W(0): U diag(Q) U^T (length d)
  Eigen::MatrixXd W0_offset;  // non-aligned addition to W(0) (d×d; zero matrix when aligned)
  Eigen::VectorXd b0;         // initial bias (length d)
  double eta = 1.0;
  SamplingRange range;

  [[nodiscard]] one_layer::Params initial() const;
  // True when W(0) = U diag(Q) U^T, b(0) = 0 and μ = 0: the weights stay diagonal in U and commute across σ.
  [[nodiscard]] bool aligned() const;
};

// Outer (training-time) integrator for the per-σ gradient flows.
enum class OuterMethod {
  exponential,  // exact propagator of the linear flow (solver::SymmetricLinearFlow); stiff-proof
  bsimp,        // GSL implicit Bader–Deuflhard extrapolation (per mode; mode-wise path only)
  msbdf,        // GSL variable-order BDF (per mode; mode-wise path only)
  dopri5        // odeint adaptive Dormand–Prince; explicit, so step-limited at large σ and late τ
};
OuterMethod parse_outer_method(const std::string& name);  // throws std::invalid_argument with allowed names
std::string to_string(OuterMethod m);

struct NestedOptions {
  OuterMethod outer = OuterMethod::exponential;
  int panels = 24;             // Gauss–Legendre panels over [ln σ_0, ln σ_T]
  int points_per_panel = 12;   // nodes per panel
  solver::OdeOptions outer_ode{1e-12, 1e-14, 1e-6, 2'000'000, "solver.outer_max_steps", ""};
  solver::OdeOptions inner_ode{1e-11, 1e-14, 1e-3, 200'000, "solver.inner_max_steps", ""};
  int threads = 0;             // 0: all hardware threads
  std::function<void(std::size_t done, std::size_t total)> progress;  // called after each τ
};

struct GeneratedTrajectory {
  std::vector<double> tau;
  Eigen::MatrixXd variance;     // n_tau × d: λ̃_k(τ) = u_k^T Σ̃ u_k
  Eigen::MatrixXd mean;         // n_tau × d: u_k^T μ̃ (zero for the aligned paths)
  std::vector<Eigen::MatrixXd> eigenbasis_covariance;  // full-matrix path only: U^T Σ̃ U per τ
  solver::OdeStats outer_stats, inner_stats;
  std::size_t quadrature_evaluations = 0;
  std::size_t sigma_nodes = 0;
};

GeneratedTrajectory closed_form_trajectory(const OneLayerProblem& p, const std::vector<double>& taus);
GeneratedTrajectory quadrature_trajectory(const OneLayerProblem& p, const std::vector<double>& taus,
                                          const solver::QuadratureOptions& options = {});
GeneratedTrajectory nested_modewise(const OneLayerProblem& p, const std::vector<double>& taus, const NestedOptions& o);
GeneratedTrajectory nested_full_matrix(const OneLayerProblem& p, const std::vector<double>& taus,
                                       const NestedOptions& o);

// Per-mode weights u_k^T W_σ(τ) u_k at one noise level (Fig. 2A): closed form (3.4) or numeric outer flow.
Eigen::MatrixXd weight_trajectory_closed_form(const OneLayerProblem& p, double sigma, const std::vector<double>& taus);
Eigen::MatrixXd weight_trajectory_numeric(const OneLayerProblem& p, double sigma, const std::vector<double>& taus,
                                          const NestedOptions& o);

}  // namespace specbias::models
