#include "models/special_functions.hpp"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_expint.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace specbias::models {

double expint_e1(double x) {
  if (!(x > 0)) throw std::domain_error("expint_e1 needs x > 0, got " + std::to_string(x));
  static const bool gsl_handler_off = (gsl_set_error_handler_off(), true);  // status codes, never abort()
  (void)gsl_handler_off;
  if (x > 700.0) return 0.0;  // e^{-x}/x < 1e-304: below anything the closed forms can resolve
  gsl_sf_result r;
  const int status = gsl_sf_expint_E1_e(x, &r);
  if (status == GSL_EUNDRFLW) return 0.0;
  if (status != GSL_SUCCESS) throw std::domain_error("GSL E1 failed at x = " + std::to_string(x));
  return r.val;
}

}  // namespace specbias::models
