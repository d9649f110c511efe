// Tests for train/layers and the MLP-UNet block (EMPIRICAL.md §1–§2): forward values against naive
// transcriptions of the formulas, initialisation ranges, and central finite-difference gradient checks in
// double precision of Linear, LayerNorm, SiLU and the block with and without the skip projection, with
// respect to parameters and inputs. Each check uses L = Σ R ⊙ Y with a fixed random R, so ∂L/∂Y = R.
#include "train/layers.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>

#include "support/finite_difference.hpp"
#include "support/tolerances.hpp"
#include "tests/train/train_test_helpers.hpp"
#include "train/mlp_unet.hpp"

namespace {

using namespace specbias;
using specbias::test::check_gradient;
using specbias::test::kFiniteDifferenceStep;
using specbias::test::kGradCheckRel;
using specbias::test::kRoundoff;
using specbias::test::random_matrix;
using train::Index;
using train::Mat;
using train::Vec;

double weighted_sum(const Mat<double>& R, const Mat<double>& Y) { return (R.array() * Y.array()).sum(); }

std::span<double> span_of(Mat<double>& m) { return {m.data(), static_cast<std::size_t>(m.size())}; }

}  // namespace

TEST_CASE("train linear: forward is W x + b with PyTorch's (out, in) weight", "[fast][train]") {
  train::ParameterStore<double> store(train::Linear<double>::parameter_count(3, 2));
  train::Linear<double> lin(store, "fc", 3, 2);
  // Store order is weight (column-major out×in) then bias: W = [[1, 2, 3], [4, 5, 6]], b = [0.5, -1].
  const double w[] = {1, 4, 2, 5, 3, 6, 0.5, -1};
  std::copy(std::begin(w), std::end(w), store.values().begin());
  Mat<double> X(3, 2);
  X << 1, 0, 1, 2, -1, 1;
  Mat<double> Y(2, 2);
  lin.forward(X, Y);
  // By hand: column 0: [1+2-3+0.5, 4+5-6-1] = [0.5, 2]; column 1: [0+4+3+0.5, 0+10+6-1] = [7.5, 15].
  REQUIRE(Y(0, 0) == 0.5);
  REQUIRE(Y(1, 0) == 2.0);
  REQUIRE(Y(0, 1) == 7.5);
  REQUIRE(Y(1, 1) == 15.0);
  REQUIRE(store.tensors()[0].shape == std::vector<std::size_t>{2, 3});
  REQUIRE(store.tensors()[1].name == "fc.bias");
}

TEST_CASE("train linear: init draws weights and biases from U(+-1/sqrt(fan_in)) deterministically", "[fast][train]") {
  const Index in = 64, out = 48;
  train::ParameterStore<double> a(train::Linear<double>::parameter_count(in, out));
  train::ParameterStore<double> b(train::Linear<double>::parameter_count(in, out));
  train::Linear<double> la(a, "l", in, out), lb(b, "l", in, out);
  train::Rng ra(11), rb(11);
  la.init(ra);
  lb.init(rb);
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  double sum_sq = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a.values()[i] == b.values()[i]);
    REQUIRE(std::abs(a.values()[i]) < bound);
    sum_sq += a.values()[i] * a.values()[i];
  }
  // Var of U(−k, k) is k²/3; 3120 draws give a relative standard error of about 2.5 %, so 10 % is safe.
  REQUIRE(sum_sq / static_cast<double>(a.size()) == Approx(bound * bound / 3.0).epsilon(0.1));
}

TEST_CASE("train linear: gradients w.r.t. weight, bias and input match central differences", "[fast][train]") {
  const Index in = 5, out = 4, batch = 3;
  train::ParameterStore<double> store(train::Linear<double>::parameter_count(in, out));
  train::Linear<double> lin(store, "l", in, out);
  test::randomise(store, 1);
  Mat<double> X = random_matrix(in, batch, 2);
  const Mat<double> R = random_matrix(out, batch, 3);
  Mat<double> Y(out, batch), gX(in, batch);
  auto loss = [&] {
    lin.forward(X, Y);
    return weighted_sum(R, Y);
  };
  lin.backward_params(X, R, store.grads().data());
  lin.backward_input(R, gX);
  const auto gp = check_gradient(store.values(), store.grads(), loss, kFiniteDifferenceStep);
  const auto gx = check_gradient(span_of(X), span_of(gX), loss, kFiniteDifferenceStep);
  CAPTURE(gp.rel_error(), gx.rel_error());
  REQUIRE(gp.rel_error() < kGradCheckRel);
  REQUIRE(gx.rel_error() < kGradCheckRel);
}

TEST_CASE("train layer norm: forward matches the naive formula and init is gamma=1, beta=0", "[fast][train]") {
  const Index n = 7, batch = 4;
  train::ParameterStore<double> store(train::LayerNorm<double>::parameter_count(n));
  train::LayerNorm<double> ln(store, "ln", n);
  ln.init();
  const Mat<double> X = random_matrix(n, batch, 5, 3.0);
  train::LayerNorm<double>::Context ctx;
  Mat<double> Y(n, batch);
  ln.forward(X, ctx, Y);
  for (Index j = 0; j < batch; ++j) {
    REQUIRE(std::abs(Y.col(j).mean()) < kRoundoff);
    // Biased variance 1 up to the eps inside the square root: var/(var + 1e-5).
    const double var = (X.col(j).array() - X.col(j).mean()).square().mean();
    REQUIRE(Y.col(j).array().square().mean() == Approx(var / (var + 1e-5)).epsilon(kRoundoff));
  }
  test::randomise(store, 6);
  ln.forward(X, ctx, Y);
  const Mat<double> ref = test::naive_layer_norm(X, test::tensor(store, "ln.weight"), test::tensor(store, "ln.bias"));
  REQUIRE((Y - ref).cwiseAbs().maxCoeff() < kRoundoff);
}

TEST_CASE("train layer norm: gradients w.r.t. gamma, beta and input match central differences", "[fast][train]") {
  const Index n = 6, batch = 3;
  train::ParameterStore<double> store(train::LayerNorm<double>::parameter_count(n));
  train::LayerNorm<double> ln(store, "ln", n);
  test::randomise(store, 7, 1.0);
  Mat<double> X = random_matrix(n, batch, 8);
  const Mat<double> R = random_matrix(n, batch, 9);
  train::LayerNorm<double>::Context ctx;
  Mat<double> Y(n, batch), gX(n, batch);
  auto loss = [&] {
    ln.forward(X, ctx, Y);
    return weighted_sum(R, Y);
  };
  loss();
  ln.backward(ctx, R, gX, store.grads().data());
  const auto gp = check_gradient(store.values(), store.grads(), loss, kFiniteDifferenceStep);
  const auto gx = check_gradient(span_of(X), span_of(gX), loss, kFiniteDifferenceStep);
  CAPTURE(gp.rel_error(), gx.rel_error());
  REQUIRE(gp.rel_error() < kGradCheckRel);
  REQUIRE(gx.rel_error() < kGradCheckRel);
}

TEST_CASE("train silu: values and gradient match x*sigmoid(x) and central differences", "[fast][train]") {
  Mat<double> X(1, 5);
  X << -30.0, -1.0, 0.0, 0.5, 4.0;
  train::SiLU<double>::Context ctx;
  train::SiLU<double>::forward(X, ctx);
  for (Index j = 0; j < X.cols(); ++j) REQUIRE(ctx.y(0, j) == Approx(X(0, j) / (1.0 + std::exp(-X(0, j)))).epsilon(kRoundoff));
  REQUIRE(ctx.y(0, 2) == 0.0);

  Mat<double> Z = random_matrix(4, 3, 10, 2.0);
  const Mat<double> R = random_matrix(4, 3, 11);
  Mat<double> gZ(4, 3);
  auto loss = [&] {
    train::SiLU<double>::forward(Z, ctx);
    return weighted_sum(R, ctx.y);
  };
  loss();
  train::SiLU<double>::backward(ctx, R, gZ);
  const auto g = check_gradient(span_of(Z), span_of(gZ), loss, kFiniteDifferenceStep);
  CAPTURE(g.rel_error());
  REQUIRE(g.rel_error() < kGradCheckRel);
}

TEST_CASE("train fourier embedding: sine half first, phase 2*pi*f*c_noise, frozen N(0,1) frequencies", "[fast][train]") {
  train::FourierEmbedding<double> emb(6);
  Vec<double> f(3);
  f << 0.5, -1.25, 2.0;
  emb.set_freqs(f);
  Vec<double> c(2);
  c << 0.3, -0.7;
  Mat<double> e(6, 2);
  emb.forward(c, e);
  for (Index b = 0; b < 2; ++b)
    for (Index j = 0; j < 3; ++j) {
      const double phase = 2.0 * std::numbers::pi * f(j) * c(b);
      REQUIRE(e(j, b) == Approx(std::sin(phase)).margin(kRoundoff));
      REQUIRE(e(3 + j, b) == Approx(std::cos(phase)).margin(kRoundoff));
    }
  train::FourierEmbedding<double> a(512), b2(512);
  train::Rng ra(3), rb(3);
  a.init(ra);
  b2.init(rb);
  REQUIRE(a.freqs() == b2.freqs());
  // 256 standard normals: the sample mean has standard error 1/16, so |mean| < 0.25 is a 4-sigma bound.
  REQUIRE(std::abs(a.freqs().mean()) < 0.25);
}

namespace {

// Gradient check of one block(in → out) w.r.t. all its parameters and its input.
void check_block(Index in, Index out) {
  const Index E = 4, batch = 3;
  train::ParameterStore<double> store(train::MlpUNetBlock<double>::parameter_count(in, out, E));
  train::MlpUNetBlock<double> block(store, "blk", in, out, E);
  REQUIRE(store.used() == store.size());
  test::randomise(store, 20 + static_cast<std::uint64_t>(in));
  Mat<double> x = random_matrix(in, batch, 21);
  const Mat<double> e = random_matrix(E, batch, 22);
  const Mat<double> R = random_matrix(out, batch, 23);
  train::MlpUNetBlock<double>::Context ctx;
  train::MlpUNetBlock<double>::Workspace ws;
  Mat<double> y(out, batch), gx;

  block.forward(x, e, ctx, y);
  // The fused forward agrees with the naive transcription of EMPIRICAL.md §2.
  REQUIRE((y - test::naive_block(store, "blk", x, e)).cwiseAbs().maxCoeff() < 1e-12 * (1.0 + y.cwiseAbs().maxCoeff()));

  auto loss = [&] {
    block.forward(x, e, ctx, y);
    return weighted_sum(R, y);
  };
  block.backward(x, e, ctx, R, ws, &gx, store.grads().data());
  const auto gp = check_gradient(store.values(), store.grads(), loss, kFiniteDifferenceStep);
  const auto gi = check_gradient(span_of(x), span_of(gx), loss, kFiniteDifferenceStep);
  CAPTURE(in, out, gp.rel_error(), gi.rel_error());
  REQUIRE(gp.rel_error() < kGradCheckRel);
  REQUIRE(gi.rel_error() < kGradCheckRel);

  // Without ∂L/∂x the parameter gradients are the same.
  std::vector<double> with(store.grads().begin(), store.grads().end());
  loss();
  block.backward(x, e, ctx, R, ws, nullptr, store.grads().data());
  REQUIRE(std::equal(with.begin(), with.end(), store.grads().begin()));
}

}  // namespace

TEST_CASE("train block with skip projection (in != out): forward and gradients", "[fast][train]") { check_block(5, 7); }

TEST_CASE("train block with identity skip (in == out): forward and gradients", "[fast][train]") { check_block(6, 6); }
