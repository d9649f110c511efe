#include "pipeline/summary_json.hpp"

#include <cmath>

namespace specbias::pipeline {

nlohmann::json finite_or_null(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

nlohmann::json fit_json(const std::optional<analysis::PowerLawFit>& f) {
  if (!f) return nullptr;
  return {{"alpha", finite_or_null(f->alpha)},         {"prefactor", finite_or_null(f->prefactor)},
          {"intercept", finite_or_null(f->intercept)}, {"r2", finite_or_null(f->r2)},
          {"alpha_stderr", finite_or_null(f->alpha_stderr)}, {"reverse_slope", finite_or_null(f->reverse_slope)},
          {"n", f->n}};
}

analysis::Criterion parse_criterion(const std::string& name) {
  if (name == "harmonic") return analysis::Criterion::harmonic;
  if (name == "arithmetic") return analysis::Criterion::arithmetic;
  return analysis::Criterion::geometric;
}

}  // namespace specbias::pipeline
