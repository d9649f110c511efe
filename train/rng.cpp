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

double Rng::uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  // 1 − u1 lies in (0, 1], so the logarithm is finite.
  const double r = std::sqrt(-2.0 * std::log(1.0 - uniform()));
  const double theta = 2.0 * std::numbers::pi * uniform();
  spare_ = r * std::sin(theta);
  has_spare_ = true;
  return r * std::cos(theta);
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
  out << engine_ << ' ' << (has_spare_ ? 1 : 0) << ' ' << std::hexfloat << spare_;
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
