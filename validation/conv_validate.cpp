#include "validation/conv_validate.hpp"
#include "validation/rows.hpp"

#include <chrono>
#include <cmath>
#include <complex>
#include <fmt/format.h>

#include "models/circulant_convolution.hpp"
#include "models/nested_paths.hpp"
#include "pipeline/convolution_run.hpp"
#include "pipeline/problem_builder.hpp"

namespace specbias::validation {

namespace {

namespace conv = models::conv;
using clock_type = std::chrono::steady_clock;
// Up to 4 τ spread over the list (first, last and two between), for the costly PF transports.
std::vector<double> spread(const std::vector<double>& tau) {
  std::vector<double> out;
  const std::size_t n = tau.size(), m = std::min<std::size_t>(4, n);
  for (std::size_t i = 0; i < m; ++i) out.push_back(tau[m == 1 ? 0 : i * (n - 1) / (m - 1)]);
  return out;
}

}  // namespace

Report run_conv_validation(const config::Config& c) {
  const pipeline::ConvolutionSetup st = pipeline::build_convolution(c);
  Report rep;
  // The per-Fourier-mode problem: exactly the rows `validate` gives a one-/two-layer config.
  for (Row r : run_validation(pipeline::fourier_mode_config(c, st)).rows) {
    r.check = "Fourier modes: " + r.check;
    rep.rows.push_back(r);
  }
  const auto& shape = st.shape;
  const int N = shape.size();
  const bool two = st.gamma2_0.size() > 0;
  if (N <= kPixelRowsMaxN && st.covariance.size() > 0) {
    const Eigen::MatrixXd& S = st.covariance;
    const double eta = c.training.eta;
    const models::SamplingRange range{c.sampling.sigma_min, c.sampling.sigma_max};
    // Delta starts (build_convolution): w(0) = Q e₀ or a e₀, b e₀.
    Eigen::VectorXd w1 = Eigen::VectorXd::Zero(N), w2 = Eigen::VectorXd::Zero(N);
    w1[0] = st.gamma0[0].real();
    if (two) w2[0] = st.gamma2_0[0].real();
    const double qmax = std::max({1.0, std::abs(w1[0]), std::abs(w2[0])});
    for (double sigma : c.analysis.weight_sigma) {
      // Explicit dopri5: keep τ·(largest rate 2Nη(s_max + σ²)) within a few thousand steps' worth.
      const double rate = 2.0 * N * eta * (st.s.maxCoeff() + sigma * sigma) * qmax * qmax;
      std::vector<double> taus;
      for (double t : c.training.tau)
        if (t * rate <= 3000.0) taus.push_back(t);
      if (taus.empty()) continue;
      const solver::OdeOptions opt{1e-12, 1e-14, 1e-6, static_cast<std::size_t>(c.solver.outer_max_steps),
                                   "solver.outer_max_steps", fmt::format("pixel-space filter flow at sigma = {}", sigma)};
      const auto t0 = clock_type::now();
      double err = 0.0, scale = 0.0;
      if (!two) {
        const Eigen::MatrixXd numeric =
            conv::filter_flow_numeric(S, shape, sigma, eta, w1, taus, conv::Coordinates::filter_entries, opt);
        for (std::size_t j = 0; j < taus.size(); ++j) {
          const Eigen::VectorXd closed =
              conv::filter_closed_form(st.s, shape, sigma, eta, taus[j], w1, conv::Coordinates::filter_entries);
          err = std::max(err, (closed - numeric.col(static_cast<Eigen::Index>(j))).cwiseAbs().maxCoeff());
          scale = std::max(scale, closed.cwiseAbs().maxCoeff());
        }
      } else {
        const auto numeric = conv::filter_pair_flow_numeric(S, shape, sigma, eta, {w1, w2}, taus, opt);
        for (std::size_t j = 0; j < taus.size(); ++j) {
          const auto [a, b] = conv::two_layer_multipliers(st.s, shape, sigma, eta, taus[j], st.gamma0.real(),
                                                          st.gamma2_0.real());
          const Eigen::VectorXcd g1 = models::filter_multipliers(numeric[j].w1, shape);
          const Eigen::VectorXcd g2 = models::filter_multipliers(numeric[j].w2, shape);
          err = std::max({err, (g1 - a.cast<std::complex<double>>()).cwiseAbs().maxCoeff(),
                          (g2 - b.cast<std::complex<double>>()).cwiseAbs().maxCoeff()});
          scale = std::max({scale, a.cwiseAbs().maxCoeff(), b.cwiseAbs().maxCoeff()});
        }
      }
      // Many coupled entries and thousands of steps: one decade above the per-mode weight tolerance (as for the
      // full-matrix chain rows of the dense kinds).
      rep.rows.push_back(make_row(fmt::format("pixel-space filter flow at sigma={:g}", sigma),
                                  fmt::format("{} ({} tau)", two ? "per-mode (7.9)/(6.4)" : "closed form (7.4)", taus.size()),
                                  err, err / std::max(scale, 1e-300), 10.0 * c.validation.weights_abs, false, since(t0)));
    }
    // Generated variances vs the PF transport of the circulant W_σ(τ) (closed-form filters, any τ).
    const auto t0 = clock_type::now();
    const std::vector<double> taus = spread(c.training.tau);
    const auto fp = conv::fourier_mode_problem(st.s, shape, eta, range, st.gamma0, st.gamma2_0);
    const Eigen::MatrixXd reference = two ? models::quadrature_trajectory(fp, taus).variance
                                          : conv::generated_variance_grid(st.s, st.gamma0.real(), shape, eta, taus, range);
    double err = 0.0, rel = 0.0;
    for (std::size_t j = 0; j < taus.size(); ++j) {
      const auto transport = models::pf_affine_transport(
          [&](double s, Eigen::MatrixXd& W, Eigen::VectorXd& b) {
            const double sigma = std::exp(s);
            Eigen::VectorXcd gamma;
            if (two) {
              const auto [a, bb] = conv::two_layer_multipliers(st.s, shape, sigma, eta, taus[j], st.gamma0.real(),
                                                               st.gamma2_0.real());
              gamma = a.cwiseProduct(bb).cast<std::complex<double>>();
            } else {
              gamma = conv::multipliers_closed_form(st.s, shape, sigma, eta, taus[j], st.gamma0,
                                                    conv::Coordinates::filter_entries);
            }
            W = models::circulant_from_first_row(models::filter_from_multipliers(gamma, shape), shape);
            b.setZero();
          },
          N, range,
          {1e-12, 1e-14, 1e-4, static_cast<std::size_t>(c.solver.inner_max_steps), "solver.inner_max_steps",
           fmt::format("validation PF transport of the circulant filter, tau = {}", taus[j])});
      const Eigen::VectorXd pf = models::fourier_mode_variances(transport.covariance(range.sigma_max), shape);
      const Eigen::VectorXd ref = reference.row(static_cast<Eigen::Index>(j)).transpose();
      err = std::max(err, (pf - ref).cwiseAbs().maxCoeff());
      rel = std::max(rel, ((pf - ref).array().abs() / ref.array().abs()).maxCoeff());
    }
    rep.rows.push_back(make_row("generated variance, PF transport of circ(w)",
                                fmt::format("{} ({} tau)", two ? "quadrature (7.9)" : "closed form (7.7)", taus.size()),
                                err, rel, c.validation.pf_transition_rel, true, since(t0)));
  }
  for (const auto& r : rep.rows) rep.all_pass = rep.all_pass && r.pass;
  return rep;
}

}  // namespace specbias::validation
