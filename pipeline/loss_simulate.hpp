// `specbias simulate` for the loss variants of THEORY §2.2 and flow matching (§9) (`[training] loss` ≠ "edm_x"):
// the generated variance per mode by the closed form where one exists (edm_x (4.9), edm_eps, flow matching (9.6)),
// by adaptive quadrature of each variant's own sampler ODE, and by the numeric nested path (per-mode gradient flows
// at Gauss–Legendre nodes + dopri5 sampler), then the same analysis and summary as the edm_x path. The default
// loss "edm_x" never comes here: it runs the original path unchanged.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/run_config.hpp"
#include "models/loss_family.hpp"
#include "pipeline/simulate.hpp"

namespace specbias::pipeline {

// Tolerance of the numeric nested path against the sampler quadrature for two-layer flow matching (9.7): the
// converged weight max(W*_k(t), 0) has a corner at t = 1/(1+λ_k) between the fixed grid nodes.
extern const double kTwoLayerFlowMatchingRel;

// True when the config asks for a loss variant other than edm_x.
bool uses_loss_family(const config::Config& c);
models::loss_family::LossSpec loss_spec(const config::Config& c);
SimulationResult simulate_loss_family(const config::Config& c, const std::function<void(const std::string&)>& log);
// Levels at which weights are recorded: analysis.weight_sigma (σ), or analysis.weight_t for flow matching.
std::vector<double> weight_levels(const config::Config& c);
// Weights of the variant's own model at one level over τ: closed form (3.2)/(9.3) and numeric per-mode flow.
Eigen::MatrixXd loss_family_weights_closed(const config::Config& c, const models::DenoiserProblem& p, double level,
                                           const std::vector<double>& taus);
Eigen::MatrixXd loss_family_weights_numeric(const config::Config& c, const models::DenoiserProblem& p, double level,
                                            const std::vector<double>& taus);
// Weight emergence (11.1) from w_k(0) = Q_k to the variant's optimum W*_k(level), on the closed-form weights.
nlohmann::json loss_family_weight_emergence(const config::Config& c, const models::DenoiserProblem& p, double level,
                                            const std::vector<double>& taus);

}  // namespace specbias::pipeline
