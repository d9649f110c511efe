// Rng (see rng.hpp): fixed-formula uniforms and Box–Muller normals on std::mt19937_64.
#include "train/rng.hpp"

#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <limits>
#include <numbers>
#include <sstream>

#include "common/errors.hpp"

namespace specbias::train {

namespace {
// One Box–Muller pair from (u1, u2); 1 − u1 lies in (0, 1], so the logarithm is finite.
inline void box_muller(double u1, double u2, double& c, double& s) {
  const double r = std::sqrt(-2.0 * std::log(1.0 - u1));
  const double theta = 2.0 * std::numbers::pi * u2;
  c = r * std::cos(theta);
  s = r * std::sin(theta);
}
}  // namespace

double Rng::uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  const double u1 = uniform();
  const double u2 = uniform();
  double c = 0.0;
  box_muller(u1, u2, c, spare_);
  has_spare_ = true;
  return c;
}

void Rng::fill_normal(std::span<double> out) {
  std::size_t i = 0;
  if (has_spare_ && !out.empty()) out[i++] = normal();
  // Whole pairs: store (u1, u2) in place, then transform each pair independently.
  const std::size_t pairs = (out.size() - i) / 2;
  double* p = out.data() + i;
  for (std::size_t k = 0; k < 2 * pairs; ++k) p[k] = uniform();
  const auto np = static_cast<std::ptrdiff_t>(pairs);
#pragma omp parallel for schedule(static) if (np > 4096)
  for (std::ptrdiff_t k = 0; k < np; ++k) box_muller(p[2 * k], p[2 * k + 1], p[2 * k], p[2 * k + 1]);
  i += 2 * pairs;
  if (i < out.size()) out[i] = normal();  // odd remainder: starts a pair and caches its sine
}

std::uint64_t Rng::below(std::uint64_t n) {
  if (n == 0) throw Error("Rng::below: n must be >= 1");
  // Reject the top partial range so every residue is equally likely.
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
  std::uint64_t x;
  do {
    x = engine_();
  } while (x >= limit);
  return x % n;
}

std::string Rng::state() const {
  std::ostringstream out;
  // A consumed spare is stale and not part of the state (it never influences later numbers).
  out << engine_ << ' ' << (has_spare_ ? 1 : 0) << ' ' << std::hexfloat << (has_spare_ ? spare_ : 0.0);
  return out.str();
}

void Rng::set_state(const std::string& state) {
  std::istringstream in(state);
  std::mt19937_64 engine;
  int spare_flag = 0;
  std::string spare_text;
  in >> engine >> spare_flag >> spare_text;
  if (!in || (spare_flag != 0 && spare_flag != 1))
    throw DataError("Rng::set_state: malformed state string (expected the text written by Rng::state())");
  // Hex floats are read with strtod: istream >> double does not accept them in libstdc++.
  char* end = nullptr;
  const double spare = std::strtod(spare_text.c_str(), &end);
  if (end == spare_text.c_str() || *end != '\0')
    throw DataError("Rng::set_state: malformed cached deviate '" + spare_text + "'");
  engine_ = engine;
  has_spare_ = spare_flag == 1;
  spare_ = spare;
}

}  // namespace specbias::train
