#include "analysis/emergence.hpp"

#include <algorithm>
#include <boost/math/tools/toms748_solve.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include "common/errors.hpp"

namespace specbias::analysis {

namespace {

std::string num(double x) {
  std::ostringstream os;
  os.precision(17);
  os << x;
  return os.str();
}

const char* criterion_name(Criterion criterion) {
  switch (criterion) {
    case Criterion::geometric:
      return "geometric";
    case Criterion::harmonic:
      return "harmonic";
    case Criterion::arithmetic:
      return "arithmetic";
  }
  return "unknown";
}

// TOMS 748 converges superlinearly; 200 iterations is far beyond what a bracket of one grid interval needs and
// only guards against a pathological v.
constexpr std::uintmax_t kMaxRootIterations = 200;

}  // namespace

double emergence_threshold(double v0, double v_target, Criterion criterion) {
  if (!std::isfinite(v0) || !std::isfinite(v_target))
    throw std::invalid_argument("emergence_threshold: v0 = " + num(v0) + " and v_target = " + num(v_target) +
                                " must be finite");
  switch (criterion) {
    case Criterion::arithmetic:
      return 0.5 * (v0 + v_target);
    case Criterion::geometric:
    case Criterion::harmonic:
      if (!(v0 > 0.0) || !(v_target > 0.0))
        throw std::invalid_argument(std::string("emergence_threshold: the ") + criterion_name(criterion) +
                                    " threshold needs v0 > 0 and v_target > 0 (got v0 = " + num(v0) +
                                    ", v_target = " + num(v_target) +
                                    "); use the arithmetic criterion or drop "
                                    "zero-variance modes");
      if (criterion == Criterion::geometric) return std::sqrt(v0) * std::sqrt(v_target);  // no overflow of v0·vT
      return 2.0 / (1.0 / v0 + 1.0 / v_target);
  }
  throw std::invalid_argument("emergence_threshold: unknown criterion");
}

std::optional<Emergence> first_crossing_continuous(const std::function<double(double)>& v, double v0, double v_target,
                                                   Criterion criterion, double tau_min, double tau_max,
                                                   int points_per_decade, double rel_tol_log_tau) {
  if (!v) throw std::invalid_argument("first_crossing_continuous: empty trajectory function");
  if (!(tau_min > 0.0) || !std::isfinite(tau_max) || !(tau_max > tau_min))
    throw std::invalid_argument("first_crossing_continuous: need 0 < tau_min < tau_max < inf (got tau_min = " +
                                num(tau_min) + ", tau_max = " + num(tau_max) + ")");
  if (points_per_decade < 1)
    throw std::invalid_argument("first_crossing_continuous: points_per_decade must be >= 1 (got " +
                                std::to_string(points_per_decade) + ")");
  if (!(rel_tol_log_tau > 0.0) || !std::isfinite(rel_tol_log_tau))
    throw std::invalid_argument("first_crossing_continuous: rel_tol_log_tau must be positive and finite (got " +
                                num(rel_tol_log_tau) + ")");

  const double theta = emergence_threshold(v0, v_target, criterion);
  const bool rising = v_target > v0;
  const auto past = [&](double value) { return rising ? value >= theta : value <= theta; };
  const auto eval = [&](double tau) {
    const double value = v(tau);
    if (!std::isfinite(value))
      throw NumericalError("first_crossing_continuous: trajectory is non-finite (" + num(value) +
                           ") at tau = " + num(tau));
    return value;
  };
  Emergence result{tau_min, theta, v0, v_target, rising};

  double v_prev = eval(tau_min);
  if (past(v_prev)) return result;  // already past θ at the window start: report the window start (documented)

  const double u_min = std::log(tau_min);
  const double u_max = std::log(tau_max);
  const int intervals = std::max(1, static_cast<int>(std::ceil(points_per_decade * std::log10(tau_max / tau_min))));
  double u_prev = u_min;
  for (int i = 1; i <= intervals; ++i) {
    // The last point is tau_max itself, not exp(log(tau_max)), so the window end is evaluated exactly.
    const bool last = i == intervals;
    const double u = last ? u_max : u_min + (u_max - u_min) * static_cast<double>(i) / intervals;
    const double tau = last ? tau_max : std::exp(u);
    const double value = eval(tau);
    if (!past(value)) {
      u_prev = u;
      v_prev = value;
      continue;
    }
    if (value == theta) {
      result.tau = tau;
      return result;
    }
    // Bracket [u_prev, u] has f(u_prev) strictly on the near side and f(u) strictly on the far side.
    const auto f = [&](double uu) { return eval(std::exp(uu)) - theta; };
    // Do not ask for a bracket narrower than a few ulps of u, which TOMS 748 could never deliver.
    const double tol_u = std::max(rel_tol_log_tau, 4.0 * std::numeric_limits<double>::epsilon() * std::abs(u));
    const auto tol = [tol_u](double a, double b) { return std::abs(b - a) <= tol_u; };
    std::uintmax_t iterations = kMaxRootIterations;
    const auto bracket =
        boost::math::tools::toms748_solve(f, u_prev, u, v_prev - theta, value - theta, tol, iterations);
    if (iterations >= kMaxRootIterations || !tol(bracket.first, bracket.second))
      throw NumericalError("first_crossing_continuous: root refinement did not converge in " +
                           std::to_string(kMaxRootIterations) +
                           " iterations between tau = " + num(std::exp(bracket.first)) + " and " +
                           num(std::exp(bracket.second)) + " (raise rel_tol_log_tau)");
    result.tau = std::exp(0.5 * (bracket.first + bracket.second));
    return result;
  }
  return std::nullopt;
}

std::vector<double> gaussian_smooth_index(std::span<const double> x, double sigma) {
  if (!(sigma >= 0.0) || !std::isfinite(sigma))
    throw std::invalid_argument("gaussian_smooth_index: sigma must be finite and >= 0 (got " + num(sigma) + ")");
  std::vector<double> out(x.begin(), x.end());
  if (sigma == 0.0 || x.empty()) return out;

  // scipy.ndimage._gaussian_kernel1d: radius int(truncate·σ + 0.5) with truncate = 4, weights normalised to 1.
  const int radius = static_cast<int>(4.0 * sigma + 0.5);
  std::vector<double> weights(static_cast<size_t>(2 * radius + 1));
  double total = 0.0;
  for (int j = -radius; j <= radius; ++j) {
    const double w = std::exp(-0.5 / (sigma * sigma) * static_cast<double>(j) * static_cast<double>(j));
    weights[static_cast<size_t>(j + radius)] = w;
    total += w;
  }
  for (double& w : weights) w /= total;

  // mode='reflect' is the half-sample symmetric extension, periodic with period 2n; folding any index into
  // [0, 2n) and mirroring the upper half reproduces scipy also when the kernel is longer than the series.
  const auto n = static_cast<long long>(x.size());
  const auto fold = [n](long long j) {
    long long m = j % (2 * n);
    if (m < 0) m += 2 * n;
    return m >= n ? 2 * n - 1 - m : m;
  };
  for (long long i = 0; i < n; ++i) {
    double acc = 0.0;
    for (int j = -radius; j <= radius; ++j)
      acc += weights[static_cast<size_t>(j + radius)] * x[static_cast<size_t>(fold(i + j))];
    out[static_cast<size_t>(i)] = acc;
  }
  return out;
}

std::optional<Emergence> first_crossing_sampled(std::span<const double> tau, std::span<const double> values,
                                                double v_target, Criterion criterion, double smoothing_sigma) {
  if (values.empty()) throw std::invalid_argument("first_crossing_sampled: empty trajectory");
  if (tau.size() != values.size())
    throw std::invalid_argument("first_crossing_sampled: " + std::to_string(tau.size()) + " times but " +
                                std::to_string(values.size()) + " values");
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(tau[i]) || !std::isfinite(values[i]))
      throw std::invalid_argument("first_crossing_sampled: non-finite record at index " + std::to_string(i) +
                                  " (tau = " + num(tau[i]) + ", value = " + num(values[i]) + ")");
    if (i > 0 && !(tau[i] > tau[i - 1]))
      throw std::invalid_argument("first_crossing_sampled: record times must increase strictly (tau[" +
                                  std::to_string(i - 1) + "] = " + num(tau[i - 1]) + ", tau[" + std::to_string(i) +
                                  "] = " + num(tau[i]) + ")");
  }

  // The threshold uses the raw first record (the authors' trajectory[0]); only the search runs on the smoothed
  // series, whose start decides the direction.
  const double v0 = values[0];
  const double theta = emergence_threshold(v0, v_target, criterion);
  const std::vector<double> s = gaussian_smooth_index(values, smoothing_sigma);
  const bool rising = !(s[0] > theta);
  for (size_t i = 1; i < s.size(); ++i) {
    if (rising ? s[i] > theta : s[i] < theta) return Emergence{tau[i], theta, v0, v_target, rising};
  }
  return std::nullopt;
}

bool in_gray_zone(double v0, double v_target, double lo, double hi) {
  if (!std::isfinite(v0) || !(v0 >= 0.0) || !std::isfinite(v_target) || !(v_target > 0.0))
    throw std::invalid_argument("in_gray_zone: need finite v0 >= 0 and v_target > 0 (got v0 = " + num(v0) +
                                ", v_target = " + num(v_target) + ")");
  if (!(lo > 0.0) || !(hi >= lo) || !std::isfinite(hi))
    throw std::invalid_argument("in_gray_zone: need 0 < lo <= hi < inf (got lo = " + num(lo) + ", hi = " + num(hi) +
                                ")");
  const double ratio = v0 / v_target;
  return lo <= ratio && ratio <= hi;
}

}  // namespace specbias::analysis
