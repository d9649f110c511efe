#include "solver/diag_rank_one.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/errors.hpp"

namespace specbias::solver {

namespace {

// Root of the secular equation as an offset from its origin pole: λ = a[origin] + mu.
struct SecularRoot {
  Eigen::Index origin;
  double mu;
};

// g(μ) = 1 + Σ_j z_j²/(δ_j − μ) and g'(μ), with δ_j = a_j − a[origin] (computed once per root).
void secular(const Eigen::ArrayXd& delta, const Eigen::ArrayXd& z2, double mu, double& g, double& dg) {
  const Eigen::ArrayXd inv = 1.0 / (delta - mu);
  g = 1.0 + (z2 * inv).sum();
  dg = (z2 * inv.square()).sum();
}

// Safeguarded Newton in the bracket (lo, hi), on which g increases from < 0 to ≥ 0. Newton steps that leave the
// bracket, or two steps that fail to halve it, are replaced by bisection, so convergence is guaranteed.
double solve_bracketed(const Eigen::ArrayXd& delta, const Eigen::ArrayXd& z2, double lo, double hi, long& iterations) {
  constexpr double eps = std::numeric_limits<double>::epsilon();
  double mu = 0.5 * (lo + hi);
  double width_before = hi - lo, width_two_ago = 2 * width_before;
  bool bisect = false;
  for (int it = 0; it < 400; ++it) {
    ++iterations;
    double g = 0, dg = 0;
    secular(delta, z2, mu, g, dg);
    if (g == 0.0) return mu;
    if (g < 0) lo = mu; else hi = mu;
    const double width = hi - lo;
    if (width <= 2 * eps * std::max(std::abs(lo), std::abs(hi))) return 0.5 * (lo + hi);
    bisect = bisect || width > 0.5 * width_two_ago;
    width_two_ago = width_before;
    width_before = width;
    double next = mu - g / dg;
    if (bisect || !(next > lo && next < hi)) {
      next = 0.5 * (lo + hi);
      bisect = false;
    }
    if (std::abs(next - mu) <= eps * std::abs(next)) return next;
    mu = next;
  }
  throw NumericalError("diag_plus_rank_one_eigen: secular equation root did not converge in 400 iterations "
                       "(bracket [" + std::to_string(lo) + ", " + std::to_string(hi) + "])");
}

struct Rotation {
  Eigen::Index p, j;
  double a, b;  // q_p = b e_p − a e_j,  q_j = a e_p + b e_j
};

}  // namespace

DiagRankOneEigen diag_plus_rank_one_eigen(const Eigen::VectorXd& a_in, const Eigen::VectorXd& z_in) {
  const Eigen::Index n = a_in.size();
  if (z_in.size() != n) throw std::invalid_argument("diag_plus_rank_one_eigen: a and z differ in length");
  if (!a_in.allFinite() || !z_in.allFinite()) throw std::invalid_argument("diag_plus_rank_one_eigen: non-finite input");
  DiagRankOneEigen out;
  out.values.resize(n);
  out.vectors.setZero(n, n);
  if (n == 0) return out;

  std::vector<Eigen::Index> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), 0);
  std::stable_sort(perm.begin(), perm.end(), [&](Eigen::Index x, Eigen::Index y) { return a_in(x) < a_in(y); });
  Eigen::VectorXd a(n), z(n);
  for (Eigen::Index p = 0; p < n; ++p) {
    a(p) = a_in(perm[static_cast<size_t>(p)]);
    z(p) = z_in(perm[static_cast<size_t>(p)]);
  }
  const double znorm2 = z.squaredNorm(), znorm = std::sqrt(znorm2);
  const double tol = 8 * std::numeric_limits<double>::epsilon() * std::max(a.cwiseAbs().maxCoeff(), znorm2);

  // Deflation (dlaed2): negligible z_j, or a neighbour pair with equal a (the dropped coupling is below tol).
  std::vector<Eigen::Index> active;
  std::vector<Rotation> rotations;
  Eigen::VectorXd value_in_slot = a;  // deflated eigenvalue per slot (or updated pole for active slots)
  std::vector<bool> is_active(static_cast<size_t>(n), false);
  Eigen::Index prev = -1;
  for (Eigen::Index j = 0; j < n; ++j) {
    if (std::abs(z(j)) * znorm <= tol) continue;  // deflated: (a_j, e_j)
    if (prev >= 0) {
      const double r = std::hypot(z(prev), z(j));
      const double s = z(prev) / r, c = z(j) / r;
      if (std::abs(s * c * (value_in_slot(j) - value_in_slot(prev))) <= tol) {
        const double ap = value_in_slot(prev), aj = value_in_slot(j);
        value_in_slot(prev) = c * c * ap + s * s * aj;  // deflated eigenvalue of q_prev
        value_in_slot(j) = s * s * ap + c * c * aj;     // the pole that stays active (between ap and aj: order kept)
        z(prev) = 0.0;
        z(j) = r;
        rotations.push_back({prev, j, s, c});
        prev = j;
        continue;
      }
      is_active[static_cast<size_t>(prev)] = true;
      active.push_back(prev);
    }
    prev = j;
  }
  if (prev >= 0) {
    is_active[static_cast<size_t>(prev)] = true;
    active.push_back(prev);
  }

  // Secular roots of the active part.
  const auto k = static_cast<Eigen::Index>(active.size());
  Eigen::ArrayXd d(k), z2(k);
  for (Eigen::Index i = 0; i < k; ++i) {
    d(i) = value_in_slot(active[static_cast<size_t>(i)]);
    z2(i) = z(active[static_cast<size_t>(i)]) * z(active[static_cast<size_t>(i)]);
  }
  const double rho = z2.sum();
  std::vector<SecularRoot> roots(static_cast<size_t>(k));
  Eigen::ArrayXd delta(k);
  for (Eigen::Index i = 0; i < k; ++i) {
    SecularRoot root{i, 0.0};
    double lo = 0.0, hi = rho;
    if (i + 1 < k) {
      const double gap = d(i + 1) - d(i);
      delta = d - d(i);
      double g = 0, dg = 0;
      secular(delta, z2, 0.5 * gap, g, dg);
      if (g >= 0) {
        hi = 0.5 * gap;
      } else {
        root.origin = i + 1;
        lo = -0.5 * gap;
        hi = 0.0;
      }
    }
    delta = d - d(root.origin);
    root.mu = solve_bracketed(delta, z2, lo, hi, out.secular_iterations);
    roots[static_cast<size_t>(i)] = root;
  }
  // λ_i − d_j, accurate through the origin of root i.
  auto gap_to_pole = [&](Eigen::Index i, Eigen::Index j) {
    const SecularRoot& r = roots[static_cast<size_t>(i)];
    return r.mu - (d(j) - d(r.origin));
  };
  // Gu–Eisenstat: ẑ_j² = Π_i (λ_i − d_j) / Π_{i≠j} (d_i − d_j), sign of z_j.
  Eigen::VectorXd zhat(k);
  for (Eigen::Index j = 0; j < k; ++j) {
    double prod = gap_to_pole(j, j);
    for (Eigen::Index i = 0; i < k; ++i)
      if (i != j) prod *= gap_to_pole(i, j) / (d(i) - d(j));
    zhat(j) = std::copysign(std::sqrt(std::abs(prod)), z(active[static_cast<size_t>(j)]));
  }

  // Eigenvectors in the rotated, sorted coordinates: deflated slots are unit vectors.
  Eigen::MatrixXd Y = Eigen::MatrixXd::Zero(n, n);
  Eigen::VectorXd values(n);
  Eigen::Index col = 0;
  for (Eigen::Index j = 0; j < n; ++j)
    if (!is_active[static_cast<size_t>(j)]) {
      Y(j, col) = 1.0;
      values(col++) = value_in_slot(j);
      ++out.deflated;
    }
  Eigen::VectorXd v(k);
  for (Eigen::Index i = 0; i < k; ++i) {
    for (Eigen::Index j = 0; j < k; ++j) v(j) = zhat(j) / -gap_to_pole(i, j);
    v.normalize();
    for (Eigen::Index j = 0; j < k; ++j) Y(active[static_cast<size_t>(j)], col) = v(j);
    const SecularRoot& r = roots[static_cast<size_t>(i)];
    values(col++) = d(r.origin) + r.mu;
  }
  // Undo the deflation rotations (last first), then the sort.
  for (auto it = rotations.rbegin(); it != rotations.rend(); ++it) {
    const Eigen::RowVectorXd yp = Y.row(it->p), yj = Y.row(it->j);
    Y.row(it->p) = it->b * yp + it->a * yj;
    Y.row(it->j) = -it->a * yp + it->b * yj;
  }
  std::vector<Eigen::Index> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](Eigen::Index x, Eigen::Index y) { return values(x) < values(y); });
  for (Eigen::Index c = 0; c < n; ++c) {
    const Eigen::Index src = order[static_cast<size_t>(c)];
    out.values(c) = values(src);
    for (Eigen::Index p = 0; p < n; ++p) out.vectors(perm[static_cast<size_t>(p)], c) = Y(p, src);
  }
  return out;
}

}  // namespace specbias::solver
