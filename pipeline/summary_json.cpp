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

nlohmann::json emergence_json(const std::vector<analysis::ModeEmergence>& modes) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& m : modes)
    arr.push_back({{"mode", m.mode},
                   {"lambda", m.lambda},
                   {"v0", m.v0},
                   {"v_target", m.v_target},
                   {"tau_star", m.tau_star ? nlohmann::json(*m.tau_star) : nlohmann::json(nullptr)},
                   {"branch", m.rising ? "rising" : "decaying"},
                   {"gray_zone", m.gray}});
  return arr;
}

nlohmann::json fits_json(const std::vector<analysis::ModeEmergence>& modes) {
  const auto fits = analysis::fit_branches(modes);
  return {{"rising", fit_json(fits.rising)}, {"decaying", fit_json(fits.decaying)}};
}

void add_emergence_summary(nlohmann::json& summary, const Eigen::VectorXd& lambda, const nlohmann::json& emergence,
                           const nlohmann::json& fits) {
  nlohmann::json modes = nlohmann::json::array();
  for (Eigen::Index k = 0; k < lambda.size(); ++k) {
    nlohmann::json m{{"mode", k}, {"lambda", lambda(k)}};
    for (const auto& [method, arr] : emergence.items()) {
      const auto& e = arr[static_cast<std::size_t>(k)];
      m["tau_star_" + method] = e["tau_star"];
      m["branch"] = e["branch"];
      m["gray_zone"] = e["gray_zone"];
    }
    modes.push_back(m);
  }
  summary["modes"] = modes;
  summary["emergence"] = emergence;
  summary["fits"] = fits;
  nlohmann::json fit;
  for (const char* method : {"closed_form", "quadrature", "numeric"})
    if (fits.contains(method)) {
      fit = fits[method];
      break;
    }
  summary["fit"] = fit;
}

analysis::Criterion parse_criterion(const std::string& name) {
  if (name == "harmonic") return analysis::Criterion::harmonic;
  if (name == "arithmetic") return analysis::Criterion::arithmetic;
  return analysis::Criterion::geometric;
}

}  // namespace specbias::pipeline
