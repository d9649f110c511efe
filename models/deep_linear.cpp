#include "models/deep_linear.hpp"

#include <boost/math/special_functions/log1p.hpp>
#include <boost/math/tools/roots.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "common/errors.hpp"
#include "models/special_functions.hpp"

namespace specbias::models::deep {

double depth_exponent(int depth) {
  if (depth < 1) throw std::invalid_argument("depth must be >= 1 (got " + std::to_string(depth) + ")");
  return 2.0 - 2.0 / depth;
}

double implicit_antiderivative(double beta, double w_star, double r, bool above) {
  if (!(w_star > 0) || !(r > 0) || !(beta > 0) || beta == 1.0 || (!above && !(r < 1.0)))
    throw std::domain_error("implicit_antiderivative: need w* > 0, r > 0 (r < 1 below w*), beta > 0, beta != 1");
  const double x = above ? w_star * (1.0 + r) : w_star * (1.0 - r);
  if (beta == 2.0) {
    // (6.7): F(x) = ln|(x − w*)/x|/w*² + 1/(w* x), with |x − w*|/x = r/(1 ± r) and 1/(w* x) = 1/(w*²(1 ± r)).
    // Far above w* (r > 1) the two terms nearly cancel: with t = w*/x = 1/(1 + r), F = (ln(1 − t) + t)/w*², which
    // Boost's log1pmx evaluates without the cancellation.
    if (above && r > 1.0) return boost::math::log1pmx(-1.0 / (1.0 + r)) / (w_star * w_star);
    const double ratio = above ? r / (1.0 + r) : r / (1.0 - r);
    return std::log(ratio) / (w_star * w_star) + 1.0 / (w_star * x);
  }
  if (!above) {
    // (6.6), 0 < x < w*: G = −x^{1−β}/(w*(1−β)) ₂F₁(1, 1−β; 2−β; x/w*), with 1 − x/w* = r.
    return -std::pow(x, 1.0 - beta) / (w_star * (1.0 - beta)) * hyp2f1_1_b_1pb(1.0 - beta, 1.0 - r, r);
  }
  // (6.6), x > w*: G = −x^{−β}/β ₂F₁(1, β; 1+β; w*/x), with 1 − w*/x = r/(1 + r).
  return -std::pow(x, -beta) / beta * hyp2f1_1_b_1pb(beta, 1.0 / (1.0 + r), r / (1.0 + r));
}

namespace {
void require_positive(const char* what, double Q, double w) {
  if (!(Q > 0) || !(w > 0))
    throw std::invalid_argument(std::string(what) + ": the implicit solutions (6.6)/(6.7) need Q > 0 and w > 0 (Q = " +
                                std::to_string(Q) + ", w = " + std::to_string(w) + ")");
}
}  // namespace

double implicit_time(double beta, double lambda, double sigma, double K, double Q, double w) {
  require_positive("implicit_time", Q, w);
  if (lambda == 0.0) return (std::pow(w, -beta) - std::pow(Q, -beta)) / (beta * K);  // w* = 0
  const double w_star = lambda / (lambda + sigma * sigma);
  if (Q == w_star) return w == w_star ? 0.0 : std::numeric_limits<double>::infinity();
  const bool above = Q > w_star;
  if ((w > w_star) != above || (above ? w > Q : w < Q))
    throw std::invalid_argument("implicit_time: w must lie between Q and w* (the flow never crosses w*)");
  if (w == w_star) return std::numeric_limits<double>::infinity();
  auto G = [&](double x) { return implicit_antiderivative(beta, w_star, std::abs(x - w_star) / w_star, above); };
  return (G(Q) - G(w)) / K;
}

double mode_weight_implicit(double beta, double lambda, double sigma, double K, double Q, double tau) {
  if (Q == 0.0) return 0.0;
  if (!(Q > 0)) require_positive("mode_weight_implicit", Q, 1.0);
  if (tau == 0.0) return Q;
  if (lambda == 0.0) return std::pow(std::pow(Q, -beta) + beta * K * tau, -1.0 / beta);
  const double w_star = lambda / (lambda + sigma * sigma);
  if (Q == w_star) return Q;
  const bool above = Q > w_star;
  const double r0 = std::abs(Q - w_star) / w_star;
  const double G0 = implicit_antiderivative(beta, w_star, r0, above);
  const double target = G0 - K * tau;  // G(w(τ)) = G(Q) − Kτ, and G → −∞ as w → w*
  // h(u) = G(w*(1 ± e^u)) − target increases with u = ln r; h(ln r0) = Kτ > 0. Near w*, G ≈ ln r/w*^β + const,
  // so step the lower end down by about Kτ w*^β (at least 1) until h < 0.
  auto h = [&](double u) { return implicit_antiderivative(beta, w_star, std::exp(u), above) - target; };
  const double u_hi = std::log(r0);
  double step = std::max(1.0, 1.5 * K * tau * std::pow(w_star, beta));
  double u_lo = u_hi - step;
  const double u_floor = std::log(std::numeric_limits<double>::epsilon() * 0.25);  // below: w = w* in double
  double h_lo = h(std::max(u_lo, u_floor));
  while (h_lo > 0) {
    if (u_lo <= u_floor) return w_star;  // the remaining distance is below double precision
    step *= 2.0;
    u_lo = u_hi - step;
    h_lo = h(std::max(u_lo, u_floor));
  }
  u_lo = std::max(u_lo, u_floor);
  boost::uintmax_t iterations = 200;
  const auto tol = [](double a, double b) { return std::abs(a - b) <= 1e-15 * (1.0 + std::abs(a)); };
  const auto [lo, hi] = boost::math::tools::toms748_solve(h, u_lo, u_hi, h_lo, K * tau, tol, iterations);
  if (iterations >= 200)
    throw NumericalError("mode_weight_implicit: root finder did not converge (tau = " + std::to_string(tau) +
                         ", sigma = " + std::to_string(sigma) + ")");
  const double r = std::exp(0.5 * (lo + hi));
  return above ? w_star * (1.0 + r) : w_star * (1.0 - r);
}

double residual_initial_weight(double v, int depth) { return std::pow(1.0 + v, depth); }

}  // namespace specbias::models::deep
