#include "models/two_layer.hpp"

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

namespace specbias::models::two_layer {

namespace {
// φ₁(x) = (1 − e^{−x})/x with φ₁(0) = 1, accurate for small |x| (expm1).
double phi1(double x) { return x == 0.0 ? 1.0 : -std::expm1(-x) / x; }
}  // namespace

double symmetric_mode_weight(double lambda, double sigma, double eta, double tau, double Q) {
  if (Q < 0) throw std::invalid_argument("symmetric_mode_weight: Q must be >= 0 for W = P P^T (got " + std::to_string(Q) + ")");
  if (Q == 0.0) return 0.0;
  const double L = lambda + sigma * sigma;
  const double x = 8.0 * eta * lambda * tau;  // w*·8η(λ+σ²)τ
  // 1/w is exactly affine in e^{−x}: 1/w = e^{−x}/Q + (1 − e^{−x})/w*, with (1 − e^{−x})/w* = 8ηLτ φ₁(x).
  return Q / (std::exp(-x) + Q * 8.0 * eta * L * tau * phi1(x));
}

double symmetric_weight_emergence_time(double lambda, double eta) {
  if (!(lambda > 0)) throw std::invalid_argument("symmetric_weight_emergence_time: lambda must be > 0");
  return std::numbers::ln2 / (8.0 * eta * lambda);
}

double symmetric_generated_variance(double lambda, double Q, double eta, double tau, const SamplingRange& r) {
  if (Q < 0) throw std::invalid_argument("symmetric_generated_variance: Q must be >= 0 (got " + std::to_string(Q) + ")");
  const double E = std::exp(-8.0 * eta * lambda * tau);
  const double denom = Q + (1.0 - Q) * E;
  if (Q == 0.0) return r.sigma_min * r.sigma_min;  // w ≡ 0: x ∝ σ, so λ̃ = σ_T²(σ_0/σ_T)²
  const double p1 = (1.0 - Q) * E / denom, p2 = Q / (2.0 * denom);
  // ln Φ(σ) = p1 ln σ + p2 ln(λE + Q(1−E)(λ+σ²))   (5.5)
  auto log_phi = [&](double sigma) {
    return p1 * std::log(sigma) + p2 * std::log(lambda * E - Q * std::expm1(-8.0 * eta * lambda * tau) * (lambda + sigma * sigma));
  };
  return r.sigma_max * r.sigma_max * std::exp(2.0 * (log_phi(r.sigma_min) - log_phi(r.sigma_max)));
}

double symmetric_offdiagonal_rate(double lambda_k, double lambda_m, double sigma, double eta, double w_k, double w_m) {
  const double Lk = lambda_k + sigma * sigma, Lm = lambda_m + sigma * sigma;
  return -2.0 * eta * ((3.0 * Lk + Lm) * w_k + (Lk + 3.0 * Lm) * w_m - 2.0 * (lambda_k + lambda_m));
}

double symmetric_offdiagonal_rate_unlearned(double lambda_k, double lambda_m, double eta) {
  return 4.0 * eta * (lambda_k + lambda_m);
}

double symmetric_offdiagonal_rate_one_learned(double lambda_k, double lambda_m, double sigma, double eta) {
  const double s2 = sigma * sigma;
  return -2.0 * eta * (lambda_k - lambda_m) * (lambda_k + 2.0 * s2) / (lambda_k + s2);
}

double symmetric_offdiagonal_rate_both_learned(double lambda_k, double lambda_m, double sigma, double eta) {
  const double Lk = lambda_k + sigma * sigma, Lm = lambda_m + sigma * sigma;
  return -2.0 * eta * (lambda_k + lambda_m + lambda_k * Lm / Lk + lambda_m * Lk / Lm);
}

ModeLayers mode_layers_rhs(double lambda, double sigma, double eta, const ModeLayers& s) {
  const double L = lambda + sigma * sigma;
  const double g = 2.0 * L * (s.a * s.b - lambda / L);
  return {-eta * s.b * g, -eta * s.a * g};
}

double reduced_rhs(double lambda, double sigma, double eta, double C, double w) {
  const double L = lambda + sigma * sigma;
  return -2.0 * eta * L * (w - lambda / L) * std::sqrt(C * C + 4.0 * w * w);
}

std::pair<double, double> pq_from_weight(double Q, double C) {
  const double sum = std::hypot(Q, 0.5 * C);  // p + q
  const double pq = C * C / 16.0;             // p q
  // The larger of p, q directly, the smaller from the product (no cancellation when |Q| ≫ |C|).
  if (Q >= 0) {
    const double p = 0.5 * (sum + Q);
    return {p, p > 0 ? pq / p : 0.0};
  }
  const double q = 0.5 * (sum - Q);
  return {q > 0 ? pq / q : 0.0, q};
}

namespace {
// y(τ) of (6.4): a ± b evolve as e^{∓s}, y = e^{2s}; Riccati dy/dτ = −2k'(q y² + w* y − p), y(0) = 1.
double riccati_y(double lambda, double sigma, double eta, double tau, double p, double q) {
  const double L = lambda + sigma * sigma, w_star = lambda / L, k = 2.0 * eta * L;
  const double D = std::sqrt(w_star * w_star + 4.0 * p * q);  // C²/4 = 4pq
  if (!(D > 0))
    throw std::invalid_argument("two_layer::explicit_solution (6.4) needs lambda > 0 or C != 0");
  const double E = std::exp(-2.0 * k * D * tau);
  const double y_plus = 2.0 * p / (w_star + D), den = 2.0 * q + w_star + D;
  return (y_plus + (1.0 - y_plus) * E * (w_star + D) / den) / (1.0 - (1.0 - y_plus) * E * 2.0 * q / den);
}
}  // namespace

double explicit_weight(double lambda, double sigma, double eta, double tau, double p, double q) {
  const double y = riccati_y(lambda, sigma, eta, tau, p, q);
  // p = 0 (b = −a, stuck) drives y → 0; skip the 0/0 when e^{−2k'Dτ} has underflowed.
  return (p == 0.0 ? 0.0 : p / y) - q * y;
}

ModeLayers explicit_solution(double lambda, double sigma, double eta, double tau, const ModeLayers& init) {
  const double sum = init.a + init.b, diff = init.a - init.b;
  const double y = riccati_y(lambda, sigma, eta, tau, 0.25 * sum * sum, 0.25 * diff * diff);
  const double sy = std::sqrt(y);
  const double plus = sum == 0.0 ? 0.0 : sum / sy, minus = diff * sy;  // a + b and a − b at τ
  return {0.5 * (plus + minus), 0.5 * (plus - minus)};
}

}  // namespace specbias::models::two_layer
