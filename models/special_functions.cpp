#include "models/special_functions.hpp"

#include <boost/math/special_functions/expint.hpp>

#include <stdexcept>
#include <string>

namespace specbias::models {

namespace {
// promote_double<false>: evaluate in double, not long double (x87, several times slower; the double rational
// approximations are accurate to a few ulp). Domain errors throw, underflow returns 0 (Boost's defaults).
using E1Policy = boost::math::policies::policy<boost::math::policies::promote_double<false>>;
}  // namespace

double expint_e1(double x) {
  if (!(x > 0)) throw std::domain_error("expint_e1 needs x > 0, got " + std::to_string(x));
  if (x > 700.0) return 0.0;  // e^{-x}/x < 1e-304: below anything the closed forms can resolve
  return boost::math::expint(1, x, E1Policy());
}

}  // namespace specbias::models
