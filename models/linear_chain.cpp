#include "models/linear_chain.hpp"

#include <stdexcept>
#include <string>

namespace specbias::models {

LinearChain::LinearChain(std::vector<ChainFactor> factors, std::vector<std::pair<int, int>> shapes)
    : factors_(std::move(factors)), shapes_(std::move(shapes)) {
  if (factors_.empty() || shapes_.empty()) throw std::invalid_argument("LinearChain: needs at least one factor");
  offsets_.push_back(0);
  for (const auto& [r, c] : shapes_) {
    if (r < 1 || c < 1) throw std::invalid_argument("LinearChain: parameter shapes must be positive");
    offsets_.push_back(offsets_.back() + static_cast<std::size_t>(r) * static_cast<std::size_t>(c));
  }
  for (const auto& f : factors_)
    if (f.parameter < 0 || static_cast<std::size_t>(f.parameter) >= shapes_.size())
      throw std::invalid_argument("LinearChain: factor refers to parameter " + std::to_string(f.parameter));
  for (int l = 0; l < depth(); ++l) {
    const auto [r, c] = factor_shape(l);
    if (factors_[static_cast<std::size_t>(l)].residual && r != c)
      throw std::invalid_argument("LinearChain: residual factor " + std::to_string(l) + " is not square");
    if (l > 0 && factor_shape(l - 1).first != c)
      throw std::invalid_argument("LinearChain: factor " + std::to_string(l) + " has " + std::to_string(c) +
                                  " columns but factor " + std::to_string(l - 1) + " has " +
                                  std::to_string(factor_shape(l - 1).first) + " rows");
  }
  dim_ = factor_shape(0).second;
  if (factor_shape(depth() - 1).first != dim_)
    throw std::invalid_argument("LinearChain: the product F_L...F_1 is not square");
}

std::pair<int, int> LinearChain::factor_shape(int l) const {
  const auto& f = factors_[static_cast<std::size_t>(l)];
  const auto [r, c] = shapes_[static_cast<std::size_t>(f.parameter)];
  return f.transpose ? std::pair{c, r} : std::pair{r, c};
}

Eigen::Map<const Eigen::MatrixXd> LinearChain::parameter(const Eigen::VectorXd& theta, std::size_t p) const {
  return {theta.data() + offsets_[p], shapes_[p].first, shapes_[p].second};
}

Eigen::Map<Eigen::MatrixXd> LinearChain::parameter(Eigen::VectorXd& theta, std::size_t p) const {
  return {theta.data() + offsets_[p], shapes_[p].first, shapes_[p].second};
}

Eigen::VectorXd LinearChain::pack(const std::vector<Eigen::MatrixXd>& matrices) const {
  if (matrices.size() != shapes_.size()) throw std::invalid_argument("LinearChain::pack: wrong number of matrices");
  Eigen::VectorXd theta(static_cast<Eigen::Index>(parameter_count()));
  for (std::size_t p = 0; p < shapes_.size(); ++p) {
    if (matrices[p].rows() != shapes_[p].first || matrices[p].cols() != shapes_[p].second)
      throw std::invalid_argument("LinearChain::pack: parameter " + std::to_string(p) + " has the wrong shape");
    parameter(theta, p) = matrices[p];
  }
  return theta;
}

Eigen::MatrixXd LinearChain::factor(const Eigen::VectorXd& theta, int l) const {
  const auto& f = factors_[static_cast<std::size_t>(l)];
  const auto M = parameter(theta, static_cast<std::size_t>(f.parameter));
  Eigen::MatrixXd F = f.transpose ? Eigen::MatrixXd(M.transpose()) : Eigen::MatrixXd(M);
  if (f.residual) F.diagonal().array() += 1.0;
  return F;
}

Eigen::MatrixXd LinearChain::effective(const Eigen::VectorXd& theta) const {
  Eigen::MatrixXd W = factor(theta, 0);
  for (int l = 1; l < depth(); ++l) W = factor(theta, l) * W;
  return W;
}

void LinearChain::forward(const Eigen::VectorXd& theta, Products& pr) const {
  const int L = depth();
  pr.F.resize(static_cast<std::size_t>(L));
  pr.right.resize(static_cast<std::size_t>(L + 1));
  for (int l = 0; l < L; ++l) pr.F[static_cast<std::size_t>(l)] = factor(theta, l);
  // right[ℓ] = F_{ℓ−1}⋯F_1 (right[0] = I is implicit); right[L] = W.
  pr.right[1] = pr.F[0];
  for (int l = 1; l < L; ++l)
    pr.right[static_cast<std::size_t>(l + 1)].noalias() = pr.F[static_cast<std::size_t>(l)] * pr.right[static_cast<std::size_t>(l)];
}

void LinearChain::backward(const Products& pr, const Eigen::MatrixXd& G, Eigen::VectorXd& grad) const {
  const int L = depth();
  grad.setZero(static_cast<Eigen::Index>(parameter_count()));
  thread_local Eigen::MatrixXd upper, dF;
  upper = G;  // (F_L⋯F_{ℓ+1})ᵀ G, built from the top factor down
  for (int l = L - 1; l >= 0; --l) {
    const auto& f = factors_[static_cast<std::size_t>(l)];
    const Eigen::MatrixXd& dFl = l == 0 ? upper : (dF.noalias() = upper * pr.right[static_cast<std::size_t>(l)].transpose(), dF);
    auto g = parameter(grad, static_cast<std::size_t>(f.parameter));
    if (f.transpose) g += dFl.transpose();
    else g += dFl;
    if (l > 0) upper = pr.F[static_cast<std::size_t>(l)].transpose() * upper;
  }
}

void LinearChain::gradient(const Eigen::VectorXd& theta, const Eigen::MatrixXd& G, Eigen::VectorXd& grad,
                           Eigen::MatrixXd* W_out) const {
  Products pr;
  forward(theta, pr);
  if (W_out) *W_out = pr.right[static_cast<std::size_t>(depth())];
  backward(pr, G, grad);
}

void LinearChain::flow_rhs(const Eigen::VectorXd& theta, const Eigen::MatrixXd& S, const Eigen::MatrixXd& C, double eta,
                           Eigen::VectorXd& dtheta) const {
  // One forward pass serves both W (for G) and the chain rule: G = 2(W S − C), then ∂L/∂θ.
  thread_local Products pr;
  thread_local Eigen::MatrixXd G;
  forward(theta, pr);
  G.noalias() = pr.right[static_cast<std::size_t>(depth())] * S;
  G = 2.0 * (G - C);
  backward(pr, G, dtheta);
  dtheta *= -eta;
}

std::vector<Eigen::MatrixXd> LinearChain::conserved(const Eigen::VectorXd& theta) const {
  std::vector<Eigen::MatrixXd> out;
  for (int l = 0; l < depth(); ++l) {
    const auto& f = factors_[static_cast<std::size_t>(l)];
    if (f.transpose || f.parameter != l) return {};  // tied or transposed: not an independent-layer chain
  }
  for (int l = 0; l + 1 < depth(); ++l) {
    const Eigen::MatrixXd F = factor(theta, l), Fn = factor(theta, l + 1);
    out.push_back(F * F.transpose() - Fn.transpose() * Fn);
  }
  return out;
}

double LinearChain::flow_rhs_flops() const {
  // forward: L − 1 right products; G = W S: 2d³; backward: L − 1 products with the right products and L − 1
  // updates of the upper product.
  double flops = 2.0 * dim_ * dim_ * dim_;
  auto gemm = [](double m, double n, double k) { return 2.0 * m * n * k; };
  for (int l = 1; l < depth(); ++l) {
    const auto [r, c] = factor_shape(l);
    flops += gemm(r, dim_, c);
  }
  // upper (rows of F_l... ) × right products, and the upper updates.
  for (int l = depth() - 1; l >= 1; --l) {
    const auto [r, c] = factor_shape(l);
    flops += gemm(r, c, dim_);   // upper (r×d) · right[l]ᵀ (d×c)
    flops += gemm(c, dim_, r);   // F_lᵀ (c×r) · upper (r×d)
  }
  return flops;
}

}  // namespace specbias::models
