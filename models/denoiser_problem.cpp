#include "models/denoiser_problem.hpp"

#include <cmath>
#include <stdexcept>

#include "models/data_sources.hpp"
#include "models/deep_linear.hpp"
#include "models/splitmix64.hpp"

namespace specbias::models {

ModelKind parse_model_kind(const std::string& name) {
  if (name == "one_layer") return ModelKind::one_layer;
  if (name == "two_layer_symmetric") return ModelKind::two_layer_symmetric;
  if (name == "two_layer") return ModelKind::two_layer;
  if (name == "deep_linear") return ModelKind::deep_linear;
  if (name == "deep_residual") return ModelKind::deep_residual;
  throw std::invalid_argument("unknown model kind '" + name +
                              "' (allowed: one_layer, two_layer_symmetric, two_layer, deep_linear, deep_residual)");
}

std::string to_string(ModelKind k) {
  switch (k) {
    case ModelKind::one_layer: return "one_layer";
    case ModelKind::two_layer_symmetric: return "two_layer_symmetric";
    case ModelKind::two_layer: return "two_layer";
    case ModelKind::deep_linear: return "deep_linear";
    case ModelKind::deep_residual: return "deep_residual";
  }
  return "?";
}

Eigen::MatrixXd hidden_basis(int h, int d, int layer) {
  if (h < d) throw std::invalid_argument("hidden_basis: h = " + std::to_string(h) + " < d = " + std::to_string(d));
  SplitMix64 rng(1000 + static_cast<std::uint64_t>(layer));
  return random_orthogonal(h, rng).leftCols(d);
}

one_layer::Params DenoiserProblem::initial() const {
  one_layer::Params p;
  p.W = data.eigenvectors * Q.asDiagonal() * data.eigenvectors.transpose() + W0_offset;
  p.b = b0;
  return p;
}

bool DenoiserProblem::aligned() const {
  if (!data.centred()) return false;
  if (model.kind == ModelKind::one_layer) return W0_offset.isZero(0.0) && b0.isZero(0.0);
  return model.layer_offset_scale == 0.0;
}

ModeMobility DenoiserProblem::mobility(int k) const {
  ModeMobility m = base_mobility(k);
  if (m.beta > 0.0 && m.c == 0.0 && Q(k) != 0.0) m.side = Q(k) > 0.0 ? 1.0 : -1.0;  // w never crosses 0
  return m;
}

ModeMobility DenoiserProblem::base_mobility(int k) const {
  const int L = model.depth;
  switch (model.kind) {
    case ModelKind::one_layer: return {1.0, 0.0, 0.0};
    case ModelKind::two_layer_symmetric: return {4.0, 1.0, 0.0};                           // (5.2)
    // (6.3), c = C/2, with C = (a − b)(a + b): exactly 0 for b = ±a (a² − b² may round, or fuse, to ±1e-18).
    case ModelKind::two_layer: return {2.0, 1.0, 0.5 * (a(k) - b(k)) * (a(k) + b(k))};
    case ModelKind::deep_linear:
      if (model.infinite_depth) return {1.0, 2.0, 0.0};                                     // (6.7), η = η'
      return {model.tied ? double(L) * L : double(L), deep::depth_exponent(L), 0.0};       // (6.5)
    case ModelKind::deep_residual: return {double(L), deep::depth_exponent(L), 0.0};       // (6.8)
  }
  throw std::logic_error("mobility: unknown kind");
}

namespace {
// Per-layer value s with s^L = Q (odd L keeps the sign; validate() rejects Q < 0 for even L).
Eigen::VectorXd layer_root(const Eigen::VectorXd& Q, int L) {
  return Q.unaryExpr([L](double q) { return std::copysign(std::pow(std::abs(q), 1.0 / L), q); });
}
}  // namespace

LinearChain DenoiserProblem::chain() const {
  const int d = data.dim(), h = hidden(), L = model.depth;
  switch (model.kind) {
    case ModelKind::one_layer: return LinearChain({{0, false, false}}, {{d, d}});
    case ModelKind::two_layer_symmetric: return LinearChain({{0, true, false}, {0, false, false}}, {{d, h}});
    case ModelKind::two_layer: return LinearChain({{0, false, false}, {1, false, false}}, {{h, d}, {d, h}});
    case ModelKind::deep_linear: {
      if (model.infinite_depth)
        throw std::invalid_argument("an infinitely deep network has no full-matrix parameterisation; use the mode-wise "
                                    "path (aligned start) or a finite depth");
      if (model.tied) return LinearChain(std::vector<ChainFactor>(static_cast<std::size_t>(L), {0, false, false}), {{d, d}});
      std::vector<ChainFactor> f;
      std::vector<std::pair<int, int>> shapes;
      for (int l = 0; l < L; ++l) {
        f.push_back({l, false, false});
        shapes.emplace_back(l == L - 1 ? d : h, l == 0 ? d : h);
      }
      return LinearChain(f, shapes);
    }
    case ModelKind::deep_residual: {
      std::vector<ChainFactor> f;
      for (int l = 0; l < L; ++l) f.push_back({l, false, true});
      return LinearChain(f, std::vector<std::pair<int, int>>(static_cast<std::size_t>(L), {d, d}));
    }
  }
  throw std::logic_error("chain: unknown kind");
}

Eigen::VectorXd DenoiserProblem::initial_parameters() const {
  const LinearChain c = chain();
  const int d = data.dim(), h = hidden(), L = model.depth;
  const Eigen::MatrixXd& U = data.eigenvectors;
  std::vector<Eigen::MatrixXd> M;
  switch (model.kind) {
    case ModelKind::one_layer: M.push_back(initial().W); break;
    case ModelKind::two_layer_symmetric:
      M.push_back(U * Q.cwiseSqrt().asDiagonal() * hidden_basis(h, d, 1).transpose());
      break;
    case ModelKind::two_layer: {
      const Eigen::MatrixXd R = hidden_basis(h, d, 1);
      M.push_back(R * a.asDiagonal() * U.transpose());
      M.push_back(U * b.asDiagonal() * R.transpose());
      break;
    }
    case ModelKind::deep_linear: {
      const Eigen::VectorXd s = layer_root(Q, L);
      if (model.tied) {
        M.push_back(U * s.asDiagonal() * U.transpose());
        break;
      }
      // Bases between layers: U at both ends, R_ℓ (h×d, orthonormal columns) in between.
      auto basis = [&](int l) -> Eigen::MatrixXd { return (l == 0 || l == L) ? U : hidden_basis(h, d, l); };
      for (int l = 0; l < L; ++l) M.push_back(basis(l + 1) * s.asDiagonal() * basis(l).transpose());
      break;
    }
    case ModelKind::deep_residual:
      for (int l = 0; l < L; ++l) M.push_back(U * v.asDiagonal() * U.transpose());
      break;
  }
  if (factorised() && model.layer_offset_scale != 0.0)
    for (std::size_t p = 0; p < M.size(); ++p)
      M[p] += nonaligned_matrix(M[p].rows(), M[p].cols(), model.layer_offset_scale, 1.0 + static_cast<double>(p));
  return c.pack(M);
}

void DenoiserProblem::validate() const {
  const int d = data.dim();
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument(what);
  };
  need(Q.size() == d, "Q has " + std::to_string(Q.size()) + " entries for " + std::to_string(d) + " modes");
  const auto& m = model;
  need(m.depth >= 1, "depth must be >= 1 (got " + std::to_string(m.depth) + ")");
  if (m.kind == ModelKind::one_layer) {
    need(W0_offset.rows() == d && W0_offset.cols() == d && b0.size() == d, "one-layer W0_offset/b0 have the wrong size");
    return;
  }
  need(hidden() >= d, "hidden width h = " + std::to_string(hidden()) + " is smaller than the data dimension d = " +
                          std::to_string(d) + " (the aligned start needs h >= d)");
  switch (m.kind) {
    case ModelKind::two_layer_symmetric:
      need(m.depth == 2, "two_layer_symmetric has depth 2");
      need((Q.array() >= 0).all(), "Q must be >= 0 for W = P P^T (positive semi-definite)");
      break;
    case ModelKind::two_layer:
      need(m.depth == 2, "two_layer has depth 2");
      need(a.size() == d && b.size() == d, "two_layer needs one a and one b per mode");
      need(((a.array() * b.array()).matrix() - Q).cwiseAbs().maxCoeff() <= 1e-15 * (1.0 + Q.cwiseAbs().maxCoeff()),
           "two_layer: Q must equal a*b");
      break;
    case ModelKind::deep_linear:
      need(!(m.tied && m.hidden > 0 && m.hidden != d), "a tied deep network has square layers: hidden must equal d");
      need(!(m.infinite_depth && m.layer_offset_scale != 0.0), "an infinitely deep network needs an aligned start");
      need(m.depth % 2 == 1 || m.infinite_depth || (Q.array() >= 0).all(),
           "Q must be >= 0 for an even depth (w(0) = a^L)");
      need(!m.infinite_depth || (Q.array() >= 0).all(), "Q must be >= 0 for the infinite-depth limit (6.7)");
      break;
    case ModelKind::deep_residual:
      need(v.size() == d, "deep_residual needs one v per mode");
      need(m.hidden == 0 || m.hidden == d, "residual layers are square: hidden must equal d");
      break;
    case ModelKind::one_layer: break;
  }
}

}  // namespace specbias::models
