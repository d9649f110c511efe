// A linear-denoiser training problem of any depth: data moments, model family, initial values, η and σ range.
//
// The families (THEORY.md §3, §5, §6) plug into the nested engine (nested_paths.hpp) through two interfaces:
//   • per mode (aligned start, zero-mean data): w_k(0) = Q_k and the mobility m_k(w) of mode_flow.hpp, so that
//     dw_k/dτ = −η m_k(w) ∂L/∂w_k; the closed/implicit solution of each family is mode_weight_solution;
//   • full matrix (any start, any mean): the factorised parameterisation LinearChain of linear_chain.hpp with its
//     initial parameters θ(0), whose end-to-end W = F_L⋯F_1 feeds the PF transport (4.1)–(4.2).
// The one-layer model also keeps its bias and exact exponential flows (one_layer.hpp).
//
// Aligned initial parameters (§5, §6.1, §6.2): with U the data eigenbasis and R_ℓ ∈ R^{h×d} fixed matrices with
// orthonormal columns (hidden_basis), per-mode layer values s_k:
//   two_layer_symmetric  P(0) = U diag(√Q) R_1ᵀ                                  W(0) = U diag(Q) Uᵀ
//   two_layer            W₁(0) = R_1 diag(a) Uᵀ, W₂(0) = U diag(b) R_1ᵀ          W(0) = U diag(ab) Uᵀ, C = a² − b²
//   deep_linear untied   W_1 = R_1 diag(s) Uᵀ, W_ℓ = R_ℓ diag(s) R_{ℓ−1}ᵀ, W_L = U diag(s) R_{L−1}ᵀ,  s = Q^{1/L}
//   deep_linear tied     P(0) = U diag(s) Uᵀ, D = P^L                             (square, h = d)
//   deep_residual        V_ℓ(0) = U diag(v) Uᵀ, W_ℓ = I + V_ℓ                      Q = (1 + v)^L
// (s = sign(Q)|Q|^{1/L} for odd L; even L needs Q ≥ 0.) A non-aligned start adds layer_offset_scale times the
// (13.2) matrix sin(phase + i + 2j) with phase 1 + p to every parameter matrix M_p.
#pragma once

#include <Eigen/Dense>
#include <functional>
#include <string>

#include "models/data_moments.hpp"
#include "models/linear_chain.hpp"
#include "models/mode_flow.hpp"
#include "models/one_layer.hpp"
#include "models/pf_ode.hpp"

namespace specbias::models {

enum class ModelKind { one_layer, two_layer_symmetric, two_layer, deep_linear, deep_residual };
ModelKind parse_model_kind(const std::string& name);  // throws std::invalid_argument listing the allowed names
std::string to_string(ModelKind k);

struct ModelSpec {
  ModelKind kind = ModelKind::one_layer;
  int depth = 1;                    // L: 1 (one_layer), 2 (two-layer kinds), ≥ 1 (deep kinds)
  bool tied = false;                // deep_linear: one shared square matrix, D = P^L (κ = L²)
  bool infinite_depth = false;      // deep_linear: the L → ∞ limit (6.7) at fixed η' = ηκ; η is then η'
  int hidden = 0;                   // hidden width h ≥ d (two-layer kinds, untied deep); 0 means h = d
  double layer_offset_scale = 0.0;  // factorised kinds: non-aligned start (0 = aligned)
};

// Per-σ learning rate and initial weight of the one-layer model (THEORY (3.10)–(3.11), C4): at noise level σ the
// weight flows with rate η·eta_factor and starts at w_k(0) = alpha + beta·Q_k (Q then holds the trainable V(0)).
struct SigmaScaling {
  double eta_factor = 1.0;
  double alpha = 0.0;
  double beta = 1.0;
};

struct DenoiserProblem {
  DataMoments data;
  ModelSpec model;
  Eigen::VectorXd Q;          // w_k(0), the end-to-end initial weight per mode (every kind)
  Eigen::VectorXd a, b;       // two_layer: per-mode layer values (Q = a∘b); empty otherwise
  Eigen::VectorXd v;          // deep_residual: V(0) = U diag(v) Uᵀ; empty otherwise
  Eigen::MatrixXd W0_offset;  // one_layer: non-aligned addition to W(0) (d×d; zero when aligned)
  Eigen::VectorXd b0;         // one_layer: initial bias (length d)
  double eta = 1.0;
  SamplingRange range;
  // One-layer, aligned zero-mean only: σ-dependent rate and start (re-parametrisations, per-σ η weighting); empty
  // for the plain model. When set, no σ-independent closed form applies and the mode-wise paths use eta_at/Q_at.
  std::function<SigmaScaling(double sigma)> sigma_scaling;
  // Discrete-time gradient descent (3.6) instead of gradient flow: n = round(τ) steps of rate η (one-layer only).
  bool discrete_steps = false;

  [[nodiscard]] double eta_at(double sigma) const { return sigma_scaling ? eta * sigma_scaling(sigma).eta_factor : eta; }
  [[nodiscard]] double Q_at(int k, double sigma) const {
    if (!sigma_scaling) return Q(k);
    const SigmaScaling s = sigma_scaling(sigma);
    return s.alpha + s.beta * Q(k);
  }

  [[nodiscard]] int hidden() const { return model.hidden > 0 ? model.hidden : data.dim(); }
  [[nodiscard]] bool factorised() const { return model.kind != ModelKind::one_layer; }
  // One-layer initial (W, b) (one_layer kind only).
  [[nodiscard]] one_layer::Params initial() const;
  // True when W(0) = U diag(Q) Uᵀ is reached by aligned layers, b(0) = 0 and μ = 0: the weights stay diagonal in U
  // and commute across σ (§4.2), so the per-mode paths apply.
  [[nodiscard]] bool aligned() const;
  // Mobility m_k of mode k (mode_flow.hpp); throws std::invalid_argument for an infinite-depth tied model.
  [[nodiscard]] ModeMobility mobility(int k) const;
  // The factorised parameterisation and its initial parameters (factorised kinds; not for infinite depth).
  [[nodiscard]] LinearChain chain() const;
  [[nodiscard]] Eigen::VectorXd initial_parameters() const;
  // The mobility law of the kind alone (mobility() adds the sign restriction of ModeMobility::side).
  [[nodiscard]] ModeMobility base_mobility(int k) const;
  // Checks sizes and per-kind constraints (hidden ≥ d, Q ≥ 0 where W is PSD or L even, …); throws
  // std::invalid_argument naming the offending field.
  void validate() const;
};

// d columns of an h×h orthogonal matrix (SplitMix64 seed 1000 + layer, (13.3)): the fixed hidden bases R_ℓ.
Eigen::MatrixXd hidden_basis(int h, int d, int layer);

}  // namespace specbias::models
