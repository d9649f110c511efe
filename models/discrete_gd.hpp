// Discrete-time gradient descent on the one-layer loss (THEORY.md §3.2, (3.6)) next to the gradient flow (3.1).
//
// n steps of W ← W − η ∂L/∂W, b ← b − η ∂L/∂b. Closed form (3.6) for zero mean per mode; for any mean the same
// eigendecomposition as (3.8) with e^{−2ητκ} replaced by (1 − 2ηκ)^n (noncentred::CoupledFlow::advance_to with
// discrete steps). Convention: training time τ ↔ n = round(τ) steps, because under C2 one step of rate η
// advances the flow clock τ by exactly 1 ((1 − 2ηa)^n ≈ e^{−2ηaτ} at τ = n, THEORY §3.2).
// Stability (3.6): |1 − 2ηκ| < 1 for every eigenvalue κ of M̃ (3.8), i.e. η < 1/κ_max(M̃); for μ = 0 that is
// η < 1/(λ_max + σ²) together with η < 1 for the bias, exactly (3.6)'s bound.
#pragma once

#include <Eigen/Dense>

#include "models/data_moments.hpp"
#include "models/one_layer.hpp"

namespace specbias::models::discrete_gd {

// n = round(τ); throws std::invalid_argument for τ < 0 or τ beyond 2^53.
long long steps_for(double tau);

// (3.6) per mode: w_k(n) = w* + (Q − w*)(1 − 2η(σ² + λ))^n.
double mode_weight(double lambda, double sigma, double eta, long long n, double Q);

// The largest stable learning rate at σ: 1/κ_max(M̃) (η must be strictly below it). Zero mean:
// 1/max(λ_max + σ², 1).
double stability_limit(const DataMoments& data, double sigma);

// n explicit steps of the full gradient (2.3): the reference for the closed forms.
one_layer::Params iterate(const DataMoments& data, double sigma, double eta, long long n, one_layer::Params p);

// Explicit per-mode iteration w ← w − η ∂L/∂w (aligned start, zero mean), kept between calls: advance_to(τ)
// takes round(τ) − (steps so far) further steps, so τ must not decrease.
class ModeIteration {
 public:
  ModeIteration(Eigen::VectorXd lambda, double sigma, double eta, Eigen::VectorXd Q);
  void advance_to(double tau);
  [[nodiscard]] const Eigen::VectorXd& state() const { return w_; }
  [[nodiscard]] long long steps() const { return n_; }

 private:
  Eigen::ArrayXd rate_, target_;  // w ← w − rate (w − target): rate = 2η(σ²+λ), target = w*
  Eigen::VectorXd w_;
  long long n_ = 0;
};

// Explicit full-matrix iteration of X = [W b] (any start, any mean), kept between calls like ModeIteration.
class MatrixIteration {
 public:
  MatrixIteration(const DataMoments& data, double sigma, double eta, const one_layer::Params& initial);
  void advance_to(double tau);
  [[nodiscard]] const Eigen::MatrixXd& state() const { return X_; }
  [[nodiscard]] long long steps() const { return n_; }

 private:
  const DataMoments* data_;
  double sigma_, eta_;
  Eigen::MatrixXd X_;
  long long n_ = 0;
};

}  // namespace specbias::models::discrete_gd
