// Tests for train/edm (EMPIRICAL.md §1): preconditioning constants and their identities, D → x as σ → 0,
// loss value against a direct evaluation from denoise(), the mean/sum reductions, the noise draw, and the
// gradient of the full loss w.r.t. every network parameter and the clean input by central differences.
#include "train/edm.hpp"

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "common/errors.hpp"
#include "support/finite_difference.hpp"
#include "support/tolerances.hpp"
#include "tests/train/train_test_helpers.hpp"

namespace {

using namespace specbias;
using specbias::test::check_gradient;
using specbias::test::kFiniteDifferenceStep;
using specbias::test::kGradCheckRel;
using specbias::test::kRoundoff;
using specbias::test::random_matrix;
using train::Edm;
using train::EdmConfig;
using train::Index;
using train::Mat;
using train::MlpUNet;
using train::Vec;

train::MlpUNetConfig small() {
  train::MlpUNetConfig c;
  c.dim = 4;
  c.nlayers = 3;
  c.hidden = 6;
  c.embedding = 4;
  return c;
}

}  // namespace

TEST_CASE("train edm: preconditioning constants satisfy their defining identities", "[fast][train]") {
  EdmConfig cfg;
  for (double sigma : {0.002, 0.1, 0.5, 1.0, 3.7, 80.0}) {
    const auto c = train::edm_coefficients(sigma, cfg);
    const double sd = cfg.sigma_data;
    CAPTURE(sigma);
    REQUIRE(c.c_skip == Approx(sd * sd * c.c_in * c.c_in).epsilon(kRoundoff));
    REQUIRE(c.c_out == Approx(sigma * sd * c.c_in).epsilon(kRoundoff));
    REQUIRE(c.c_skip + (c.c_out / sd) * (c.c_out / sd) == Approx(1.0).epsilon(kRoundoff));
    REQUIRE(c.weight * c.c_out * c.c_out == Approx(1.0).epsilon(kRoundoff));
    REQUIRE(c.c_noise == Approx(std::log(sigma) / 4.0).epsilon(kRoundoff));
  }
  // σ = σ_d: c_skip = 1/2, c_in = 1/(σ_d √2).
  const auto mid = train::edm_coefficients(0.5, cfg);
  REQUIRE(mid.c_skip == Approx(0.5).epsilon(kRoundoff));
  REQUIRE(mid.c_in == Approx(1.0 / (0.5 * std::sqrt(2.0))).epsilon(kRoundoff));
  // σ = 0 is replaced by σ_min; negative or NaN σ is an error.
  const auto zero = train::edm_coefficients(0.0, cfg);
  REQUIRE(zero.sigma == cfg.sigma_min);
  REQUIRE(zero.c_noise == Approx(std::log(cfg.sigma_min) / 4.0).epsilon(kRoundoff));
  REQUIRE_THROWS_AS(train::edm_coefficients(-1.0, cfg), NumericalError);
  REQUIRE_THROWS_AS(train::edm_coefficients(std::nan(""), cfg), NumericalError);
  EdmConfig bad;
  bad.sigma_data = 0.0;
  REQUIRE_THROWS_WITH(Edm<double>(bad), Catch::Contains("edm.sigma_data"));
}

TEST_CASE("train edm: D(x, sigma) tends to x as sigma -> 0 and equals c_skip x + c_out F(c_in x, c_noise)", "[fast][train]") {
  MlpUNet<double> net(small(), 1);
  Edm<double> edm;
  train::EdmContext<double> ctx;
  const Mat<double> x = random_matrix(4, 3, 2);
  Vec<double> tiny = Vec<double>::Constant(3, 1e-9);
  Mat<double> D(4, 3);
  edm.denoise(net, x, tiny, ctx, D);
  // |D − x| = |(c_skip − 1) x + c_out F| ≤ σ²/σ_d² |x| + σ |F| with F = O(1).
  REQUIRE((D - x).cwiseAbs().maxCoeff() < 1e-8);
  // D = c_skip x + c_out F(c_in x, c_noise) against the network called by hand.
  Vec<double> sig(3);
  sig << 0.3, 2.0, 0.0;
  Mat<double> D2(4, 3);
  edm.denoise(net, x, sig, ctx, D2);
  auto nctx = net.make_context(3);
  for (Index j = 0; j < 3; ++j) {
    const auto c = train::edm_coefficients(sig(j), edm.config());
    Vec<double> cn(1);
    cn << c.c_noise;
    const Mat<double> F = net.forward(c.c_in * x.col(j), cn, nctx);
    REQUIRE((D2.col(j) - (c.c_skip * x.col(j) + c.c_out * F)).cwiseAbs().maxCoeff() < kRoundoff);
  }
}

TEST_CASE("train edm: loss equals the weighted squared error of denoise() and sum = d x mean", "[fast][train]") {
  MlpUNet<double> net(small(), 3);
  const Index batch = 5;
  const Mat<double> x = random_matrix(4, batch, 4);
  Vec<double> sigma(batch);
  sigma << 0.01, 0.2, 0.5, 1.5, 20.0;
  const Mat<double> eps = random_matrix(4, batch, 5);
  Edm<double> edm;
  train::EdmContext<double> ctx;
  const double mean_loss = edm.loss(net, x, sigma, eps, ctx);

  const Mat<double> noisy = x + eps * sigma.asDiagonal();
  Mat<double> D(4, batch);
  edm.denoise(net, noisy, sigma, ctx, D);
  double direct = 0.0;
  for (Index j = 0; j < batch; ++j) {
    const double s = sigma(j), sd = 0.5;
    const double w = (s * s + sd * sd) / ((s * sd) * (s * sd));
    direct += w * (D.col(j) - x.col(j)).squaredNorm();
  }
  REQUIRE(mean_loss == Approx(direct / (4.0 * batch)).epsilon(kRoundoff));

  EdmConfig sum_cfg;
  sum_cfg.reduction = train::LossReduction::sum;
  Edm<double> edm_sum(sum_cfg);
  REQUIRE(edm_sum.loss(net, x, sigma, eps, ctx) == Approx(4.0 * mean_loss).epsilon(kRoundoff));
}

TEST_CASE("train edm: loss gradients w.r.t. all parameters and the clean input match central differences", "[fast][train]") {
  for (const auto reduction : {train::LossReduction::mean, train::LossReduction::sum}) {
    MlpUNet<double> net(small(), 6);
    test::randomise(net.parameters(), 7);
    const Index batch = 4;
    Mat<double> x = random_matrix(4, batch, 8);
    Vec<double> sigma(batch);
    sigma << 0.05, 0.4, 1.0, 6.0;
    const Mat<double> eps = random_matrix(4, batch, 9);
    EdmConfig cfg;
    cfg.reduction = reduction;
    Edm<double> edm(cfg);
    train::EdmContext<double> ctx;
    Mat<double> gx;
    const double value = edm.loss_and_grad(net, x, sigma, eps, ctx, &gx);
    REQUIRE(value == edm.loss(net, x, sigma, eps, ctx));
    auto loss = [&] { return edm.loss(net, x, sigma, eps, ctx); };
    const auto gp = check_gradient(net.parameters().values(), net.parameters().grads(), loss, kFiniteDifferenceStep);
    const auto gi = check_gradient(std::span<double>(x.data(), static_cast<std::size_t>(x.size())),
                                   std::span<const double>(gx.data(), static_cast<std::size_t>(gx.size())), loss,
                                   kFiniteDifferenceStep);
    CAPTURE(static_cast<int>(reduction), gp.rel_error(), gi.rel_error());
    REQUIRE(gp.rel_error() < kGradCheckRel);
    REQUIRE(gi.rel_error() < kGradCheckRel);
  }
}

TEST_CASE("train edm: noise draw is seeded and ln sigma has mean P_mean and std P_std", "[fast][train]") {
  Edm<double> edm;
  train::Rng a(5), b(5);
  Vec<double> sa, sb;
  Mat<double> ea, eb;
  const Index batch = 20000;
  edm.draw_noise(a, 3, batch, sa, ea);
  edm.draw_noise(b, 3, batch, sb, eb);
  REQUIRE(sa == sb);
  REQUIRE(ea == eb);
  const Vec<double> ls = sa.array().log();
  const double mean = ls.mean();
  const double sd = std::sqrt((ls.array() - mean).square().sum() / (batch - 1));
  // Standard errors with n = 20000: 1.2/√n ≈ 0.0085 for the mean, ≈ 0.006 for the std; 5-sigma bounds.
  REQUIRE(std::abs(mean - (-1.2)) < 0.045);
  REQUIRE(std::abs(sd - 1.2) < 0.03);
  REQUIRE(std::abs(ea.mean()) < 5.0 / std::sqrt(3.0 * batch));
}

TEST_CASE("train edm: batch shards give the loss and gradients of one pass, independent of the thread count", "[fast][train]") {
  train::MlpUNetConfig c = small();
  c.hidden = 16;
  MlpUNet<double> net(c, 11);
  const Index batch = 37;  // uneven shard sizes
  const Mat<double> x = random_matrix(4, batch, 12);
  const Mat<double> eps = random_matrix(4, batch, 13);
  const Vec<double> sigma = test::random_vector(batch, 14).array().exp();
  Edm<double> one;
  train::EdmContext<double> ctx1;
  Mat<double> gx1;
  const double l1 = one.loss_and_grad(net, x, sigma, eps, ctx1, &gx1);
  const std::vector<double> g1(net.parameters().grads().begin(), net.parameters().grads().end());
  Mat<double> D1(4, batch);
  one.denoise(net, x, sigma, ctx1, D1);

  for (const int shards : {2, 3, 50}) {  // 50 > batch: one sample per shard
    Edm<double> sharded(EdmConfig{}, shards);
    train::EdmContext<double> ctx;
    Mat<double> gx;
    const double l = sharded.loss_and_grad(net, x, sigma, eps, ctx, &gx);
    CAPTURE(shards);
    REQUIRE(l == Approx(l1).epsilon(kRoundoff));
    double gmax = 0.0, gdiff = 0.0;
    for (std::size_t i = 0; i < g1.size(); ++i) {
      gmax = std::max(gmax, std::abs(g1[i]));
      gdiff = std::max(gdiff, std::abs(g1[i] - net.parameters().grads()[i]));
    }
    REQUIRE(gdiff < kRoundoff * gmax);
    REQUIRE((gx - gx1).cwiseAbs().maxCoeff() < kRoundoff * gx1.cwiseAbs().maxCoeff());
    Mat<double> D(4, batch);
    sharded.denoise(net, x, sigma, ctx, D);
    REQUIRE((D - D1).cwiseAbs().maxCoeff() < kRoundoff);
  }

#ifdef _OPENMP
  // A fixed shard count gives bit-identical results with 1 or 2 threads.
  Edm<float> sharded(EdmConfig{}, 2);
  MlpUNet<float> netf(c, 11);
  const Mat<float> xf = x.cast<float>(), ef = eps.cast<float>();
  const Vec<float> sf = sigma.cast<float>();
  auto run = [&](int threads) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    train::EdmContext<float> ctx;
    const double l = sharded.loss_and_grad(netf, xf, sf, ef, ctx);
    omp_set_num_threads(saved);
    return std::make_pair(l, std::vector<float>(netf.parameters().grads().begin(), netf.parameters().grads().end()));
  };
  const auto a = run(1), b = run(2);
  REQUIRE(a.first == b.first);
  REQUIRE(a.second == b.second);
#endif
}
