// Two-layer linear denoisers, per mode (THEORY.md §5 and §6.1), for an aligned start with zero-mean data.
//
//   symmetric W = P Pᵀ:  logistic weight (5.3), harmonic-mean emergence time (5.4), generated variance (5.5) and
//                        the linearised off-diagonal rate (5.6) with its three phase values (5.7a–c);
//   general W = W₂W₁:    the per-mode (a, b) flow (6.2), its conserved C = a² − b², the reduced ODE (6.3) for
//                        w = ab and the explicit solution (6.4), including the stuck case C = 0, b = −a.
// The full-matrix flows (5.1) and (6.1) live in linear_chain.hpp; the generic per-mode engine in mode_flow.hpp.
// Units: λ ≥ 0 (λ > 0 where a formula divides by it), σ > 0, η > 0, τ ≥ 0.
#pragma once

#include <utility>

#include "models/pf_ode.hpp"

namespace specbias::models::two_layer {

// ---- symmetric two-layer W = P Pᵀ (§5) --------------------------------------------------------------------------
// (5.3) w(τ) = w* Q / ((w* − Q) e^{−8ηλτ} + Q), written as Q / (E + Q·8ητ(λ+σ²)·φ₁(8ηλτ)) so that λ → 0 keeps
// its limit Q / (1 + 8ησ²Qτ). Q ≥ 0 (W is positive semi-definite); Q = 0 is the unstable fixed point w ≡ 0.
double symmetric_mode_weight(double lambda, double sigma, double eta, double tau, double Q);
// (5.4) τ* = ln 2 / (8ηλ): w reaches the harmonic mean 2Qw*/(Q + w*) of its start and end (any Q > 0, any σ).
double symmetric_weight_emergence_time(double lambda, double eta);
// (5.5) λ̃(τ) for a σ-independent Q ≥ 0 (τ = 0 gives (4.7), τ → ∞ gives (4.8), Q = 0 gives σ_0²).
double symmetric_generated_variance(double lambda, double Q, double eta, double tau, const SamplingRange& range);

// (5.6) r in dW̃_km/dτ = r W̃_km, to first order in the off-diagonal entries of W̃ = Uᵀ W U, at diagonal values
// W̃_kk = w_k, W̃_mm = w_m: r = −2η[(3L_k + L_m) w_k + (L_k + 3L_m) w_m − 2(λ_k + λ_m)], L_j = λ_j + σ².
double symmetric_offdiagonal_rate(double lambda_k, double lambda_m, double sigma, double eta, double w_k, double w_m);
// (5.7a) neither mode learned (w_k = w_m = 0): +4η(λ_k + λ_m).
double symmetric_offdiagonal_rate_unlearned(double lambda_k, double lambda_m, double eta);
// (5.7b) mode k learned, m not: −2η(λ_k − λ_m)(λ_k + 2σ²)/(λ_k + σ²).
double symmetric_offdiagonal_rate_one_learned(double lambda_k, double lambda_m, double sigma, double eta);
// (5.7c) both learned: −2η(λ_k + λ_m + λ_k L_m/L_k + λ_m L_k/L_m).
double symmetric_offdiagonal_rate_both_learned(double lambda_k, double lambda_m, double sigma, double eta);

// ---- general two-layer W = W₂W₁ (§6.1) ------------------------------------------------------------------------
struct ModeLayers {
  double a;  // first-layer value  (W₁ = R diag(a) Uᵀ)
  double b;  // second-layer value (W₂ = U diag(b) Rᵀ)
  [[nodiscard]] double w() const { return a * b; }
  [[nodiscard]] double C() const { return (a - b) * (a + b); }  // a² − b², conserved (6.2); exactly 0 for b = ±a
};
// (6.2) right-hand side (da/dτ, db/dτ) = (−η b g, −η a g), g = 2(λ+σ²)(ab − w*).
ModeLayers mode_layers_rhs(double lambda, double sigma, double eta, const ModeLayers& state);
// (6.3) dw/dτ = −2η(λ+σ²)(w − w*) sqrt(C² + 4w²).
double reduced_rhs(double lambda, double sigma, double eta, double C, double w);
// (6.4) explicit solution from (a₀, b₀) at time τ: a(τ), b(τ) (and so w = ab). Needs λ > 0 or C ≠ 0.
ModeLayers explicit_solution(double lambda, double sigma, double eta, double tau, const ModeLayers& initial);
// (6.4) for w only, from p = (a₀+b₀)²/4 and q = (a₀−b₀)²/4 (so w(0) = p − q, |C| = 4 sqrt(pq)).
double explicit_weight(double lambda, double sigma, double eta, double tau, double p, double q);
// (p, q) of (6.4) from w(0) = Q and C: p + q = sqrt(Q² + C²/4), p − q = Q (computed without cancellation).
std::pair<double, double> pq_from_weight(double Q, double C);

}  // namespace specbias::models::two_layer
