// Composite Gauss–Legendre grid on an interval: `panels` equal panels with `points` GSL Gauss–Legendre nodes each.
//
// The nested driver evaluates the outer flow (weights over training time) only at these fixed nodes and reuses
// them for every inner computation (THEORY.md §15 "Nested structure"): integrals over the interval use the
// Gauss–Legendre weights (exact for polynomials of degree 2·points−1 per panel), and values between nodes come
// from barycentric Lagrange interpolation on the enclosing panel's nodes (degree points−1), which is what an
// adaptive inner ODE solver needs at its trial points.
#pragma once

#include <array>
#include <span>
#include <vector>

namespace specbias::solver {

class PanelGrid {
 public:
  // Interval [a, b] (a < b) split into `panels` ≥ 1 equal panels of `points` ∈ [2, 32] nodes each.
  PanelGrid(double a, double b, int panels, int points);

  [[nodiscard]] double lower() const { return a_; }
  [[nodiscard]] double upper() const { return b_; }
  [[nodiscard]] int panels() const { return panels_; }
  [[nodiscard]] int points_per_panel() const { return points_; }
  [[nodiscard]] std::size_t size() const { return nodes_.size(); }
  [[nodiscard]] const std::vector<double>& nodes() const { return nodes_; }      // ascending
  [[nodiscard]] const std::vector<double>& weights() const { return weights_; }  // quadrature weights

  // Σ_i weights[i] · values[i] ≈ ∫_a^b f.
  [[nodiscard]] double integrate(std::span<const double> values) const;

  // Interpolation stencil at x ∈ [a, b]: f(x) ≈ Σ_j coefficients[j] · f(nodes[first + j]), j < points.
  struct Stencil {
    std::size_t first = 0;
    std::vector<double> coefficients;
  };
  [[nodiscard]] Stencil stencil(double x) const;
  // Same, writing into caller storage (no allocation on hot paths); returns `first`.
  std::size_t stencil(double x, std::span<double> coefficients) const;

 private:
  double a_, b_;
  int panels_, points_;
  double width_;
  std::vector<double> nodes_, weights_;
  std::vector<double> reference_nodes_;       // on [-1, 1]
  std::vector<double> barycentric_weights_;   // for the reference nodes
};

}  // namespace specbias::solver
