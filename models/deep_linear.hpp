// Deep linear denoisers per mode (THEORY.md §6.2–6.3): the implicit solutions of the depth-L flow (6.5)
//   dw/dτ = −K |w|^β (w − w*),   K = 2ηκ(λ+σ²),  β = 2 − 2/L,  w* = λ/(λ+σ²),
// for a start Q > 0 (the implicit formulas keep w on Q's side of w*, where w never crosses):
//   (6.6) τ(w) = [G(Q) − G(w)]/K with G(x) = ∫ dx/(x^β (x − w*)) in ₂F₁ form (any β > 0, β ≠ 1, 2);
//   (6.7) the infinite-depth limit β = 2 with F(x) = ln|(x − w*)/x|/w*² + 1/(w* x);
//   λ = 0 (w* = 0): G(x) = −x^{−β}/β, i.e. w^{−β} = Q^{−β} + βKτ (a limit the text leaves implicit).
// mode_weight_implicit inverts τ(w) by TOMS 748 in ln|w − w*| (the variable in which G is nearly linear near the
// target). Depth-L weights from these are the independent check of the numeric per-mode flows (mode_flow.hpp).
// β = 0 (one layer) and β = 1 (two layers) have explicit solutions: (3.4), (5.3), (6.4).
#pragma once

namespace specbias::models::deep {

// β = 2 − 2/L of (6.5); L ≥ 1.
double depth_exponent(int depth);

// The antiderivative of 1/(x^β (x − w*)) used by (6.6) (β ≠ 2) or (6.7) (β = 2), at x = w*(1 − r) (below w*,
// 0 < r < 1) or x = w*(1 + r) (above w*, r > 0): parametrised by r = |x − w*|/w* so that x near w* keeps full
// relative precision in x − w*. Needs w* > 0, β > 0, β ≠ 1.
double implicit_antiderivative(double beta, double w_star, double r, bool above);

// τ(w) of (6.6)/(6.7): the training time at which the flow from Q reaches w (w strictly between Q and w*, or w = Q).
// K = 2ηκ(λ+σ²) is the rate factor of (6.5). Q > 0, w > 0.
double implicit_time(double beta, double lambda, double sigma, double rate_factor, double Q, double w);

// w(τ) by inverting (6.6)/(6.7) (λ = 0: the explicit power law). Q > 0 required (Q = 0 is a fixed point and is
// returned as 0). Returns w* when the remaining distance has dropped below double precision.
double mode_weight_implicit(double beta, double lambda, double sigma, double rate_factor, double Q, double tau);

// Residual networks (6.8): W_ℓ = I + V_ℓ with V_ℓ(0) = U diag(v) Uᵀ behave as depth-L untied with w(0) = (1 + v)^L.
double residual_initial_weight(double v, int depth);

}  // namespace specbias::models::deep
