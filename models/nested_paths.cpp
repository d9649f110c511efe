#include "models/nested_paths.hpp"

#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <type_traits>
#include <memory>
#include <variant>

#include "models/discrete_gd.hpp"
#include "models/noncentred.hpp"
#include "models/two_layer.hpp"
#include "solver/decoupled_rosenbrock.hpp"
#include "solver/dense_integrator.hpp"
#include "solver/gsl_integrator.hpp"
#include "solver/linear_flow.hpp"
#include "solver/nested.hpp"
#include "solver/node_grid.hpp"

namespace specbias::models {

OuterMethod parse_outer_method(const std::string& name) {
  if (name == "exponential") return OuterMethod::exponential;
  if (name == "solution") return OuterMethod::solution;
  if (name == "rosenbrock") return OuterMethod::rosenbrock;
  if (name == "bsimp") return OuterMethod::bsimp;
  if (name == "msbdf") return OuterMethod::msbdf;
  if (name == "dopri5") return OuterMethod::dopri5;
  throw std::invalid_argument("unknown outer integrator '" + name +
                              "' (allowed: exponential, solution, rosenbrock, bsimp, msbdf, dopri5)");
}

std::string to_string(OuterMethod m) {
  switch (m) {
    case OuterMethod::exponential: return "exponential";
    case OuterMethod::solution: return "solution";
    case OuterMethod::rosenbrock: return "rosenbrock";
    case OuterMethod::bsimp: return "bsimp";
    case OuterMethod::msbdf: return "msbdf";
    case OuterMethod::dopri5: return "dopri5";
  }
  return "?";
}

namespace {

std::string sigma_context(const char* what, double sigma) {
  std::ostringstream s;
  s << what << " at sigma = " << sigma;
  return s.str();
}

// Per-mode outer flow at one σ node (aligned start, zero mean): each mode's end-to-end weight obeys
// dw_k/dτ = −η m_k(w) ∂L/∂w_k (mode_flow.hpp), with the family's mobility m_k from DenoiserProblem::mobility.
class ModewiseFlow {
 public:
  ModewiseFlow(const DenoiserProblem& p, double sigma, const NestedOptions& o) : sigma_(sigma), eta_(p.eta_at(sigma)) {
    const auto d = p.data.dim();
    const double eta = eta_;  // per-σ rate and start when p.sigma_scaling is set ((3.10)–(3.11))
    lambda_ = p.data.eigenvalues;
    Q_.resize(d);
    for (int k = 0; k < d; ++k) Q_(k) = p.Q_at(k, sigma);
    w_ = Q_;
    for (int k = 0; k < d; ++k) mobility_.push_back(p.mobility(k));
    solver::OdeOptions opt = o.outer_ode;
    opt.context = sigma_context("per-mode gradient flow", sigma);
    if (p.discrete_steps) {  // (3.6): explicit per-mode gradient-descent steps, whatever the outer integrator
      flow_.emplace<discrete_gd::ModeIteration>(lambda_, sigma, eta, Q_);
      return;
    }
    switch (o.outer) {
      case OuterMethod::exponential: {
        // Linear flows only (β = 0): dw/dτ = −ηκ(h w − g0) with h = ∂²L/∂w², g0 = −∂L/∂w at w = 0.
        Eigen::VectorXd kappa(d), c(d);
        for (int k = 0; k < d; ++k) {
          const auto& m = mobility_[static_cast<size_t>(k)];
          if (!m.linear())
            throw std::invalid_argument("outer integrator 'exponential' is exact only for linear per-mode flows "
                                        "(one layer, depth 1); model '" + to_string(p.model.kind) +
                                        "' needs 'solution', 'bsimp', 'msbdf' or 'dopri5' (set solver.outer)");
          kappa(k) = eta * m.kappa * one_layer::mode_hessian(lambda_(k), sigma);
          c(k) = -eta * m.kappa * one_layer::mode_gradient(lambda_(k), sigma, 0.0);
        }
        flow_ = solver::DiagonalLinearFlow(kappa, c, Q_);
        break;
      }
      case OuterMethod::solution:
        for (int k = 0; k < d; ++k)
          if (!has_mode_solution(mobility_[static_cast<size_t>(k)], Q_(k)))
            throw std::invalid_argument("outer integrator 'solution': mode " + std::to_string(k) +
                                        " has no closed or implicit solution; use 'bsimp'");
        flow_.emplace<Direct>();
        break;
      case OuterMethod::rosenbrock: {
        // All modes of this node in one vectorised stiff integrator (diagonal Jacobian, shared step size).
        auto batch = std::make_shared<const ModeFlowBatch>(mobility_, lambda_, sigma, eta);
        flow_.emplace<solver::DecoupledRosenbrock>(
            [batch](const Eigen::ArrayXd& w, Eigen::ArrayXd& dw) { batch->rhs(w, dw); },
            [batch](const Eigen::ArrayXd& w, Eigen::ArrayXd& dw, Eigen::ArrayXd& J) { batch->rhs_and_derivative(w, dw, J); },
            Q_.array(), 0.0, opt);
        break;
      }
      case OuterMethod::bsimp:
      case OuterMethod::msbdf: {
        std::vector<solver::GslIntegrator> scalar;
        scalar.reserve(static_cast<size_t>(d));
        for (int k = 0; k < d; ++k) {
          const double lambda = lambda_(k);
          const ModeMobility m = mobility_[static_cast<size_t>(k)];
          scalar.emplace_back(
              o.outer == OuterMethod::bsimp ? solver::GslMethod::bsimp : solver::GslMethod::msbdf,
              [=](const Eigen::VectorXd& w, Eigen::VectorXd& dw, double) {
                dw(0) = mode_rhs(m, lambda, sigma, eta, w(0));
              },
              [=](const Eigen::VectorXd& w, double, Eigen::MatrixXd& J, Eigen::VectorXd& dfdt) {
                J(0, 0) = mode_rhs_derivative(m, lambda, sigma, eta, w(0));
                dfdt(0) = 0.0;
              },
              Eigen::VectorXd::Constant(1, Q_(k)), 0.0, opt);
        }
        flow_ = std::move(scalar);
        break;
      }
      case OuterMethod::dopri5: {
        const Eigen::VectorXd lambda = lambda_;
        const std::vector<ModeMobility> mob = mobility_;
        flow_.emplace<solver::DenseIntegrator>(
            [=](const Eigen::VectorXd& w, Eigen::VectorXd& dw, double) {
              for (Eigen::Index k = 0; k < w.size(); ++k)
                dw(k) = mode_rhs(mob[static_cast<size_t>(k)], lambda(k), sigma, eta, w(k));
            },
            Q_, 0.0, opt);
        break;
      }
    }
  }

  void advance_to(double tau) {
    if (auto* per_mode = std::get_if<std::vector<solver::GslIntegrator>>(&flow_)) {
      // One scalar GSL integration per mode (no d×d Jacobian LU per step).
      for (size_t k = 0; k < per_mode->size(); ++k) {
        (*per_mode)[k].advance_to(tau);
        w_(static_cast<Eigen::Index>(k)) = (*per_mode)[k].state()(0);
      }
      return;
    }
    if (std::holds_alternative<Direct>(flow_)) {
      for (Eigen::Index k = 0; k < w_.size(); ++k)
        w_(k) = mode_weight_solution(mobility_[static_cast<size_t>(k)], Q_(k), lambda_(k), sigma_, eta_, tau);
      return;
    }
    std::visit(
        [&](auto& flow) {
          using Flow = std::decay_t<decltype(flow)>;
          if constexpr (std::is_same_v<Flow, solver::DiagonalLinearFlow> || std::is_same_v<Flow, solver::DenseIntegrator> ||
                        std::is_same_v<Flow, discrete_gd::ModeIteration>) {
            flow.advance_to(tau);
            w_ = flow.state();
          } else if constexpr (std::is_same_v<Flow, solver::DecoupledRosenbrock>) {
            flow.advance_to(tau);
            w_ = flow.state().matrix();
          }
        },
        flow_);
  }

  [[nodiscard]] const Eigen::VectorXd& weights() const { return w_; }
  [[nodiscard]] solver::OdeStats stats() const {
    solver::OdeStats s;
    if (const auto* per_mode = std::get_if<std::vector<solver::GslIntegrator>>(&flow_)) {
      for (const auto& g : *per_mode) s += g.stats();
    } else if (const auto* ode = std::get_if<solver::DenseIntegrator>(&flow_)) {
      s += ode->stats();
    } else if (const auto* ros = std::get_if<solver::DecoupledRosenbrock>(&flow_)) {
      s += ros->stats();
    }
    return s;  // the exact exponential and the direct solutions take no steps
  }

 private:
  struct Direct {};  // evaluate mode_weight_solution at each τ (no state)
  std::variant<std::monostate, solver::DiagonalLinearFlow, Direct, solver::DecoupledRosenbrock,
               std::vector<solver::GslIntegrator>, solver::DenseIntegrator, discrete_gd::ModeIteration>
      flow_;
  double sigma_, eta_;
  Eigen::VectorXd lambda_, Q_, w_;
  std::vector<ModeMobility> mobility_;
};

// Full-matrix outer flow at one σ node. One layer: the state is X = [W b] (d×(d+1)) under (3.1) with gradient
// (2.3). Factorised kinds: the layer parameters θ of DenoiserProblem::chain() under dθ/dτ = −η ∂L/∂θ (bias-free),
// and state() is the end-to-end [W 0], recomputed after every advance.
class FullMatrixFlow {
 public:
  FullMatrixFlow(const DenoiserProblem& p, double sigma, const NestedOptions& o) {
    const auto d = p.data.dim();
    solver::OdeOptions opt = o.outer_ode;
    opt.context = sigma_context("full-matrix gradient flow", sigma);
    if (p.factorised()) {
      if (o.outer != OuterMethod::dopri5)
        throw std::invalid_argument("outer integrator '" + to_string(o.outer) + "' does not apply to the full-matrix "
                                    "flow of the factorised model '" + to_string(p.model.kind) +
                                    "' (its flow is nonlinear in the layer parameters); use 'dopri5' (set solver.outer)");
      auto chain = std::make_shared<const LinearChain>(p.chain());
      const auto m = one_layer::flow_matrices(p.data, sigma);
      const Eigen::MatrixXd S = m.K.topLeftCorner(d, d), C = m.C.leftCols(d);
      const double eta = p.eta;
      chain_ = chain;
      flow_.emplace<solver::DenseIntegrator>(
          [chain, S, C, eta](const Eigen::VectorXd& theta, Eigen::VectorXd& dtheta, double) {
            chain->flow_rhs(theta, S, C, eta, dtheta);
          },
          p.initial_parameters(), 0.0, opt);
      X_.setZero(d, d + 1);
      X_.leftCols(d) = chain->effective(std::get<solver::DenseIntegrator>(flow_).state());
      return;
    }
    const one_layer::Params init = p.initial();
    Eigen::MatrixXd X0(d, d + 1);
    X0.leftCols(d) = init.W;
    X0.col(d) = init.b;
    if (p.discrete_steps) {  // (3.6): explicit full-matrix gradient-descent steps
      flow_.emplace<discrete_gd::MatrixIteration>(p.data, sigma, p.eta, init);
      return;
    }
    switch (o.outer) {
      case OuterMethod::exponential: {
        const auto m = one_layer::flow_matrices(p.data, sigma);
        flow_.emplace<solver::SymmetricLinearFlow>(2.0 * p.eta * m.K, 2.0 * p.eta * m.C, X0);
        break;
      }
      case OuterMethod::dopri5: {
        // Right-hand side straight from the gradient (2.3): independent of flow_matrices().
        const DataMoments* data = &p.data;
        const double eta = p.eta;
        flow_.emplace<solver::MatrixDenseIntegrator>(
            [=](const Eigen::Map<const Eigen::MatrixXd>& X, Eigen::Map<Eigen::MatrixXd>& dX, double) {
              const one_layer::Params g = one_layer::gradient(*data, sigma, {X.leftCols(d), X.col(d)});
              dX.leftCols(d) = -eta * g.W;
              dX.col(d) = -eta * g.b;
            },
            X0, 0.0, opt);
        break;
      }
      default:
        throw std::invalid_argument("outer integrator '" + to_string(o.outer) +
                                    "' is per-mode only; the full-matrix path supports exponential or dopri5 "
                                    "(set solver.outer)");
    }
  }

  void advance_to(double tau) {
    std::visit(
        [&](auto& flow) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(flow)>, std::monostate>) flow.advance_to(tau);
        },
        flow_);
    if (chain_) X_.leftCols(chain_->dim()) = chain_->effective(std::get<solver::DenseIntegrator>(flow_).state());
  }
  // A view of the current end-to-end [W b], read in place (the inner PF-ODE interpolates these at every RHS call).
  [[nodiscard]] Eigen::Ref<const Eigen::MatrixXd> state() const {
    if (chain_) return X_;
    return std::visit(
        [](const auto& flow) -> Eigen::Ref<const Eigen::MatrixXd> {
          using Flow = std::decay_t<decltype(flow)>;
          if constexpr (std::is_same_v<Flow, solver::SymmetricLinearFlow> || std::is_same_v<Flow, solver::MatrixDenseIntegrator> ||
                        std::is_same_v<Flow, discrete_gd::MatrixIteration>)
            return flow.state();
          else
            throw std::logic_error("FullMatrixFlow without a one-layer integrator");
        },
        flow_);
  }
  // The layer parameters θ (factorised kinds only).
  [[nodiscard]] const Eigen::VectorXd& parameters() const { return std::get<solver::DenseIntegrator>(flow_).state(); }
  [[nodiscard]] solver::OdeStats stats() const {
    if (const auto* ode = std::get_if<solver::MatrixDenseIntegrator>(&flow_)) return ode->stats();
    if (const auto* ode = std::get_if<solver::DenseIntegrator>(&flow_)) return ode->stats();
    return {};  // the exact exponential takes no steps
  }

 private:
  std::variant<std::monostate, solver::SymmetricLinearFlow, solver::MatrixDenseIntegrator, solver::DenseIntegrator,
               discrete_gd::MatrixIteration>
      flow_;
  std::shared_ptr<const LinearChain> chain_;  // factorised kinds
  Eigen::MatrixXd X_;                          // factorised kinds: [W 0]
};

void require_aligned(const DenoiserProblem& p, const char* path) {
  if (!p.aligned())
    throw std::invalid_argument(std::string(path) +
                                " needs an aligned start (W(0) = U diag(Q) U^T, b(0) = 0) and zero-mean data; "
                                "use the full-matrix path (run.numeric_path = \"full_matrix\")");
}

GeneratedTrajectory empty_trajectory(const DenoiserProblem& p, const std::vector<double>& taus) {
  GeneratedTrajectory t;
  t.tau = taus;
  t.variance.setZero(static_cast<Eigen::Index>(taus.size()), p.data.dim());
  t.mean.setZero(static_cast<Eigen::Index>(taus.size()), p.data.dim());
  return t;
}

solver::PanelGrid make_grid(const SamplingRange& r, const NestedOptions& o) {
  return {std::log(r.sigma_min), std::log(r.sigma_max), o.panels, o.points_per_panel};
}

}  // namespace

bool has_closed_form_variance(const DenoiserProblem& p) {
  // σ-dependent rates/starts (C4) and discrete steps (3.6) have no closed form (4.6): quadrature (4.4) instead.
  return p.aligned() && !p.sigma_scaling && !p.discrete_steps &&
         (p.model.kind == ModelKind::one_layer || p.model.kind == ModelKind::two_layer_symmetric);
}

std::function<double(int, double)> closed_form_variance(const DenoiserProblem& p) {
  if (!has_closed_form_variance(p))
    throw std::invalid_argument("no closed form for the generated variance of model '" + to_string(p.model.kind) +
                                "'" + (p.aligned() ? "" : " with a non-aligned start"));
  const Eigen::VectorXd lambda = p.data.eigenvalues, Q = p.Q;
  const double eta = p.eta;
  const SamplingRange range = p.range;
  if (p.model.kind == ModelKind::one_layer)
    return [=](int k, double tau) { return one_layer_generated_variance(lambda(k), Q(k), eta, tau, range); };  // (4.9)
  return [=](int k, double tau) { return two_layer::symmetric_generated_variance(lambda(k), Q(k), eta, tau, range); };  // (5.5)
}

GeneratedTrajectory closed_form_trajectory(const DenoiserProblem& p, const std::vector<double>& taus) {
  const auto v = closed_form_variance(p);  // throws the explanation when there is no closed form
  GeneratedTrajectory t = empty_trajectory(p, taus);
  if (p.model.kind == ModelKind::one_layer) {
    t.variance = one_layer_generated_variance_grid(p.data.eigenvalues, p.Q, p.eta, taus, p.range);
    return t;
  }
  solver::parallel_for(taus.size(), 0, [&](std::size_t j) {
    for (int k = 0; k < p.data.dim(); ++k) t.variance(static_cast<Eigen::Index>(j), k) = v(k, taus[j]);
  });
  return t;
}

GeneratedTrajectory quadrature_trajectory(const DenoiserProblem& p, const std::vector<double>& taus,
                                          const solver::QuadratureOptions& options) {
  require_aligned(p, "mode-wise quadrature (4.4)");
  GeneratedTrajectory t = empty_trajectory(p, taus);
  const auto d = p.data.dim();
  std::vector<ModeMobility> mobility;
  for (int k = 0; k < d; ++k) mobility.push_back(p.mobility(k));
  std::vector<std::size_t> evaluations(taus.size() * static_cast<size_t>(d), 0);
  solver::parallel_for(taus.size() * static_cast<size_t>(d), 0, [&](std::size_t idx) {
    const size_t j = idx / static_cast<size_t>(d);
    const int k = static_cast<int>(idx % static_cast<size_t>(d));
    const double lambda = p.data.eigenvalues(k), tau = taus[j];
    const ModeMobility& m = mobility[static_cast<size_t>(k)];
    // Break points where the integrand changes character: s = ½ ln λ (w* transition) and s = −½ ln(2ηκτ) (where
    // the training clock reaches the noise scale; exactly the one-layer break point for κ = 1).
    std::vector<double> breaks;
    if (lambda > 0) breaks.push_back(0.5 * std::log(lambda));
    if (tau > 0) breaks.push_back(-0.5 * std::log(2.0 * p.eta * m.kappa * tau));
    solver::QuadratureOptions opt = options;
    std::size_t count = 0;
    const long long steps = p.discrete_steps ? discrete_gd::steps_for(tau) : 0;
    const double v = generated_variance_quadrature(
        [&](double sigma) {
          ++count;
          if (p.discrete_steps) return discrete_gd::mode_weight(lambda, sigma, p.eta, steps, p.Q(k));  // (3.6)
          return mode_weight_solution(m, p.Q_at(k, sigma), lambda, sigma, p.eta_at(sigma), tau);
        },
        p.range, breaks, opt);
    t.variance(static_cast<Eigen::Index>(j), k) = v;
    evaluations[idx] = count;
  });
  for (auto e : evaluations) t.quadrature_evaluations += e;
  return t;
}

GeneratedTrajectory nested_modewise(const DenoiserProblem& p, const std::vector<double>& taus,
                                    const NestedOptions& o) {
  require_aligned(p, "the mode-wise nested path");
  GeneratedTrajectory t = empty_trajectory(p, taus);
  const solver::PanelGrid grid = make_grid(p.range, o);
  auto make_flows = [&] {
    std::vector<ModewiseFlow> flows;
    flows.reserve(grid.size());
    for (double s : grid.nodes()) flows.emplace_back(p, std::exp(s), o);
    return flows;
  };
  // (4.4) on the node grid for row j, from every node's current per-mode weights (column i: weights at node i).
  auto inner = [&](std::size_t j, const std::vector<ModewiseFlow>& flows) {
    thread_local Eigen::MatrixXd w_nodes;
    w_nodes.resize(p.data.dim(), static_cast<Eigen::Index>(flows.size()));
    for (size_t i = 0; i < flows.size(); ++i) w_nodes.col(static_cast<Eigen::Index>(i)) = flows[i].weights();
    t.variance.row(static_cast<Eigen::Index>(j)) = generated_variance_on_grid(grid, w_nodes, p.range).transpose();
  };
  if (o.outer == OuterMethod::exponential || o.outer == OuterMethod::solution) {
    // Exact propagators or direct solutions: τ rows are independent, so they are split over threads (one fork-join in all).
    solver::run_nested_direct<ModewiseFlow>(make_flows, taus, o.threads,
                                            [&](std::size_t j, double, const std::vector<ModewiseFlow>& flows) { inner(j, flows); });
    if (o.progress) o.progress(taus.size(), taus.size());
  } else {
    std::vector<ModewiseFlow> flows = make_flows();
    solver::run_nested(flows, taus, o.threads, [&](std::size_t j, double) {
      inner(j, flows);
      if (o.progress) o.progress(j + 1, taus.size());
    });
    for (const auto& f : flows) t.outer_stats += f.stats();
  }
  t.sigma_nodes = grid.size();
  return t;
}

GeneratedTrajectory nested_full_matrix(const DenoiserProblem& p, const std::vector<double>& taus,
                                       const NestedOptions& o) {
  GeneratedTrajectory t = empty_trajectory(p, taus);
  const solver::PanelGrid grid = make_grid(p.range, o);
  std::vector<FullMatrixFlow> flows;
  flows.reserve(grid.size());
  for (double s : grid.nodes()) flows.emplace_back(p, std::exp(s), o);
  const auto d = p.data.dim();
  const Eigen::MatrixXd& U = p.data.eigenvectors;
  std::vector<double> coeffs(static_cast<size_t>(o.points_per_panel));
  solver::run_nested(flows, taus, o.threads, [&](std::size_t j, double tau) {
    // Inner PF-ODE (4.2) with (W, b) at s interpolated from the enclosing panel's nodes.
    Eigen::MatrixXd X(d, d + 1);
    solver::OdeOptions inner = o.inner_ode;
    inner.context = "PF-ODE transport at tau = " + std::to_string(tau);
    const AffineTransport tr = pf_affine_transport(
        [&](double s, Eigen::MatrixXd& W, Eigen::VectorXd& b) {
          const std::size_t first = grid.stencil(s, coeffs);
          X.setZero();
          for (size_t m = 0; m < coeffs.size(); ++m) X.noalias() += coeffs[m] * flows[first + m].state();
          W = X.leftCols(d);
          b = X.col(d);
        },
        d, p.range, inner);
    const Eigen::MatrixXd M = U.transpose() * tr.covariance(p.range.sigma_max) * U;
    t.variance.row(static_cast<Eigen::Index>(j)) = M.diagonal().transpose();
    t.mean.row(static_cast<Eigen::Index>(j)) = (U.transpose() * tr.c).transpose();
    t.eigenbasis_covariance.push_back(M);
    t.inner_stats += tr.stats;
    if (o.progress) o.progress(j + 1, taus.size());
  });
  for (const auto& f : flows) t.outer_stats += f.stats();
  t.sigma_nodes = grid.size();
  return t;
}

Eigen::MatrixXd weight_trajectory_closed_form(const DenoiserProblem& p, double sigma, const std::vector<double>& taus) {
  Eigen::MatrixXd out(static_cast<Eigen::Index>(taus.size()), p.data.dim());
  const bool aligned = p.aligned();
  if (!aligned && !p.factorised() && (!p.data.centred() || p.discrete_steps))
    return noncentred::weight_bias_closed_form(p, sigma, taus).weight;  // (3.8), or its discrete form
  if (!aligned && p.factorised()) {
    out.setConstant(std::numeric_limits<double>::quiet_NaN());  // no closed form for a non-aligned factorised start
    return out;
  }
  const one_layer::Params init = aligned ? one_layer::Params{} : p.initial();
  for (size_t j = 0; j < taus.size(); ++j) {
    if (aligned) {
      for (int k = 0; k < p.data.dim(); ++k) {
        const ModeMobility m = p.mobility(k);
        const double lambda = p.data.eigenvalues(k), Q = p.Q_at(k, sigma);
        out(static_cast<Eigen::Index>(j), k) =
            p.discrete_steps ? discrete_gd::mode_weight(lambda, sigma, p.eta, discrete_gd::steps_for(taus[j]), Q)  // (3.6)
            : has_mode_solution(m, Q) ? mode_weight_solution(m, Q, lambda, sigma, p.eta_at(sigma), taus[j])
                                      : std::numeric_limits<double>::quiet_NaN();
      }
    } else {
      const one_layer::Params w = one_layer::closed_form_flow(p.data, sigma, p.eta, taus[j], init);
      out.row(static_cast<Eigen::Index>(j)) =
          (p.data.eigenvectors.transpose() * w.W * p.data.eigenvectors).diagonal().transpose();
    }
  }
  return out;
}

Eigen::MatrixXd weight_trajectory_numeric(const DenoiserProblem& p, double sigma, const std::vector<double>& taus,
                                          const NestedOptions& o) {
  Eigen::MatrixXd out(static_cast<Eigen::Index>(taus.size()), p.data.dim());
  const auto d = p.data.dim();
  if (p.aligned()) {
    NestedOptions per_mode = o;
    // The exact exponential is one-layer only; the other families' numeric per-mode flow is bsimp.
    bool linear = true;
    for (int k = 0; k < d; ++k) linear = linear && p.mobility(k).linear();
    if (per_mode.outer == OuterMethod::exponential && !linear) per_mode.outer = OuterMethod::bsimp;
    ModewiseFlow flow(p, sigma, per_mode);
    for (size_t j = 0; j < taus.size(); ++j) {
      flow.advance_to(taus[j]);
      out.row(static_cast<Eigen::Index>(j)) = flow.weights().transpose();
    }
  } else {
    NestedOptions full = o;
    if (p.factorised() || full.outer != OuterMethod::exponential) full.outer = OuterMethod::dopri5;
    FullMatrixFlow flow(p, sigma, full);
    for (size_t j = 0; j < taus.size(); ++j) {
      flow.advance_to(taus[j]);
      const Eigen::MatrixXd W = flow.state().leftCols(d);
      out.row(static_cast<Eigen::Index>(j)) =
          (p.data.eigenvectors.transpose() * W * p.data.eigenvectors).diagonal().transpose();
    }
  }
  return out;
}

Eigen::MatrixXd chain_parameter_trajectory(const DenoiserProblem& p, double sigma, const std::vector<double>& taus,
                                           const solver::OdeOptions& options) {
  if (!p.factorised()) throw std::invalid_argument("chain_parameter_trajectory: the model is not factorised");
  NestedOptions o;
  o.outer = OuterMethod::dopri5;
  o.outer_ode = options;
  FullMatrixFlow flow(p, sigma, o);
  Eigen::MatrixXd out(static_cast<Eigen::Index>(flow.parameters().size()), static_cast<Eigen::Index>(taus.size()));
  for (size_t j = 0; j < taus.size(); ++j) {
    flow.advance_to(taus[j]);
    out.col(static_cast<Eigen::Index>(j)) = flow.parameters();
  }
  return out;
}

}  // namespace specbias::models
