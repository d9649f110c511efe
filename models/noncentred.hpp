// One-layer denoiser on non-centred data (μ ≠ 0): the coupled weight/bias gradient flow in closed form
// (THEORY.md §3.3, (3.7)–(3.9)) and the generated mean and covariance through the general affine PF-ODE
// (4.1)–(4.2), which is needed because an aligned W(0) does not stay aligned when μ ≠ 0.
//
// Closed form (3.8): Ω(τ) = Ω(0) exp(−2ητ M̃), Ω = [E u_1 … E u_d, e], M̃ = diag(λ+σ², 0) + m̃ m̃ᵀ, m̃ = (m, 1).
// M̃ is diagonal plus rank one, so its eigendecomposition costs O(d²) by the secular equation
// (solver/diag_rank_one.hpp) instead of O(d³) for a dense eigensolver or O(d³)·(≈10 GEMMs + an LU) for a Padé
// expm at every τ. After it, every τ costs one (d × (d+1)) · ((d+1) × (d+1)) product, which is the least
// any method can do: Ω(τ) has d(d+1) entries and every one mixes all d+1 eigen-components.
// Separate learning rates for W and b (re-parametrisations (3.10)) keep the structure: with H = diag(η_W…, η_b),
// Ω' = Ω H^{−1/2} obeys dΩ'/dτ = −2 Ω' (H^{½} M̃ H^{½}), again diagonal plus rank one.
// Everything is held in the data eigenbasis (W̃ = Uᵀ W U, b̃ = Uᵀ b).
#pragma once

#include <Eigen/Dense>
#include <utility>
#include <vector>

#include "models/data_moments.hpp"
#include "models/denoiser_problem.hpp"
#include "models/nested_paths.hpp"
#include "models/one_layer.hpp"
#include "solver/ode_options.hpp"

namespace specbias::models::noncentred {

// M̃ of (3.8) as a dense (d+1)×(d+1) matrix (weights first, bias last); the reference for tests.
Eigen::MatrixXd coupled_matrix(const DataMoments& data, double sigma);

// The gradient flow (3.1) of one σ node in closed form (3.8), any W(0), b(0), any μ.
// eta_W, eta_b: learning rates of W and b (equal for the plain model, (3.10) otherwise).
class CoupledFlow {
 public:
  CoupledFlow(const DataMoments& data, double sigma, double eta_W, double eta_b, const one_layer::Params& initial);
  CoupledFlow(const DataMoments& data, double sigma, double eta, const one_layer::Params& initial)
      : CoupledFlow(data, sigma, eta, eta, initial) {}
  // Aligned start W(0) = U diag(Q) Uᵀ with the initial bias given in the eigenbasis (Uᵀ b(0)): Ω̃(0) is diagonal
  // plus one column, so the whole construction is O(d²) (no change of basis).
  CoupledFlow(const DataMoments& data, double sigma, double eta_W, double eta_b, const Eigen::VectorXd& Q,
              const Eigen::VectorXd& bias_eigenbasis);

  // Sets state() to [Uᵀ W(τ) U, Uᵀ b(τ)] (d×(d+1)); any τ ≥ 0, in any order.
  void advance_to(double tau);
  // Discrete gradient descent instead (THEORY (3.6) generalised): advance_to(τ) gives n = round(τ) steps,
  // Ω_n = Ω_0 (I − 2 H M̃)^n through the same eigendecomposition (factor (1 − 2κ)^n).
  void use_discrete_steps(bool discrete) { discrete_ = discrete; }
  [[nodiscard]] const Eigen::MatrixXd& state() const { return state_; }
  // W(τ), b(τ) in the original basis.
  [[nodiscard]] one_layer::Params params_at(double tau);
  // Eigenvalues of H^{½} M̃ H^{½}, ascending: the decay rates of the flow are 2κ (2ηκ with η folded in).
  [[nodiscard]] const Eigen::VectorXd& rates() const { return kappa_; }
  [[nodiscard]] int deflated() const { return deflated_; }

 private:
  // Eigendecomposition of H^{½} M̃ H^{½}, optimum and Vᵀ H^{½}; returns V and sets h_sqrt.
  Eigen::MatrixXd setup(const DataMoments& data, double sigma, double eta_W, double eta_b, Eigen::VectorXd& h_sqrt);

  Eigen::MatrixXd U_;
  Eigen::MatrixXd optimum_;   // [W̃*, b̃*]
  Eigen::MatrixXd P_;         // Ω̃(0) H^{−½} V
  Eigen::MatrixXd VtH_;       // Vᵀ H^{½}
  Eigen::VectorXd kappa_;
  Eigen::MatrixXd state_;
  int deflated_ = 0;
  bool discrete_ = false;
};

// (3.9): eigenvalues κ_± of [[λ+σ²+m², m], [m, 1]] (decay rates 2ηκ_±); κ_− = (λ+σ²)/κ_+ avoids cancellation.
struct TwoModeRates {
  double kappa_plus, kappa_minus;
};
TwoModeRates two_mode_rates(double lambda, double m, double sigma);
// The 2-D case (mean along one principal component, or 1-D data with mean m and variance λ): the weight along
// that component and the bias component, (w(τ), b(τ)), from (w(0), b(0)), by the 2×2 eigendecomposition.
std::pair<double, double> two_mode_flow(double lambda, double m, double sigma, double eta, double tau, double w0,
                                        double b0);

// The generated distribution of the one-layer model over τ from the closed-form weights: at every Gauss–Legendre
// node in s = ln σ the node's CoupledFlow, and between nodes the panel interpolation, feed the affine PF transport
// (4.1)–(4.2) in the eigenbasis. Fills variance, mean (Uᵀ μ̃) and eigenbasis_covariance (Uᵀ Σ̃ U).
// One-layer kind only (throws std::invalid_argument otherwise); uses o.panels, o.points_per_panel, o.inner_ode,
// o.threads and o.progress.
GeneratedTrajectory closed_form_trajectory(const DenoiserProblem& p, const std::vector<double>& taus,
                                           const NestedOptions& o);

// Weights and bias in the eigenbasis at one σ from the closed form: rows τ, columns (Uᵀ W U)_kk then (Uᵀ b)_k.
struct WeightBiasTrajectory {
  Eigen::MatrixXd weight;  // n_tau × d, diagonal of Uᵀ W U
  Eigen::MatrixXd bias;    // n_tau × d, Uᵀ b
};
WeightBiasTrajectory weight_bias_closed_form(const DenoiserProblem& p, double sigma, const std::vector<double>& taus);
// The same from dopri5 on the raw gradient (2.3) (independent of M̃), for comparison; taus non-decreasing.
WeightBiasTrajectory weight_bias_numeric(const DenoiserProblem& p, double sigma, const std::vector<double>& taus,
                                         const solver::OdeOptions& options);

}  // namespace specbias::models::noncentred
