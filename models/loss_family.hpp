// The loss variants of THEORY.md §2.2 (the paper's Table 2) and flow matching (§9) for the one-layer affine model
// (flow matching also for the symmetric two-layer model P Pᵀ, (9.7)).
//
// Every variant predicts Y = a x0 + b z from X = α x0 + β z; with the moments (2.7) the loss is (1.1), its gradient
// (2.8), the optimum (2.9) and the minimum loss (2.10). The per-mode gradient flow (zero mean, aligned start) is
// w_k(τ) = w*_k + (Q_k − w*_k) e^{−2ητ r_k}, r_k = α²λ_k + β² ((3.2) with the rate of (2.9); (9.3) for flow matching).
//
// Noise coordinate ν: ν = σ for the EDM and VP variants, ν = t ∈ [0, 1] for flow matching. VP variants use the
// schedule α = 1/√(1+σ²), σ_t = σ/√(1+σ²) (α² + σ_t² = 1, σ_t/α_t = σ): any VP schedule is a reparametrisation of
// its time by the EDM noise level σ, and neither per-level training (independent parameters per level, C4) nor the
// probability-flow ODE depends on how the levels are parametrised, so the σ range [σ_0, σ_T] of EDM is reused.
//
// Sampler of a variant ("its own PF-ODE"): the model output Ŷ = W X and X give x̂0 = (bX − βŶ)/(αb − βa) and
// ẑ = (αŶ − aX)/(αb − βa), and the deterministic interpolant flow is dX/dν = α' x̂0 + β' ẑ. For a linear model it is
// per mode d ln X_k/dν = m(ν, w_k) = [α'(b − βw) + β'(αw − a)]/(αb − βa), which is (0.2) for edm_x and the velocity
// field dx/dt = W_t x of (9.5) for flow matching. Sampling starts from the pure-noise part N(0, β(ν_start)² I) (C3:
// β(σ_T)² = σ_T²; flow matching: N(0, I) at t = 0) and the generated variance per mode is
// λ̃_k = β(ν_start)² exp(2 ∫_{ν_start}^{ν_end} m dν) — (4.4) generalised.
// Not here: non-zero mean closed forms (the full-matrix functions do handle μ ≠ 0), re-parametrisations, discrete GD.
#pragma once

#include <Eigen/Dense>
#include <functional>
#include <string>
#include <vector>

#include "models/data_moments.hpp"
#include "models/denoiser_problem.hpp"
#include "models/nested_paths.hpp"
#include "models/one_layer.hpp"
#include "models/pf_ode.hpp"
#include "solver/quadrature.hpp"

namespace specbias::models::loss_family {

enum class LossKind { edm_x, edm_eps, vp_x, vp_eps, vp_v, flow_matching };
LossKind parse_loss_kind(const std::string& name);  // throws std::invalid_argument listing the allowed names
std::string to_string(LossKind kind);
const std::vector<std::string>& loss_kind_names();
// True for the EDM and VP variants (ν = σ); false for flow matching (ν = t).
bool uses_sigma(LossKind kind);

// X = α x0 + β z, Y = a x0 + b z at noise coordinate ν, and dα/dν, dβ/dν (Table 2 of §2.2).
struct Interpolant {
  double alpha, beta, a, b, dalpha, dbeta;
};
Interpolant interpolant(LossKind kind, double nu);

// Which variant and over which range of ν the sampler runs.
struct LossSpec {
  LossKind kind = LossKind::edm_x;
  SamplingRange sigma;               // EDM/VP: sample from σ_T down to σ_0
  double t_min = 0.0, t_max = 1.0;   // flow matching: sample from t_min up to t_max, 0 ≤ t_min < t_max ≤ 1
  [[nodiscard]] double start() const { return uses_sigma(kind) ? sigma.sigma_max : t_min; }
  [[nodiscard]] double end() const { return uses_sigma(kind) ? sigma.sigma_min : t_max; }
  // β(ν_start)²: variance of the pure-noise start of the sampler.
  [[nodiscard]] double start_variance() const;
};

// ---- full matrix (any mean) -------------------------------------------------------------------------------
struct Moments {
  Eigen::MatrixXd XX, YX, YY;  // Σ_XX, Σ_YX, Σ_YY of (2.7)
  Eigen::VectorXd mu_X, mu_Y;
};
Moments moments(const DataMoments& data, LossKind kind, double nu);                          // (2.7)
double loss(const DataMoments& data, LossKind kind, double nu, const one_layer::Params& p);  // (1.1)
one_layer::Params gradient(const DataMoments& data, LossKind kind, double nu, const one_layer::Params& p);  // (2.8)
one_layer::Params optimum(const DataMoments& data, LossKind kind, double nu);                // W* = Σ_YX Σ_XX^{-1} (2.9)
double minimum_loss(const DataMoments& data, LossKind kind, double nu);                      // trace form of (2.10)
// Gradient flow (3.2)–(3.3) with the rates of (2.9) ((9.3) for flow matching); zero-mean data only.
one_layer::Params closed_form_flow(const DataMoments& data, LossKind kind, double nu, double eta, double tau,
                                   const one_layer::Params& initial);

// ---- one mode (zero mean, aligned) ------------------------------------------------------------------------
// L_k(w) = r w² − 2 p w + q with r = α²λ + β², p = aαλ + bβ, q = a²λ + b² (the mode's share of (1.1)).
struct ModeQuadratic {
  double r, p, q;
};
ModeQuadratic mode_quadratic(LossKind kind, double lambda, double nu);
double mode_loss(LossKind kind, double lambda, double nu, double w);
double mode_gradient(LossKind kind, double lambda, double nu, double w);  // 2(r w − p)
double mode_optimum(LossKind kind, double lambda, double nu);             // p/r, Table 2 column W*_k
double mode_minimum_loss(LossKind kind, double lambda, double nu);        // (aβ − bα)²λ/r (2.10)
// w_k(ν, τ) = w* + (Q − w*) e^{−2ητ r}
double mode_weight(LossKind kind, double lambda, double nu, double eta, double tau, double Q);

// ---- sampler ----------------------------------------------------------------------------------------------
// d ln X_k/dν for model weight w at ν (see the file header).
double sampler_rate(LossKind kind, double nu, double w);
// EDM/VP only: the weight of the EDM denoiser D(x_ve; σ) equivalent to the variant's weight w (x_ve = X/α):
// edm_x w, edm_eps 1 − σw, vp_x αw, vp_eps 1 − σ_t w, vp_v α(α − σ_t w). Throws for flow matching.
double denoiser_weight(LossKind kind, double sigma, double w);
// λ̃ = β(ν_start)² exp(2 ∫ m(ν, w(ν)) dν) by adaptive quadrature (in s = ln σ for σ variants, in t otherwise);
// breakpoints are in the integration variable (s or t).
double generated_variance_quadrature(const LossSpec& spec, const std::function<double(double nu)>& w,
                                     std::vector<double> breakpoints = {},
                                     const solver::QuadratureOptions& options = {});
// Closed form of λ̃_k(τ) for the aligned σ-independent start Q: edm_x (4.9), edm_eps (derived here, see .cpp),
// flow_matching (9.6) on [t_min, t_max]. The VP variants have none (their rate (λ+σ²)/(1+σ²) mixes σ-dependences):
// has_closed_form is false and this throws std::invalid_argument.
bool has_closed_form(LossKind kind);
double generated_variance_closed_form(const LossSpec& spec, double lambda, double Q, double eta, double tau);
// λ̃ at the optimum (τ → ∞): edm_x/edm_eps (4.8); VP α(σ_0)²·(4.8) (x_vp = α x_ve); flow matching g(t_max)/g(t_min)·(1−t_min)²
// with g = t²λ + (1−t)² ((9.5): exactly λ on [0, 1]).
double optimum_generated_variance(const LossSpec& spec, double lambda);

// ---- trajectories for the pipeline (aligned start, zero mean, one-layer; flow matching also P Pᵀ (9.7)) --------
// True for flow matching with the symmetric two-layer model, false for the one-layer model; throws
// std::invalid_argument for any other combination.
bool two_layer_flow_matching(const LossSpec& spec, const DenoiserProblem& p);
// w_k(ν, τ) of the problem's model: mode_weight (one layer) or fm_two_layer_mode_weight (9.7).
double problem_mode_weight(const LossSpec& spec, const DenoiserProblem& p, int k, double nu, double tau);
GeneratedTrajectory closed_form_trajectory(const LossSpec& spec, const DenoiserProblem& p, const std::vector<double>& taus);
GeneratedTrajectory quadrature_trajectory(const LossSpec& spec, const DenoiserProblem& p, const std::vector<double>& taus,
                                          const solver::QuadratureOptions& options = {});
// Numeric: the per-mode gradient flows integrated by DecoupledRosenbrock at the nodes of a Gauss–Legendre grid in the
// integration variable (solver::run_nested), and at each τ the sampler ODE d ln X_k/dν integrated by dopri5 with
// the weights interpolated between nodes (PanelGrid::stencil). Independent of mode_weight and of the quadratures.
GeneratedTrajectory nested_trajectory(const LossSpec& spec, const DenoiserProblem& p, const std::vector<double>& taus,
                                      const NestedOptions& o);
// Per-mode weights at one ν over τ: closed form (mode_weight) and numeric (Rosenbrock on the mode gradient).
Eigen::MatrixXd weight_trajectory_closed_form(const LossSpec& spec, const DenoiserProblem& p, double nu,
                                              const std::vector<double>& taus);
Eigen::MatrixXd weight_trajectory_numeric(const LossSpec& spec, const DenoiserProblem& p, double nu,
                                          const std::vector<double>& taus, const NestedOptions& o);

// ---- flow matching with the symmetric two-layer model W_t = P_t P_tᵀ (9.7) -----------------------------------
// dw/dτ = −8ηw(g w − p), g = t²λ + (1−t)², p = tλ − (1−t): the (5.2) mobility 4w on the FM mode gradient.
double fm_two_layer_mode_rhs(double lambda, double t, double eta, double w);
// w(τ) = W* Q / (Q + (W* − Q) e^{−8ηpτ}), W* = p/g (9.7); for p < 0 it decays to 0, not to W* < 0.
double fm_two_layer_mode_weight(double lambda, double t, double eta, double tau, double Q);

}  // namespace specbias::models::loss_family
