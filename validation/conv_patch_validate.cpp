#include "validation/conv_patch_validate.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fmt/format.h>

#include "models/conv_patch.hpp"
#include "models/fourier_spectrum.hpp"
#include "pipeline/conv_patch_run.hpp"
#include "pipeline/convolution_run.hpp"
#include "validation/conv_validate.hpp"
#include "validation/rows.hpp"

namespace specbias::validation {

namespace {

using clock_type = std::chrono::steady_clock;
std::pair<double, double> errors(const Eigen::MatrixXd& a, const Eigen::MatrixXd& ref) {
  return {(a - ref).cwiseAbs().maxCoeff(), ((a - ref).array().abs() / ref.array().abs()).maxCoeff()};
}

}  // namespace

Report run_conv_patch_validation(const config::Config& c) {
  const pipeline::ConvolutionSetup st = pipeline::build_convolution(c);
  const auto& shape = st.shape;
  const int N = shape.size();
  const models::PatchGeometry g = pipeline::patch_geometry(shape, c.model.kernel);
  const models::SamplingRange range{c.sampling.sigma_min, c.sampling.sigma_max};
  const double eta = c.training.eta;
  Report rep;

  // (8.9) vs the nested numeric path, through the pipeline itself (its T comes from s_k).
  config::Config cn = c;
  cn.run.method = "both";
  cn.run.quadrature = false;
  auto t0 = clock_type::now();
  const pipeline::ConvPatchResult run = pipeline::simulate_conv_patch(cn, shape, st.s, st.data_description);
  {
    const auto [abs_err, rel_err] = errors(run.variance_numeric, run.variance_closed_form);
    rep.rows.push_back(make_row("generated variance (8.9), nested numeric path",
                                fmt::format("closed form ({} tau x {} modes)", run.tau.size(), N), abs_err, rel_err,
                                c.validation.nested_rel, true, since(t0)));
  }
  Eigen::VectorXd w0 = Eigen::VectorXd::Zero(g.taps());
  w0(g.centre()) = c.model.Q.at(0);
  const models::PatchConvolution pc(run.T, g, w0, eta);
  // Adaptive quadrature (8.8) on up to kPatchQuadratureModes modes spread over k.
  t0 = clock_type::now();
  {
    const int step = std::max(1, N / kPatchQuadratureModes);
    solver::QuadratureOptions qo;
    qo.rel_tol = c.solver.quadrature_rtol;
    double abs_err = 0.0, rel_err = 0.0;
    int count = 0;
    for (int k = 0; k < N; k += step, ++count)
      for (std::size_t j = 0; j < run.tau.size(); ++j) {
        const double q = pc.generated_variance_quadrature(k, run.tau[j], range, qo);
        const double closed = run.variance_closed_form(static_cast<Eigen::Index>(j), k);
        abs_err = std::max(abs_err, std::abs(q - closed));
        rel_err = std::max(rel_err, std::abs(q - closed) / std::abs(q));
      }
    rep.rows.push_back(make_row("generated variance (8.9), adaptive quadrature (8.8)",
                                fmt::format("closed form ({} tau x {} modes)", run.tau.size(), count), abs_err, rel_err,
                                c.validation.quadrature_rel, true, since(t0)));
  }

  if (N <= kPixelRowsMaxN && st.covariance.size() > 0) {
    const Eigen::MatrixXd& S = st.covariance;
    t0 = clock_type::now();
    const Eigen::MatrixXd T_direct = models::patch_covariance(S, g);
    const double t_err = (T_direct - run.T).cwiseAbs().maxCoeff();
    rep.rows.push_back(make_row("patch covariance T (8.2) from s_k (7.6)", "T summed from the covariance", t_err,
                                t_err / T_direct.cwiseAbs().maxCoeff(), 1e-12, true, since(t0)));
    for (double sigma : c.analysis.weight_sigma) {
      // Explicit dopri5: keep τ·(largest rate 2Nη(ρ_max + σ²)) affordable.
      const double rate = 2.0 * N * eta * (pc.patch_variances().maxCoeff() + sigma * sigma);
      std::vector<double> taus;
      for (double t : c.training.tau)
        if (t * rate <= 3000.0) taus.push_back(t);
      if (taus.empty()) continue;
      const solver::OdeOptions opt{1e-12, 1e-14, 1e-6, static_cast<std::size_t>(c.solver.outer_max_steps),
                                   "solver.outer_max_steps", fmt::format("conv_patch filter flow at sigma = {}", sigma)};
      t0 = clock_type::now();
      const Eigen::MatrixXd patch = models::patch_filter_flow_numeric(T_direct, N, eta, sigma, w0, taus, opt);
      const double patch_seconds = since(t0);
      t0 = clock_type::now();
      const Eigen::MatrixXd pixel = models::pixel_filter_flow_numeric(S, g, eta, sigma, w0, taus, opt);
      const double pixel_seconds = since(t0);
      double err_patch = 0.0, err_pixel = 0.0, scale = 0.0;
      for (std::size_t j = 0; j < taus.size(); ++j) {
        const auto jj = static_cast<Eigen::Index>(j);
        const Eigen::VectorXd closed = pc.filter(sigma, taus[j]);
        scale = std::max(scale, closed.cwiseAbs().maxCoeff());
        err_patch = std::max(err_patch, (closed - patch.col(jj)).cwiseAbs().maxCoeff());
        err_pixel = std::max(err_pixel, (closed - pixel.col(jj)).cwiseAbs().maxCoeff());
      }
      const double tol = 10.0 * c.validation.weights_abs;  // thousands of explicit steps over many coupled taps
      rep.rows.push_back(make_row(fmt::format("filter (8.4) at sigma={:g}, patch-space flow", sigma),
                                  fmt::format("dopri5 on (8.3) ({} tau)", taus.size()), err_patch,
                                  err_patch / std::max(scale, 1e-300), tol, false, patch_seconds));
      rep.rows.push_back(make_row(fmt::format("filter (8.4) at sigma={:g}, pixel-space flow", sigma),
                                  fmt::format("dopri5 on the circulant gradient ({} tau)", taus.size()), err_pixel,
                                  err_pixel / std::max(scale, 1e-300), tol, false, pixel_seconds));
    }
    // (8.9) vs the PF transport of the circulant W_σ(τ) built from the closed-form filter.
    t0 = clock_type::now();
    std::vector<double> taus;
    const std::size_t n = c.training.tau.size(), m = std::min<std::size_t>(4, n);
    for (std::size_t i = 0; i < m; ++i) taus.push_back(c.training.tau[m == 1 ? 0 : i * (n - 1) / (m - 1)]);
    double abs_err = 0.0, rel_err = 0.0;
    for (double tau : taus) {
      const auto transport = models::pf_affine_transport(
          [&](double s, Eigen::MatrixXd& W, Eigen::VectorXd& b) {
            W = models::circulant_from_taps(pc.filter(std::exp(s), tau), g);
            b.setZero();
          },
          N, range,
          {1e-12, 1e-14, 1e-4, static_cast<std::size_t>(c.solver.inner_max_steps), "solver.inner_max_steps",
           fmt::format("validation PF transport of the patch filter, tau = {}", tau)});
      const Eigen::VectorXd pf = models::fourier_mode_variances(transport.covariance(range.sigma_max), shape);
      const Eigen::VectorXd closed = pc.generated_variance(tau, range);
      abs_err = std::max(abs_err, (pf - closed).cwiseAbs().maxCoeff());
      rel_err = std::max(rel_err, ((pf - closed).array().abs() / closed.array().abs()).maxCoeff());
    }
    rep.rows.push_back(make_row("generated variance, PF transport of circ(w)",
                                fmt::format("closed form (8.9) ({} tau)", taus.size()), abs_err, rel_err,
                                c.validation.pf_transition_rel, true, since(t0)));
  }
  for (const auto& r : rep.rows) rep.all_pass = rep.all_pass && r.pass;
  return rep;
}

}  // namespace specbias::validation
