#include "models/discrete_gd.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "solver/diag_rank_one.hpp"

namespace specbias::models::discrete_gd {

long long steps_for(double tau) {
  if (!(tau >= 0) || tau > 9.007199254740992e15)
    throw std::invalid_argument("discrete gradient descent: tau = " + std::to_string(tau) +
                                " is not a step count in [0, 2^53]");
  return std::llround(tau);
}

double mode_weight(double lambda, double sigma, double eta, long long n, double Q) {
  const double a = lambda + sigma * sigma, w_star = lambda / a;
  return w_star + (Q - w_star) * std::pow(1.0 - 2.0 * eta * a, static_cast<double>(n));
}

double stability_limit(const DataMoments& data, double sigma) {
  const auto d = data.dim();
  Eigen::VectorXd a(d + 1), z(d + 1);
  a.head(d) = (data.eigenvalues.array() + sigma * sigma).matrix();
  a(d) = 0.0;
  z.head(d) = data.mean_in_eigenbasis();
  z(d) = 1.0;
  return 1.0 / solver::diag_plus_rank_one_eigen(a, z).values.maxCoeff();
}

one_layer::Params iterate(const DataMoments& data, double sigma, double eta, long long n, one_layer::Params p) {
  for (long long i = 0; i < n; ++i) {
    const one_layer::Params g = one_layer::gradient(data, sigma, p);
    p.W -= eta * g.W;
    p.b -= eta * g.b;
  }
  return p;
}

ModeIteration::ModeIteration(Eigen::VectorXd lambda, double sigma, double eta, Eigen::VectorXd Q) : w_(std::move(Q)) {
  const Eigen::ArrayXd a = lambda.array() + sigma * sigma;
  rate_ = 2.0 * eta * a;
  target_ = lambda.array() / a;
}

void ModeIteration::advance_to(double tau) {
  const long long n = steps_for(tau);
  if (n < n_) throw std::invalid_argument("ModeIteration: tau must not decrease");
  Eigen::ArrayXd w = w_.array();
  // ∂L/∂w = 2((λ+σ²)w − λ) (one_layer::mode_gradient), so w − η ∂L/∂w = w − 2η(λ+σ²)(w − w*).
  for (; n_ < n; ++n_) w -= rate_ * (w - target_);
  w_ = w.matrix();
}

MatrixIteration::MatrixIteration(const DataMoments& data, double sigma, double eta, const one_layer::Params& initial)
    : data_(&data), sigma_(sigma), eta_(eta), X_(data.dim(), data.dim() + 1) {
  X_ << initial.W, initial.b;
}

void MatrixIteration::advance_to(double tau) {
  const long long n = steps_for(tau);
  if (n < n_) throw std::invalid_argument("MatrixIteration: tau must not decrease");
  const auto d = data_->dim();
  one_layer::Params p{X_.leftCols(d), X_.col(d)};
  p = iterate(*data_, sigma_, eta_, n - n_, std::move(p));
  X_ << p.W, p.b;
  n_ = n;
}

}  // namespace specbias::models::discrete_gd
