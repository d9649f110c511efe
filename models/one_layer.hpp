// One-layer affine denoiser D(x; σ) = W_σ x + b_σ (THEORY.md §2.1, §3.1).
//
// Loss (2.2) and gradient (2.3) from the data moments alone (Lemma 1.1), the optimum (2.4) and minimum loss
// (2.5); the closed-form gradient flow (3.2)–(3.3) for zero-mean data with any (also non-aligned) W(0), b(0),
// its per-mode form (3.4) and excess-loss trajectory (3.5). Non-centred closed forms (3.7)–(3.8) are not here.
// Shapes: W is d×d, b has length d; σ > 0, η > 0, τ ≥ 0.
#pragma once

#include <Eigen/Dense>

#include "models/data_moments.hpp"

namespace specbias::models::one_layer {

struct Params {
  Eigen::MatrixXd W;
  Eigen::VectorXd b;
};

// L_σ(W, b) = tr(W(Σ+σ²I)W^T − 2WΣ + Σ) + ||(W − I)μ + b||²   (2.2)
double loss(const DataMoments& data, double sigma, const Params& p);
// (∂L/∂W, ∂L/∂b) of (2.3).
Params gradient(const DataMoments& data, double sigma, const Params& p);
// W* = Σ(Σ+σ²I)^{-1}, b* = (I − W*)μ   (2.4)
Params optimum(const DataMoments& data, double sigma);
// σ² tr[Σ(Σ+σ²I)^{-1}]   (2.5)
double minimum_loss(const DataMoments& data, double sigma);

// Gradient flow in closed form (3.2)–(3.3); zero-mean data only (throws std::invalid_argument otherwise).
Params closed_form_flow(const DataMoments& data, double sigma, double eta, double tau, const Params& initial);
// w_k(σ, τ) = w*_k + (Q_k − w*_k) e^{−2ητ(σ²+λ_k)}   (3.4)
double mode_weight(double lambda, double sigma, double eta, double tau, double Q);
// L_σ(τ) − min L_σ along the flow (3.5); zero-mean data.
double excess_loss_closed_form(const DataMoments& data, double sigma, double eta, double tau, const Params& initial);

// Aligned zero-mean case, one mode: ∂L/∂w_k = 2((λ_k + σ²) w_k − λ_k), i.e. (2.3) projected on u_k u_k^T;
// its second derivative 2(λ_k + σ²) is constant (the flow is linear in w_k).
double mode_gradient(double lambda, double sigma, double w);
double mode_hessian(double lambda, double sigma);

// Gradient-flow Hessian structure: the flow is d[W b]/dτ = −2η([W b] K − C) with the constant symmetric
// (d+1)×(d+1) matrix K = [[Σ+σ²I+μμ^T, μ], [μ^T, 1]] and C = [Σ+μμ^T, μ] (obtained from (2.3) by collecting
// terms; the raw form of (3.8)). Used by the exact-exponential outer integrator.
struct LinearFlowMatrices {
  Eigen::MatrixXd K;  // (d+1)×(d+1)
  Eigen::MatrixXd C;  // d×(d+1)
};
LinearFlowMatrices flow_matrices(const DataMoments& data, double sigma);

}  // namespace specbias::models::one_layer
