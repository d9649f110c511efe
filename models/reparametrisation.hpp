// Re-parametrisations of the one-layer denoiser and per-σ learning-rate weighting (THEORY.md §3.4, §12).
//
// W = α_σ I + β_σ V, b = γ_σ b̂, per-σ loss weight ω_σ: W obeys (3.1) with η_W = η ω_σ β_σ², η_b = η ω_σ γ_σ²
// and W(0) = α_σ I + β_σ V(0) (3.10). Parametrisations:
//   plain               α = 0, β = γ = 1                       (W itself is trained; V(0) = Q)
//   residual            W = I + V: α = 1, β = γ = 1           (identical dynamics, start shifted by I)
//   score               D = x + σ² s, s = V x + ĉ: α = 1, β = γ = σ²  ⇒ η_W = η σ⁴
//   edm_preconditioned  D = c_skip x + c_out (V c_in x + b̂) with the EDM loss weight ω = 1/c_out² (3.11):
//                       η_W = η c_in² = η/(σ² + σ_d²), η_b = η, W(0) = c_skip I + c_out c_in V(0)
// Per-σ weighting of η (how a real EDM run spreads its updates over noise levels): edm_density multiplies by the
// log-normal sampling density of ln σ relative to its peak, exp(−(ln σ − P_mean)²/(2 P_std²)) (so η is the rate at
// the most-sampled σ = e^{P_mean}); edm_loss_weight by ω(σ) = (σ² + σ_d²)/(σ σ_d)² (12.1); edm_both by both.
// σ-dependent rates or starts have no closed form (4.6) (C4): the generated law comes from the quadrature (4.4).
#pragma once

#include <functional>
#include <string>

#include "models/denoiser_problem.hpp"

namespace specbias::models::reparametrisation {

enum class Parametrisation { plain, residual, score, edm_preconditioned };
enum class EtaWeighting { none, edm_density, edm_loss_weight, edm_both };
Parametrisation parse_parametrisation(const std::string& name);  // std::invalid_argument listing allowed names
EtaWeighting parse_eta_weighting(const std::string& name);

struct EdmSettings {
  double sigma_data = 0.5;  // σ_d (12.1)
  double p_mean = -1.2, p_std = 1.2;
};

// EDM preconditioning constants (§12).
double c_skip(double sigma, double sigma_data);
double c_out(double sigma, double sigma_data);
double c_in(double sigma, double sigma_data);
double edm_loss_weight(double sigma, double sigma_data);                   // ω(σ) = (σ²+σ_d²)/(σσ_d)²
double edm_density_factor(double sigma, double p_mean, double p_std);      // exp(−(ln σ − P_mean)²/(2P_std²))

// The per-σ rate factor η_W/η and start mapping (α, β) of (3.10) for one σ.
SigmaScaling scaling_at(Parametrisation p, EtaWeighting w, const EdmSettings& edm, double sigma);

// The callable for DenoiserProblem::sigma_scaling; empty for (plain, none), which keeps the closed forms.
std::function<SigmaScaling(double)> make_sigma_scaling(Parametrisation p, EtaWeighting w, const EdmSettings& edm);

}  // namespace specbias::models::reparametrisation
