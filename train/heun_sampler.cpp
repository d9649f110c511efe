#include "train/heun_sampler.hpp"

#include <cmath>
#include <string>

namespace specbias::train {

std::vector<double> HeunSchedule::sigmas() const {
  if (steps < 1) throw std::invalid_argument("Heun sampler: steps must be >= 1, got " + std::to_string(steps));
  if (!(sigma_min > 0 && sigma_min < sigma_max && rho > 0))
    throw std::invalid_argument("Heun sampler: need 0 < sigma_min < sigma_max and rho > 0");
  std::vector<double> s(static_cast<size_t>(steps) + 1, 0.0);
  const double a = std::pow(sigma_max, 1.0 / rho), b = std::pow(sigma_min, 1.0 / rho);
  for (int i = 0; i < steps; ++i) {
    const double frac = steps == 1 ? 0.0 : static_cast<double>(i) / (steps - 1);
    s[static_cast<size_t>(i)] = std::pow(a + frac * (b - a), rho);
  }
  return s;  // s[steps] = 0
}

}  // namespace specbias::train
