#include "solver/node_grid.hpp"

#include <gsl/gsl_integration.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

namespace specbias::solver {

PanelGrid::PanelGrid(double a, double b, int panels, int points)
    : a_(a), b_(b), panels_(panels), points_(points), width_((b - a) / panels) {
  if (!(a < b)) throw std::invalid_argument("PanelGrid needs a < b");
  if (panels < 1) throw std::invalid_argument("PanelGrid needs at least one panel");
  if (points < 2 || points > 32) throw std::invalid_argument("PanelGrid points per panel must be in [2, 32]");
  std::unique_ptr<gsl_integration_glfixed_table, decltype(&gsl_integration_glfixed_table_free)> table(
      gsl_integration_glfixed_table_alloc(static_cast<size_t>(points)), &gsl_integration_glfixed_table_free);
  reference_nodes_.resize(static_cast<size_t>(points));
  std::vector<double> ref_weights(static_cast<size_t>(points));
  for (int i = 0; i < points; ++i) {
    // gsl_integration_glfixed_point returns nodes in descending order on [a, b]; map [-1, 1] and sort below.
    gsl_integration_glfixed_point(-1.0, 1.0, static_cast<size_t>(i), &reference_nodes_[static_cast<size_t>(i)],
                                  &ref_weights[static_cast<size_t>(i)], table.get());
  }
  std::vector<size_t> order(static_cast<size_t>(points));
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return reference_nodes_[x] < reference_nodes_[y]; });
  std::vector<double> sorted_nodes, sorted_weights;
  for (size_t i : order) {
    sorted_nodes.push_back(reference_nodes_[i]);
    sorted_weights.push_back(ref_weights[i]);
  }
  reference_nodes_ = sorted_nodes;
  barycentric_weights_.assign(static_cast<size_t>(points), 1.0);
  for (size_t j = 0; j < reference_nodes_.size(); ++j)
    for (size_t k = 0; k < reference_nodes_.size(); ++k)
      if (k != j) barycentric_weights_[j] /= (reference_nodes_[j] - reference_nodes_[k]);

  for (int p = 0; p < panels; ++p) {
    const double lo = a + p * width_;
    for (size_t j = 0; j < reference_nodes_.size(); ++j) {
      nodes_.push_back(lo + 0.5 * width_ * (reference_nodes_[j] + 1.0));
      weights_.push_back(0.5 * width_ * sorted_weights[j]);
    }
  }
}

double PanelGrid::integrate(std::span<const double> values) const {
  if (values.size() != nodes_.size())
    throw std::invalid_argument("PanelGrid::integrate: " + std::to_string(values.size()) + " values for " +
                                std::to_string(nodes_.size()) + " nodes");
  double sum = 0.0;
  for (size_t i = 0; i < values.size(); ++i) sum += weights_[i] * values[i];
  return sum;
}

std::size_t PanelGrid::stencil(double x, std::span<double> c) const {
  const int panel = std::clamp(static_cast<int>(std::floor((x - a_) / width_)), 0, panels_ - 1);
  const double lo = a_ + panel * width_;
  const double xi = 2.0 * (x - lo) / width_ - 1.0;  // position on the reference panel [-1, 1]
  const size_t n = reference_nodes_.size();
  // Barycentric formula (second kind); an exact node hit returns the unit vector.
  double denom = 0.0;
  for (size_t j = 0; j < n; ++j) {
    const double diff = xi - reference_nodes_[j];
    if (diff == 0.0) {
      std::fill(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(n), 0.0);
      c[j] = 1.0;
      return static_cast<size_t>(panel) * n;
    }
    c[j] = barycentric_weights_[j] / diff;
    denom += c[j];
  }
  for (size_t j = 0; j < n; ++j) c[j] /= denom;
  return static_cast<size_t>(panel) * n;
}

PanelGrid::Stencil PanelGrid::stencil(double x) const {
  Stencil s;
  s.coefficients.resize(static_cast<size_t>(points_));
  s.first = stencil(x, s.coefficients);
  return s;
}

}  // namespace specbias::solver
