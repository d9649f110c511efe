// The generated distribution over training time τ for every linear-denoiser family, computed several ways.
//
//   closed_form        λ̃_k(τ) in closed form: (4.9) one layer, (5.5) symmetric two-layer — aligned, zero mean
//   quadrature         (4.4) by adaptive GSL quadrature of the per-mode closed/implicit weights
//                      (3.4), (5.3), (6.4), (6.6), (6.7) (mode_weight_solution)             — aligned, zero mean
//   nested_modewise    per-mode weights at every σ node of a Gauss–Legendre grid in s = ln σ — numeric per-mode flow
//                      dw/dτ = −η m(w) ∂L/∂w (mode_flow.hpp), or the family's solution evaluated directly — then
//                      (4.4) on that grid                                                    — aligned, zero mean
//   nested_full_matrix full-matrix flow at every σ node — (W, b) for one layer (exact exponential or dopri5), the
//                      layer parameters θ of the factorised chain (linear_chain.hpp) for the other kinds — then the
//                      affine PF transport (4.1)–(4.2) with the end-to-end W(s), b(s) interpolated between nodes
//                                                                                            — any start, any μ
// The two nested paths go through solver::run_nested / run_nested_direct (outer flows advanced τ by τ, nodes in
// parallel); the families plug in through DenoiserProblem's mobility() (per mode) and chain() (full matrix).
#pragma once

#include <Eigen/Dense>
#include <functional>
#include <string>
#include <vector>

#include "models/data_moments.hpp"
#include "models/denoiser_problem.hpp"
#include "models/pf_ode.hpp"
#include "solver/ode_options.hpp"
#include "solver/quadrature.hpp"

namespace specbias::models {

// Outer (training-time) integrator for the per-σ gradient flows.
enum class OuterMethod {
  exponential,  // exact propagator of the linear one-layer flow (solver::DiagonalLinearFlow/SymmetricLinearFlow)
  solution,     // per-mode closed/implicit solution of the family evaluated at each node (mode-wise path only)
  rosenbrock,   // odeint's Rosenbrock4 vectorised over the modes of a node (solver::DecoupledRosenbrock; mode-wise)
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

// Whether λ̃_k(τ) has a closed form for this problem ((4.9) or (5.5), aligned start), and that closed form as a
// callable v(k, τ) (checked once here, cheap per call; throws std::invalid_argument when there is none).
bool has_closed_form_variance(const DenoiserProblem& p);
std::function<double(int k, double tau)> closed_form_variance(const DenoiserProblem& p);

GeneratedTrajectory closed_form_trajectory(const DenoiserProblem& p, const std::vector<double>& taus);
GeneratedTrajectory quadrature_trajectory(const DenoiserProblem& p, const std::vector<double>& taus,
                                          const solver::QuadratureOptions& options = {});
GeneratedTrajectory nested_modewise(const DenoiserProblem& p, const std::vector<double>& taus, const NestedOptions& o);
GeneratedTrajectory nested_full_matrix(const DenoiserProblem& p, const std::vector<double>& taus,
                                       const NestedOptions& o);

// Per-mode weights u_k^T W_σ(τ) u_k at one noise level (Fig. 2A/D): the closed/implicit solution (aligned start;
// one layer also (3.2) when not aligned and (3.8) when μ ≠ 0; NaN where no formula exists) or the numeric outer flow (per mode when
// aligned, full matrix otherwise).
Eigen::MatrixXd weight_trajectory_closed_form(const DenoiserProblem& p, double sigma, const std::vector<double>& taus);
Eigen::MatrixXd weight_trajectory_numeric(const DenoiserProblem& p, double sigma, const std::vector<double>& taus,
                                          const NestedOptions& o);

// The full-matrix outer flow of a factorised model at one σ (dopri5 on the layer parameters θ, rhs from
// LinearChain::flow_rhs): θ at each requested τ, packed as LinearChain::pack does (columns of the result).
Eigen::MatrixXd chain_parameter_trajectory(const DenoiserProblem& p, double sigma, const std::vector<double>& taus,
                                           const solver::OdeOptions& options);

}  // namespace specbias::models
