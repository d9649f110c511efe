// Full-matrix factorised linear denoisers: W = F_L ⋯ F_1, one interface for every depth (THEORY.md §5, §6).
//
// Each factor is F_ℓ = [I +] op_ℓ(M_{p(ℓ)}): a parameter matrix M_p, optionally transposed (op) and optionally
// residual (I + ·), and parameters may be shared between factors (tied weights). Instances:
//   one layer                 F_1 = M_0                                     (§3)
//   symmetric two-layer       F_1 = M_0ᵀ, F_2 = M_0  (W = P Pᵀ, P = M_0 ∈ R^{d×h})   (5.1)
//   two-layer                 F_1 = M_0 (h×d), F_2 = M_1 (d×h)  (W = W₂W₁)          (6.1)
//   depth L untied / tied     F_ℓ = M_{ℓ−1} / F_ℓ = M_0 (D = P^L)                   (6.5)
//   deep residual             F_ℓ = I + M_{ℓ−1}                                      (6.8)
// The gradient flow is dθ/dτ = −η ∂L/∂θ with, by the chain rule, ∂L/∂F_ℓ = (F_L⋯F_{ℓ+1})ᵀ G (F_{ℓ−1}⋯F_1)ᵀ and
// G = ∂L/∂W of (2.3) at b = 0 (bias-free factorised models): G = 2(W S − C), S = Σ + σ²I + μμᵀ, C = Σ + μμᵀ.
// Parameters are packed column-major, parameter after parameter, into one vector θ (the integrator state).
#pragma once

#include <Eigen/Dense>
#include <vector>

namespace specbias::models {

struct ChainFactor {
  int parameter = 0;       // index p(ℓ) of the parameter matrix
  bool transpose = false;  // F_ℓ uses M_pᵀ
  bool residual = false;   // F_ℓ = I + op(M_p) (op(M_p) must be square)
};

class LinearChain {
 public:
  // factors[0] is F_1 (applied first). shapes[p] = (rows, cols) of M_p. Checks that the product is d×d for some d
  // and that consecutive factors conform; throws std::invalid_argument otherwise.
  LinearChain(std::vector<ChainFactor> factors, std::vector<std::pair<int, int>> shapes);

  [[nodiscard]] int dim() const { return dim_; }
  [[nodiscard]] int depth() const { return static_cast<int>(factors_.size()); }
  [[nodiscard]] std::size_t parameter_count() const { return offsets_.back(); }
  [[nodiscard]] std::size_t parameters() const { return shapes_.size(); }
  [[nodiscard]] const std::vector<ChainFactor>& factors() const { return factors_; }

  // View parameter p inside a packed vector θ.
  [[nodiscard]] Eigen::Map<const Eigen::MatrixXd> parameter(const Eigen::VectorXd& theta, std::size_t p) const;
  [[nodiscard]] Eigen::Map<Eigen::MatrixXd> parameter(Eigen::VectorXd& theta, std::size_t p) const;
  [[nodiscard]] Eigen::VectorXd pack(const std::vector<Eigen::MatrixXd>& matrices) const;

  // Factor F_ℓ (0-based ℓ) and the end-to-end W = F_L ⋯ F_1 at θ.
  [[nodiscard]] Eigen::MatrixXd factor(const Eigen::VectorXd& theta, int l) const;
  [[nodiscard]] Eigen::MatrixXd effective(const Eigen::VectorXd& theta) const;

  // ∂L/∂θ (packed like θ) for a given G = ∂L/∂W. Also returns W = F_L⋯F_1 through `W` if non-null (the
  // products are shared).
  void gradient(const Eigen::VectorXd& theta, const Eigen::MatrixXd& G, Eigen::VectorXd& grad,
                Eigen::MatrixXd* W = nullptr) const;

  // The same as a callable flow: writes dθ/dτ = −η ∂L/∂θ with G = 2(W S − C) (S, C as in the header comment).
  void flow_rhs(const Eigen::VectorXd& theta, const Eigen::MatrixXd& S, const Eigen::MatrixXd& C, double eta,
                Eigen::VectorXd& dtheta) const;

  // Conserved quantities of the flow of an untied chain (every factor its own, non-transposed parameter):
  // F_ℓ F_ℓᵀ − F_{ℓ+1}ᵀ F_{ℓ+1}, ℓ = 1…L−1 — (6.1) for L = 2; since ∂L/∂F_ℓ = A_ℓᵀ G B_ℓᵀ, both terms change by
  // −η(A_ℓᵀ G B_{ℓ+1}ᵀ + transpose). Residual factors qualify (∂/∂V = ∂/∂F). Empty for tied or transposed chains.
  [[nodiscard]] std::vector<Eigen::MatrixXd> conserved(const Eigen::VectorXd& theta) const;

  // Floating-point operations of one flow_rhs call (GEMMs only, 2mnk each), for benchmarks.
  [[nodiscard]] double flow_rhs_flops() const;

 private:
  struct Products {
    std::vector<Eigen::MatrixXd> F, right;  // factors and right products F_{ℓ−1}⋯F_1 (right[L] = W)
  };
  void forward(const Eigen::VectorXd& theta, Products& pr) const;
  void backward(const Products& pr, const Eigen::MatrixXd& G, Eigen::VectorXd& grad) const;

  std::vector<ChainFactor> factors_;
  std::vector<std::pair<int, int>> shapes_;
  std::vector<std::size_t> offsets_;  // start of each parameter in θ; back() = total
  int dim_ = 0;
  [[nodiscard]] std::pair<int, int> factor_shape(int l) const;  // (rows, cols) of F_ℓ
};

}  // namespace specbias::models
