// Per-mode weight flows of every aligned linear denoiser family, as one parametrised law (THEORY.md §3.1, §5, §6).
//
// For an aligned start with zero-mean data each mode's end-to-end weight w = u_kᵀ W_σ u_k follows
//   dw/dτ = −η m(w) ∂L/∂w,   ∂L/∂w = 2((λ+σ²) w − λ)   (one_layer::mode_gradient, (2.3) on u_k u_kᵀ),
// where the "mobility" m(w) = ‖∂w/∂θ‖² over the layer parameters θ of that mode is
//   m(w) = κ (w² + c²)^{β/2}:
//     one layer (3.4)                 κ = 1,          β = 0
//     symmetric two-layer PPᵀ (5.2)   κ = 4,          β = 1, c = 0
//     two-layer W₂W₁ (6.3)            κ = 2,          β = 1, c = C/2 (C = a² − b², conserved)
//     depth L untied / tied (6.5)     κ = L / L²,     β = 2 − 2/L, c = 0
//     deep residual (6.8)             κ = L,          β = 2 − 2/L, c = 0, w(0) = (1 + v)^L
//     infinite depth (6.7)            κ = 1 (η = η'), β = 2,       c = 0
// ModeMobility carries (κ, β, c); mode_rhs / mode_rhs_derivative are what the numeric per-mode integrators of the
// nested engine need, and mode_weight_solution dispatches to the family's closed or implicit solution, the
// independent reference for them.
#pragma once

#include <Eigen/Core>
#include <vector>

namespace specbias::models {

struct ModeMobility {
  double kappa = 1.0;
  double beta = 0.0;
  double c = 0.0;
  // For β > 0 and c = 0, w = 0 is a fixed point that the exact flow never crosses, so sign(w) = sign(w(0)).
  // side = ±1 makes the mobility vanish on the other side: a numeric step that overshoots 0 by less than its
  // tolerance (the stuck two-layer start b = −a decays to 0⁻) then stays put instead of being driven to w* by the
  // unstable side of the fixed point. side = 0 (default): no restriction.
  double side = 0.0;

  [[nodiscard]] double value(double w) const;       // m(w)
  [[nodiscard]] double derivative(double w) const;  // dm/dw (0 at w = 0 when c = 0, where w ≡ 0 is a fixed point)
  [[nodiscard]] bool linear() const { return beta == 0.0; }  // the flow is affine in w (exact exponential applies)
};

// dw/dτ = −η m(w) ∂L/∂w at noise level σ.
double mode_rhs(const ModeMobility& m, double lambda, double sigma, double eta, double w);
// ∂(dw/dτ)/∂w, for the implicit integrators' Jacobian.
double mode_rhs_derivative(const ModeMobility& m, double lambda, double sigma, double eta, double w);

// True when mode_weight_solution has a formula for this mobility and start: β = 0 (3.4); β = 1 with c = 0 (5.3)
// (logistic, either sign of Q) or c ≠ 0 (6.4); β > 1 with c = 0 and Q ≥ 0 ((6.6), (6.7)).
bool has_mode_solution(const ModeMobility& m, double Q);
// w(σ, τ) from the closed or implicit solution of the family (see has_mode_solution); throws std::invalid_argument
// when there is none.
double mode_weight_solution(const ModeMobility& m, double Q, double lambda, double sigma, double eta, double tau);

// mode_rhs and mode_rhs_derivative for all modes at one σ at once, on Eigen arrays (the vectorised per-mode
// integrator of the nested engine calls these once per stage for every mode of a σ node). Powers are evaluated as
// exp(p·ln x) with Eigen's vectorised exp/log (≈ 4 ns per element against ≈ 22 ns for std::pow; agrees to ~1e-15).
class ModeFlowBatch {
 public:
  ModeFlowBatch(const std::vector<ModeMobility>& mobility, const Eigen::VectorXd& lambda, double sigma, double eta);
  void rhs(const Eigen::ArrayXd& w, Eigen::ArrayXd& dwdt) const;
  void rhs_and_derivative(const Eigen::ArrayXd& w, Eigen::ArrayXd& dwdt, Eigen::ArrayXd& dfdw) const;

 private:
  // m(w) = κ·q·(w² + c²) and m'(w) = κβ·w·q with q = (w² + c²)^{β/2 − 1}.
  void mobility(const Eigen::ArrayXd& w, Eigen::ArrayXd& m, Eigen::ArrayXd* dm) const;
  Eigen::ArrayXd kappa_, beta_, half_beta_m1_, c2_, side_, L_, lambda_;
  double eta_;
  bool linear_ = false, logistic_ = false;  // every mode β = 0, or every mode β = 1 with c = 0 (m = κ|w|)
  bool power_ = false;                      // every mode β > 1 with c = 0 (deep networks: m = κ|w|^β)
};

}  // namespace specbias::models
