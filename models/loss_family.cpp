#include "models/loss_family.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include "models/special_functions.hpp"
#include "solver/decoupled_rosenbrock.hpp"
#include "solver/dense_integrator.hpp"
#include "solver/nested.hpp"
#include "solver/node_grid.hpp"

namespace specbias::models::loss_family {

namespace {
struct NamedKind {
  const char* name;
  LossKind kind;
};
constexpr NamedKind kKinds[] = {{"edm_x", LossKind::edm_x},   {"edm_eps", LossKind::edm_eps},
                                {"vp_x", LossKind::vp_x},     {"vp_eps", LossKind::vp_eps},
                                {"vp_v", LossKind::vp_v},     {"flow_matching", LossKind::flow_matching}};
}  // namespace

const std::vector<std::string>& loss_kind_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& k : kKinds) n.emplace_back(k.name);
    return n;
  }();
  return names;
}

LossKind parse_loss_kind(const std::string& name) {
  for (const auto& k : kKinds)
    if (name == k.name) return k.kind;
  std::string allowed;
  for (const auto& n : loss_kind_names()) allowed += (allowed.empty() ? "" : ", ") + ("\"" + n + "\"");
  throw std::invalid_argument("unknown loss \"" + name + "\"; allowed: " + allowed);
}

std::string to_string(LossKind kind) {
  for (const auto& k : kKinds)
    if (k.kind == kind) return k.name;
  return "?";
}

bool uses_sigma(LossKind kind) { return kind != LossKind::flow_matching; }

Interpolant interpolant(LossKind kind, double nu) {
  switch (kind) {
    case LossKind::edm_x: return {1.0, nu, 1.0, 0.0, 0.0, 1.0};
    case LossKind::edm_eps: return {1.0, nu, 0.0, 1.0, 0.0, 1.0};
    case LossKind::vp_x:
    case LossKind::vp_eps:
    case LossKind::vp_v: {
      // α = (1+σ²)^{-1/2}, σ_t = σα; dα/dσ = −σα³, dσ_t/dσ = α³.
      const double alpha = 1.0 / std::sqrt(1.0 + nu * nu), st = nu * alpha, a3 = alpha * alpha * alpha;
      const double da = -nu * a3, ds = a3;
      if (kind == LossKind::vp_x) return {alpha, st, 1.0, 0.0, da, ds};
      if (kind == LossKind::vp_eps) return {alpha, st, 0.0, 1.0, da, ds};
      return {alpha, st, -st, alpha, da, ds};  // v = α z − σ_t x0
    }
    case LossKind::flow_matching: return {nu, 1.0 - nu, 1.0, -1.0, 1.0, -1.0};
  }
  throw std::invalid_argument("interpolant: unknown loss kind");
}

double LossSpec::start_variance() const {
  const double beta = interpolant(kind, start()).beta;
  return beta * beta;
}

// ---- full matrix ------------------------------------------------------------------------------------------

Moments moments(const DataMoments& data, LossKind kind, double nu) {
  const Interpolant I = interpolant(kind, nu);
  const auto d = data.dim();
  const Eigen::MatrixXd Id = Eigen::MatrixXd::Identity(d, d);
  Moments m;
  m.XX = I.alpha * I.alpha * data.covariance + I.beta * I.beta * Id;
  m.YX = I.a * I.alpha * data.covariance + I.b * I.beta * Id;
  m.YY = I.a * I.a * data.covariance + I.b * I.b * Id;
  m.mu_X = I.alpha * data.mean;
  m.mu_Y = I.a * data.mean;
  return m;
}

double loss(const DataMoments& data, LossKind kind, double nu, const one_layer::Params& p) {
  const Moments m = moments(data, kind, nu);
  const double cov = (p.W * m.XX * p.W.transpose() - 2.0 * p.W * m.YX.transpose() + m.YY).trace();
  return cov + (p.W * m.mu_X + p.b - m.mu_Y).squaredNorm();
}

one_layer::Params gradient(const DataMoments& data, LossKind kind, double nu, const one_layer::Params& p) {
  const Moments m = moments(data, kind, nu);
  one_layer::Params g;
  g.b = 2.0 * (p.W * m.mu_X + p.b - m.mu_Y);
  g.W = 2.0 * (p.W * m.XX - m.YX) + g.b * m.mu_X.transpose();
  return g;
}

one_layer::Params optimum(const DataMoments& data, LossKind kind, double nu) {
  const Moments m = moments(data, kind, nu);
  one_layer::Params o;
  // W* Σ_XX = Σ_YX with Σ_XX symmetric positive definite: solve Σ_XX W*ᵀ = Σ_YXᵀ.
  o.W = m.XX.llt().solve(m.YX.transpose()).transpose();
  o.b = m.mu_Y - o.W * m.mu_X;
  return o;
}

double minimum_loss(const DataMoments& data, LossKind kind, double nu) {
  const Moments m = moments(data, kind, nu);
  return (m.YY - m.YX * m.XX.llt().solve(m.YX.transpose())).trace();
}

one_layer::Params closed_form_flow(const DataMoments& data, LossKind kind, double nu, double eta, double tau,
                                   const one_layer::Params& initial) {
  if (!data.centred()) throw std::invalid_argument("loss_family::closed_form_flow needs zero-mean data");
  const one_layer::Params opt = optimum(data, kind, nu);
  Eigen::VectorXd decay(data.dim());
  for (int k = 0; k < data.dim(); ++k) decay(k) = std::exp(-2.0 * eta * tau * mode_quadratic(kind, data.eigenvalues(k), nu).r);
  one_layer::Params out;
  // (3.2): the decay matrix multiplies from the right.
  out.W = opt.W + (initial.W - opt.W) * data.eigenvectors * decay.asDiagonal() * data.eigenvectors.transpose();
  out.b = initial.b * std::exp(-2.0 * eta * tau);
  return out;
}

// ---- one mode ---------------------------------------------------------------------------------------------

ModeQuadratic mode_quadratic(LossKind kind, double lambda, double nu) {
  const Interpolant I = interpolant(kind, nu);
  return {I.alpha * I.alpha * lambda + I.beta * I.beta, I.a * I.alpha * lambda + I.b * I.beta,
          I.a * I.a * lambda + I.b * I.b};
}

double mode_loss(LossKind kind, double lambda, double nu, double w) {
  const ModeQuadratic m = mode_quadratic(kind, lambda, nu);
  return m.r * w * w - 2.0 * m.p * w + m.q;
}

double mode_gradient(LossKind kind, double lambda, double nu, double w) {
  const ModeQuadratic m = mode_quadratic(kind, lambda, nu);
  return 2.0 * (m.r * w - m.p);
}

double mode_optimum(LossKind kind, double lambda, double nu) {
  const ModeQuadratic m = mode_quadratic(kind, lambda, nu);
  return m.p / m.r;
}

double mode_minimum_loss(LossKind kind, double lambda, double nu) {
  const Interpolant I = interpolant(kind, nu);
  const double cross = I.a * I.beta - I.b * I.alpha;
  return cross * cross * lambda / (I.alpha * I.alpha * lambda + I.beta * I.beta);
}

double mode_weight(LossKind kind, double lambda, double nu, double eta, double tau, double Q) {
  const ModeQuadratic m = mode_quadratic(kind, lambda, nu);
  const double w_opt = m.p / m.r;
  const double x = -2.0 * eta * tau * m.r;
  return x < -745.0 ? w_opt : w_opt + (Q - w_opt) * std::exp(x);
}

// ---- sampler ----------------------------------------------------------------------------------------------

double sampler_rate(LossKind kind, double nu, double w) {
  const Interpolant I = interpolant(kind, nu);
  return (I.dalpha * (I.b - I.beta * w) + I.dbeta * (I.alpha * w - I.a)) / (I.alpha * I.b - I.beta * I.a);
}

double denoiser_weight(LossKind kind, double sigma, double w) {
  const Interpolant I = interpolant(kind, sigma);
  switch (kind) {
    case LossKind::edm_x: return w;
    case LossKind::edm_eps: return 1.0 - sigma * w;
    case LossKind::vp_x: return I.alpha * w;
    case LossKind::vp_eps: return 1.0 - I.beta * w;
    case LossKind::vp_v: return I.alpha * (I.alpha - I.beta * w);
    case LossKind::flow_matching: break;
  }
  throw std::invalid_argument("denoiser_weight: flow matching has no EDM denoiser (its noise coordinate is t)");
}

double generated_variance_quadrature(const LossSpec& spec, const std::function<double(double nu)>& w,
                                     std::vector<double> breakpoints, const solver::QuadratureOptions& options_in) {
  // The integral is an exponent: an absolute error ε in it is a relative error 2ε in λ̃, and it can be exactly 0
  // (w = 0 for flow matching at τ = 0, or the exact transport at the optimum), where a relative tolerance alone is
  // unreachable. So an absolute floor of 1e-14 joins the relative tolerance.
  solver::QuadratureOptions options = options_in;
  options.abs_tol = std::max(options.abs_tol, 1e-14);
  double integral;
  if (uses_sigma(spec.kind)) {
    // ∫_{σ_T}^{σ_0} m dσ = ∫_{ln σ_T}^{ln σ_0} m(e^s) e^s ds
    integral = solver::integrate(
                   [&](double s) {
                     const double sigma = std::exp(s);
                     return sampler_rate(spec.kind, sigma, w(sigma)) * sigma;
                   },
                   std::log(spec.start()), std::log(spec.end()), std::move(breakpoints), options)
                   .value;
  } else {
    integral = solver::integrate([&](double t) { return sampler_rate(spec.kind, t, w(t)); }, spec.start(), spec.end(),
                                 std::move(breakpoints), options)
                   .value;
  }
  return spec.start_variance() * std::exp(2.0 * integral);
}

bool has_closed_form(LossKind kind) {
  return kind == LossKind::edm_x || kind == LossKind::edm_eps || kind == LossKind::flow_matching;
}

namespace {
// edm_eps, derived here the way (4.6) is: the sampler is d ln x/dσ = w_ε(σ) with
// w_ε = w* + (Q − w*) e^{−c(λ+σ²)}, w* = σ/(λ+σ²), c = 2ητ; ∫ w* dσ = ½ ln(λ+σ²), ∫ w* e^{−c(λ+σ²)} dσ = ½ Ei(−c(λ+σ²)),
// ∫ e^{−cσ²} dσ = ½ √(π/c) erf(√c σ). Hence, integrating from σ_T down to σ_0,
// 2 ln(x(σ_0)/x(σ_T)) = −ln((λ+σ_T²)/(λ+σ_0²)) − [E1(c(λ+σ_T²)) − E1(c(λ+σ_0²))]
//                        − Q e^{−cλ} √(π/c) [erfc(√c σ_0) − erfc(√c σ_T)],
// and at c = 0 the bracket terms cancel and the last tends to −2Q(σ_T − σ_0).
double edm_eps_variance(const SamplingRange& r, double lambda, double Q, double c) {
  const double s0 = r.sigma_min, sT = r.sigma_max;
  const double sT2 = sT * sT, s02 = s0 * s0;
  if (c == 0.0) return sT2 * std::exp(-2.0 * Q * (sT - s0));
  double two_log = -std::log((lambda + sT2) / (lambda + s02)) -
                   (expint_e1(c * (lambda + sT2)) - expint_e1(c * (lambda + s02)));
  const double damp = std::exp(-c * lambda);
  const double rc = std::sqrt(c);
  if (damp != 0.0 && Q != 0.0)
    two_log -= Q * damp * std::sqrt(std::numbers::pi / c) * (std::erfc(rc * s0) - std::erfc(rc * sT));
  return sT2 * std::exp(two_log);
}

// (9.6) on [t_a, t_b] (THEORY states it for [0, 1]): ln A = ∫ W dt = ½ ln(g_b/g_a) + ½[E1(c g_b) − E1(c g_a)] + Q J,
// J = ∫ e^{−cg} dt = ½ √(π/(c(1+λ))) e^{−cλ/(1+λ)} [erf(κ(t_b − t_0)) − erf(κ(t_a − t_0))], κ = √(c(1+λ)),
// t_0 = 1/(1+λ) (completing the square g = (1+λ)(t − t_0)² + λ/(1+λ)); start variance (1 − t_a)².
double flow_matching_variance(double ta, double tb, double lambda, double Q, double c) {
  auto g = [&](double t) { return t * t * lambda + (1 - t) * (1 - t); };
  const double ga = g(ta), gb = g(tb), start = (1 - ta) * (1 - ta);
  if (c == 0.0) return start * std::exp(2.0 * Q * (tb - ta));
  double logA = 0.5 * std::log(gb / ga) + 0.5 * (expint_e1(c * gb) - expint_e1(c * ga));
  const double t0 = 1.0 / (1.0 + lambda), kappa = std::sqrt(c * (1.0 + lambda));
  const double damp = std::exp(-c * lambda / (1.0 + lambda));
  if (damp != 0.0 && Q != 0.0)
    logA += Q * 0.5 * std::sqrt(std::numbers::pi) / kappa * damp *
            (std::erf(kappa * (tb - t0)) - std::erf(kappa * (ta - t0)));
  return start * std::exp(2.0 * logA);
}
}  // namespace

double generated_variance_closed_form(const LossSpec& spec, double lambda, double Q, double eta, double tau) {
  const double c = 2.0 * eta * tau;
  switch (spec.kind) {
    case LossKind::edm_x: return one_layer_generated_variance(lambda, Q, eta, tau, spec.sigma);
    case LossKind::edm_eps: return edm_eps_variance(spec.sigma, lambda, Q, c);
    case LossKind::flow_matching: return flow_matching_variance(spec.t_min, spec.t_max, lambda, Q, c);
    default: break;
  }
  throw std::invalid_argument("loss \"" + to_string(spec.kind) +
                              "\" has no closed-form generated variance; use the quadrature (4.4) of its sampler");
}

double optimum_generated_variance(const LossSpec& spec, double lambda) {
  switch (spec.kind) {
    case LossKind::edm_x:
    case LossKind::edm_eps: return converged_generated_variance(lambda, spec.sigma);
    case LossKind::vp_x:
    case LossKind::vp_eps:
    case LossKind::vp_v: {
      const double a0 = interpolant(spec.kind, spec.sigma.sigma_min).alpha;
      return a0 * a0 * converged_generated_variance(lambda, spec.sigma);
    }
    case LossKind::flow_matching: {
      auto g = [&](double t) { return t * t * lambda + (1 - t) * (1 - t); };
      return (1 - spec.t_min) * (1 - spec.t_min) * g(spec.t_max) / g(spec.t_min);
    }
  }
  throw std::invalid_argument("optimum_generated_variance: unknown loss kind");
}

// ---- trajectories -----------------------------------------------------------------------------------------

namespace {
void require_aligned_one_layer(const DenoiserProblem& p, const char* what) {
  const bool kind_ok = p.model.kind == ModelKind::one_layer || p.model.kind == ModelKind::two_layer_symmetric;
  if (!kind_ok || !p.aligned())
    throw std::invalid_argument(std::string(what) +
                                ": loss variants other than edm_x need the one-layer model (or, for flow matching, the "
                                "symmetric two-layer model) with an aligned start, b(0) = 0 and zero-mean data");
}

}  // namespace

bool two_layer_flow_matching(const LossSpec& spec, const DenoiserProblem& p) {
  if (p.model.kind == ModelKind::one_layer) return false;
  if (p.model.kind == ModelKind::two_layer_symmetric && spec.kind == LossKind::flow_matching) return true;
  throw std::invalid_argument("loss \"" + to_string(spec.kind) + "\" with model kind \"" + models::to_string(p.model.kind) +
                              "\": only flow matching has a two-layer (P Pᵀ) form here (9.7)");
}

double problem_mode_weight(const LossSpec& spec, const DenoiserProblem& p, int k, double nu, double tau) {
  const double lambda = p.data.eigenvalues(k);
  return two_layer_flow_matching(spec, p) ? fm_two_layer_mode_weight(lambda, nu, p.eta, tau, p.Q(k))
                                          : mode_weight(spec.kind, lambda, nu, p.eta, tau, p.Q(k));
}

namespace {
GeneratedTrajectory empty_trajectory(const DenoiserProblem& p, const std::vector<double>& taus) {
  GeneratedTrajectory t;
  t.tau = taus;
  t.variance.resize(static_cast<Eigen::Index>(taus.size()), p.data.dim());
  t.mean = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(taus.size()), p.data.dim());
  return t;
}
}  // namespace

GeneratedTrajectory closed_form_trajectory(const LossSpec& spec, const DenoiserProblem& p, const std::vector<double>& taus) {
  require_aligned_one_layer(p, "loss_family::closed_form_trajectory");
  if (two_layer_flow_matching(spec, p))
    throw std::invalid_argument("loss_family::closed_form_trajectory: no closed form for two-layer flow matching; use "
                                "the sampler quadrature of (9.7)");
  GeneratedTrajectory t = empty_trajectory(p, taus);
  for (std::size_t j = 0; j < taus.size(); ++j)
    for (int k = 0; k < p.data.dim(); ++k)
      t.variance(static_cast<Eigen::Index>(j), k) =
          generated_variance_closed_form(spec, p.data.eigenvalues(k), p.Q(k), p.eta, taus[j]);
  return t;
}

GeneratedTrajectory quadrature_trajectory(const LossSpec& spec, const DenoiserProblem& p, const std::vector<double>& taus,
                                          const solver::QuadratureOptions& options) {
  require_aligned_one_layer(p, "loss_family::quadrature_trajectory");
  GeneratedTrajectory t = empty_trajectory(p, taus);
  solver::parallel_for(taus.size(), 0, [&](std::size_t j) {
    const double c = 2.0 * p.eta * taus[j];
    for (int k = 0; k < p.data.dim(); ++k) {
      const double lambda = p.data.eigenvalues(k);
      // Break points where the weight changes character: σ² = λ (or t = 1/(1+λ)) and where c·rate ≈ 1.
      std::vector<double> bp;
      if (uses_sigma(spec.kind)) {
        if (lambda > 0) bp.push_back(0.5 * std::log(lambda));
        if (c > 0) bp.push_back(-0.5 * std::log(c));
      } else {
        bp.push_back(1.0 / (1.0 + lambda));
      }
      t.variance(static_cast<Eigen::Index>(j), k) = generated_variance_quadrature(
          spec, [&](double nu) { return problem_mode_weight(spec, p, k, nu, taus[j]); }, bp, options);
    }
  });
  return t;
}

namespace {
// The integration variable y of the sampler: s = ln σ (σ variants) or t (flow matching).
double nu_of(const LossSpec& spec, double y) { return uses_sigma(spec.kind) ? std::exp(y) : y; }
double y_of(const LossSpec& spec, double nu) { return uses_sigma(spec.kind) ? std::log(nu) : nu; }

solver::DecoupledRosenbrock mode_flows_at(const LossSpec& spec, const DenoiserProblem& p, double nu,
                                          const solver::OdeOptions& options) {
  const int d = p.data.dim();
  Eigen::ArrayXd r(d), target(d);
  for (int k = 0; k < d; ++k) {
    const ModeQuadratic m = mode_quadratic(spec.kind, p.data.eigenvalues(k), nu);
    r(k) = 2.0 * p.eta * m.r;
    target(k) = 2.0 * p.eta * m.p;
  }
  if (two_layer_flow_matching(spec, p)) {
    // (9.7): dw/dτ = −η·4w·∂L/∂w = −4w(2η)(r w − p), the (5.2) mobility 4w on the flow-matching mode gradient.
    auto f = [r, target](const Eigen::ArrayXd& w, Eigen::ArrayXd& dw) { dw = 4.0 * w * (target - r * w); };
    auto fj = [r, target](const Eigen::ArrayXd& w, Eigen::ArrayXd& dw, Eigen::ArrayXd& jac) {
      dw = 4.0 * w * (target - r * w);
      jac = 4.0 * (target - 2.0 * r * w);
    };
    return solver::DecoupledRosenbrock(f, fj, Eigen::ArrayXd(p.Q.array()), 0.0, options);
  }
  // dw/dτ = −η ∂L/∂w = −2η(r w − p): the mode gradient itself, not its solution.
  auto f = [r, target](const Eigen::ArrayXd& w, Eigen::ArrayXd& dw) { dw = target - r * w; };
  auto fj = [r, target](const Eigen::ArrayXd& w, Eigen::ArrayXd& dw, Eigen::ArrayXd& jac) {
    dw = target - r * w;
    jac = -r;
  };
  return solver::DecoupledRosenbrock(f, fj, Eigen::ArrayXd(p.Q.array()), 0.0, options);
}
}  // namespace

GeneratedTrajectory nested_trajectory(const LossSpec& spec, const DenoiserProblem& p, const std::vector<double>& taus,
                                      const NestedOptions& o) {
  require_aligned_one_layer(p, "loss_family::nested_trajectory");
  const int d = p.data.dim();
  const double y_start = y_of(spec, spec.start()), y_end = y_of(spec, spec.end());
  const solver::PanelGrid grid(std::min(y_start, y_end), std::max(y_start, y_end), o.panels, o.points_per_panel);
  std::vector<solver::DecoupledRosenbrock> flows;
  flows.reserve(grid.size());
  for (double y : grid.nodes()) {
    solver::OdeOptions oo = o.outer_ode;
    oo.context = "loss " + to_string(spec.kind) + " gradient flow at noise coordinate " + std::to_string(nu_of(spec, y));
    flows.push_back(mode_flows_at(spec, p, nu_of(spec, y), oo));
  }
  GeneratedTrajectory t = empty_trajectory(p, taus);
  t.sigma_nodes = grid.size();
  Eigen::MatrixXd w_nodes(d, static_cast<Eigen::Index>(grid.size()));
  std::vector<double> coef(static_cast<std::size_t>(o.points_per_panel));
  solver::run_nested(flows, std::span<const double>(taus), o.threads, [&](std::size_t j, double) {
    for (std::size_t i = 0; i < flows.size(); ++i) w_nodes.col(static_cast<Eigen::Index>(i)) = flows[i].state().matrix();
    // Sampler ODE d ln X/dy = m(ν(y), w(y)) dν/dy, weights interpolated between nodes.
    auto rhs = [&](const Eigen::VectorXd&, Eigen::VectorXd& dx, double y) {
      const std::size_t first = grid.stencil(std::clamp(y, grid.lower(), grid.upper()), coef);
      const double nu = nu_of(spec, y), dnu = uses_sigma(spec.kind) ? nu : 1.0;
      for (int k = 0; k < d; ++k) {
        double w = 0.0;
        for (std::size_t q = 0; q < coef.size(); ++q) w += coef[q] * w_nodes(k, static_cast<Eigen::Index>(first + q));
        dx(k) = sampler_rate(spec.kind, nu, w) * dnu;
      }
    };
    solver::OdeOptions io = o.inner_ode;
    io.context = "sampler ODE of loss " + to_string(spec.kind) + " at tau = " + std::to_string(taus[j]);
    solver::DenseIntegrator ode(rhs, Eigen::VectorXd::Zero(d), y_start, io);
    ode.advance_to(y_end);
    t.inner_stats += ode.stats();
    t.variance.row(static_cast<Eigen::Index>(j)) =
        (spec.start_variance() * (2.0 * ode.state().array()).exp()).matrix().transpose();
    if (o.progress) o.progress(j + 1, taus.size());
  });
  for (const auto& f : flows) t.outer_stats += f.stats();
  return t;
}

Eigen::MatrixXd weight_trajectory_closed_form(const LossSpec& spec, const DenoiserProblem& p, double nu,
                                              const std::vector<double>& taus) {
  Eigen::MatrixXd w(static_cast<Eigen::Index>(taus.size()), p.data.dim());
  for (std::size_t j = 0; j < taus.size(); ++j)
    for (int k = 0; k < p.data.dim(); ++k)
      w(static_cast<Eigen::Index>(j), k) = problem_mode_weight(spec, p, k, nu, taus[j]);
  return w;
}

Eigen::MatrixXd weight_trajectory_numeric(const LossSpec& spec, const DenoiserProblem& p, double nu,
                                          const std::vector<double>& taus, const NestedOptions& o) {
  solver::OdeOptions oo = o.outer_ode;
  oo.context = "loss " + to_string(spec.kind) + " weight flow at noise coordinate " + std::to_string(nu);
  auto flow = mode_flows_at(spec, p, nu, oo);
  Eigen::MatrixXd w(static_cast<Eigen::Index>(taus.size()), p.data.dim());
  for (std::size_t j = 0; j < taus.size(); ++j) {
    flow.advance_to(taus[j]);
    w.row(static_cast<Eigen::Index>(j)) = flow.state().matrix().transpose();
  }
  return w;
}

// ---- two-layer flow matching (9.7) ----------------------------------------------------------------------------

double fm_two_layer_mode_rhs(double lambda, double t, double eta, double w) {
  const ModeQuadratic m = mode_quadratic(LossKind::flow_matching, lambda, t);
  return -8.0 * eta * w * (m.r * w - m.p);
}

double fm_two_layer_mode_weight(double lambda, double t, double eta, double tau, double Q) {
  const ModeQuadratic m = mode_quadratic(LossKind::flow_matching, lambda, t);
  if (m.p == 0.0) return Q / (1.0 + 8.0 * eta * m.r * Q * tau);  // W* = 0: dw/dτ = −8ηg w²
  const double w_opt = m.p / m.r, x = -8.0 * eta * m.p * tau;
  // Q + (W* − Q)e^x written as W* e^x − Q expm1(x): no cancellation when p (hence x and W*) is tiny.
  return w_opt * Q / (w_opt * std::exp(x) - Q * std::expm1(x));
}

}  // namespace specbias::models::loss_family
