#include "models/reparametrisation.hpp"

#include <cmath>
#include <stdexcept>

namespace specbias::models::reparametrisation {

Parametrisation parse_parametrisation(const std::string& name) {
  if (name == "plain") return Parametrisation::plain;
  if (name == "residual") return Parametrisation::residual;
  if (name == "score") return Parametrisation::score;
  if (name == "edm_preconditioned") return Parametrisation::edm_preconditioned;
  throw std::invalid_argument("unknown parametrisation '" + name + "' (allowed: plain, residual, score, edm_preconditioned)");
}

EtaWeighting parse_eta_weighting(const std::string& name) {
  if (name == "none") return EtaWeighting::none;
  if (name == "edm_density") return EtaWeighting::edm_density;
  if (name == "edm_loss_weight") return EtaWeighting::edm_loss_weight;
  if (name == "edm_both") return EtaWeighting::edm_both;
  throw std::invalid_argument("unknown eta_weighting '" + name + "' (allowed: none, edm_density, edm_loss_weight, edm_both)");
}

double c_skip(double sigma, double sd) { return sd * sd / (sigma * sigma + sd * sd); }
double c_out(double sigma, double sd) { return sigma * sd / std::sqrt(sigma * sigma + sd * sd); }
double c_in(double sigma, double sd) { return 1.0 / std::sqrt(sigma * sigma + sd * sd); }
double edm_loss_weight(double sigma, double sd) { return (sigma * sigma + sd * sd) / (sigma * sd * sigma * sd); }
double edm_density_factor(double sigma, double p_mean, double p_std) {
  const double u = (std::log(sigma) - p_mean) / p_std;
  return std::exp(-0.5 * u * u);
}

SigmaScaling scaling_at(Parametrisation p, EtaWeighting w, const EdmSettings& edm, double sigma) {
  SigmaScaling s;
  switch (p) {
    case Parametrisation::plain: break;
    case Parametrisation::residual: s.alpha = 1.0; break;
    case Parametrisation::score:
      s.alpha = 1.0;
      s.beta = sigma * sigma;
      s.eta_factor = std::pow(sigma, 4);  // β² (3.10)
      break;
    case Parametrisation::edm_preconditioned: {
      const double sd = edm.sigma_data, ci = c_in(sigma, sd), co = c_out(sigma, sd);
      s.alpha = c_skip(sigma, sd);
      s.beta = co * ci;
      s.eta_factor = (1.0 / (co * co)) * (co * ci) * (co * ci);  // ω β² = c_in² (3.11)
      break;
    }
  }
  if (w == EtaWeighting::edm_density || w == EtaWeighting::edm_both)
    s.eta_factor *= edm_density_factor(sigma, edm.p_mean, edm.p_std);
  if (w == EtaWeighting::edm_loss_weight || w == EtaWeighting::edm_both)
    s.eta_factor *= edm_loss_weight(sigma, edm.sigma_data);
  return s;
}

std::function<SigmaScaling(double)> make_sigma_scaling(Parametrisation p, EtaWeighting w, const EdmSettings& edm) {
  if (p == Parametrisation::plain && w == EtaWeighting::none) return {};
  return [=](double sigma) { return scaling_at(p, w, edm, sigma); };
}

}  // namespace specbias::models::reparametrisation
