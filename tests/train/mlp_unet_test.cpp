// Tests for train/mlp_unet (EMPIRICAL.md §2): trainable parameter counts of the paper's table, the layout of a
// built network against a hand count, whole-network gradient checks (parameters and input), determinism from
// a seed, float vs double forward, context reuse and config validation.
#include "train/mlp_unet.hpp"

#include <catch2/catch.hpp>
#include <cstring>

#include "common/errors.hpp"
#include "support/finite_difference.hpp"
#include "support/tolerances.hpp"
#include "tests/train/train_test_helpers.hpp"

namespace {

using namespace specbias;
using specbias::test::check_gradient;
using specbias::test::kFiniteDifferenceStep;
using specbias::test::kFloatVsDoubleRel;
using specbias::test::kGradCheckRel;
using specbias::test::random_matrix;
using specbias::test::random_vector;
using train::Index;
using train::Mat;
using train::MlpUNet;
using train::MlpUNetConfig;
using train::Vec;

MlpUNetConfig cfg(Index d, Index L, Index H, Index E) {
  MlpUNetConfig c;
  c.dim = d;
  c.nlayers = L;
  c.hidden = H;
  c.embedding = E;
  return c;
}

}  // namespace

TEST_CASE("train mlp-unet: parameter counts reproduce EMPIRICAL.md section 2 table", "[fast][train]") {
  REQUIRE(train::mlp_unet_parameter_count(cfg(128, 5, 256, 256)) == 1'089'664);
  REQUIRE(train::mlp_unet_parameter_count(cfg(256, 5, 256, 256)) == 1'122'560);
  REQUIRE(train::mlp_unet_parameter_count(cfg(512, 5, 256, 256)) == 1'385'728);
  REQUIRE(train::mlp_unet_parameter_count(cfg(784, 8, 1024, 128)) == 17'933'616);
  REQUIRE(train::mlp_unet_parameter_count(cfg(3072, 8, 3072, 128)) == 147'237'888);
}

TEST_CASE("train mlp-unet: a built network's tensors match a hand count and PyTorch names", "[fast][train]") {
  // d=3, L=4, H=5, E=4 by hand: block(3→5) = 6 + 20 + 50 + 10 + 30 + 20 (skip) = 136; block(5→5) = 10 + 30 + 50
  // + 10 + 30 = 130, twice; out = 5·3 + 3 = 18; total 414.
  MlpUNet<double> net(cfg(3, 4, 5, 4), 1);
  std::size_t total = 0;
  for (const auto& t : net.parameters().tensors()) total += t.size();
  REQUIRE(total == 414);
  REQUIRE(net.parameters().size() == 414);
  REQUIRE(train::mlp_unet_parameter_count(net.config()) == 414);
  REQUIRE(net.parameters().tensors().size() == 12 + 10 + 10 + 2);
  const auto& p = net.parameters();
  REQUIRE(p.tensors()[p.find("blocks.0.skip.weight")].shape == std::vector<std::size_t>{5, 3});
  REQUIRE(p.tensors()[p.find("blocks.0.affine.weight")].shape == std::vector<std::size_t>{10, 4});
  REQUIRE(p.tensors()[p.find("blocks.2.ln_out.bias")].shape == std::vector<std::size_t>{5});
  REQUIRE(p.tensors()[p.find("out.weight")].shape == std::vector<std::size_t>{3, 5});
  REQUIRE_THROWS_AS(p.find("blocks.1.skip.weight"), DataError);  // H → H blocks have an identity skip
  REQUIRE(net.embedding().freqs().size() == 2);
  // LayerNorms start at γ = 1, β = 0.
  REQUIRE(test::tensor(net.parameters(), "blocks.1.ln_in.weight").isOnes());
  REQUIRE(test::tensor(net.parameters(), "blocks.1.ln_out.bias").isZero());
}

TEST_CASE("train mlp-unet: whole-network gradients w.r.t. parameters and input match central differences", "[fast][train]") {
  MlpUNet<double> net(cfg(4, 4, 5, 6), 2);
  test::randomise(net.parameters(), 3);
  const Index batch = 3;
  Mat<double> x = random_matrix(4, batch, 4);
  const Vec<double> c_noise = random_vector(batch, 5, 0.5);
  const Mat<double> R = random_matrix(4, batch, 6);
  auto ctx = net.make_context(batch);
  auto loss = [&] { return (R.array() * net.forward(x, c_noise, ctx).array()).sum(); };
  loss();
  Mat<double> gx;
  net.backward(ctx, R, &gx);
  const auto gp = check_gradient(net.parameters().values(), net.parameters().grads(), loss, kFiniteDifferenceStep);
  const auto gi = check_gradient(std::span<double>(x.data(), static_cast<std::size_t>(x.size())),
                                 std::span<const double>(gx.data(), static_cast<std::size_t>(gx.size())), loss,
                                 kFiniteDifferenceStep);
  CAPTURE(gp.rel_error(), gi.rel_error(), gp.entries);
  REQUIRE(gp.entries == static_cast<std::size_t>(train::mlp_unet_parameter_count(net.config())));
  REQUIRE(gp.rel_error() < kGradCheckRel);
  REQUIRE(gi.rel_error() < kGradCheckRel);
}

TEST_CASE("train mlp-unet: the same seed gives bit-identical weights and outputs, another seed differs", "[fast][train]") {
  const auto c = cfg(8, 5, 16, 8);
  MlpUNet<float> a(c, 42), b(c, 42), other(c, 43);
  const auto va = a.parameters().values(), vb = b.parameters().values(), vo = other.parameters().values();
  REQUIRE(std::memcmp(va.data(), vb.data(), va.size_bytes()) == 0);
  REQUIRE(a.embedding().freqs() == b.embedding().freqs());
  REQUIRE(std::memcmp(va.data(), vo.data(), va.size_bytes()) != 0);
  const Mat<float> x = random_matrix(8, 4, 1).cast<float>();
  const Vec<float> cn = random_vector(4, 2).cast<float>();
  auto ca = a.make_context(4), cb = b.make_context(4);
  REQUIRE(a.forward(x, cn, ca) == b.forward(x, cn, cb));
}

TEST_CASE("train mlp-unet: float and double forwards of the same seed agree to float precision", "[fast][train]") {
  const auto c = cfg(16, 5, 32, 16);
  MlpUNet<double> nd(c, 7);
  MlpUNet<float> nf(c, 7);
  // Initialisation draws in double and rounds, so the float weights are the double ones rounded.
  for (std::size_t i = 0; i < nd.parameters().size(); ++i)
    REQUIRE(nf.parameters().values()[i] == static_cast<float>(nd.parameters().values()[i]));
  const Index batch = 8;
  const Mat<double> x = random_matrix(16, batch, 3);
  const Vec<double> cn = random_vector(batch, 4, 0.5);
  auto cd = nd.make_context(batch);
  auto cf = nf.make_context(batch);
  const Mat<double> yd = nd.forward(x, cn, cd);
  const Mat<double> yf = nf.forward(x.cast<float>(), cn.cast<float>(), cf).cast<double>();
  const double rel = (yf - yd).cwiseAbs().maxCoeff() / yd.cwiseAbs().maxCoeff();
  CAPTURE(rel);
  REQUIRE(rel < kFloatVsDoubleRel);
}

TEST_CASE("train mlp-unet: a reused context gives identical results and follows batch-size changes", "[fast][train]") {
  MlpUNet<double> net(cfg(6, 3, 8, 4), 9);
  const Mat<double> x = random_matrix(6, 5, 1);
  const Vec<double> cn = random_vector(5, 2);
  auto ctx = net.make_context(5);
  const Mat<double> y1 = net.forward(x, cn, ctx);
  const double* buffer = ctx.output.data();
  const Mat<double> y2 = net.forward(x, cn, ctx);
  REQUIRE(y1 == y2);
  REQUIRE(ctx.output.data() == buffer);  // same batch: buffers are reused, not reallocated
  // Columns are independent samples: the first two columns alone give the same outputs.
  const Mat<double> y3 = net.forward(x.leftCols(2), cn.head(2), ctx);
  REQUIRE((y3 - y1.leftCols(2)).cwiseAbs().maxCoeff() < test::kRoundoff);
}

TEST_CASE("train mlp-unet: invalid configurations and shapes are rejected with the key named", "[fast][train]") {
  REQUIRE_THROWS_WITH(MlpUNet<float>(cfg(4, 1, 8, 4), 0), Catch::Contains("model.nlayers"));
  REQUIRE_THROWS_WITH(MlpUNet<float>(cfg(4, 3, 8, 5), 0), Catch::Contains("model.embedding"));
  REQUIRE_THROWS_AS(MlpUNet<float>(cfg(0, 3, 8, 4), 0), ConfigError);
  MlpUNet<float> net(cfg(4, 3, 8, 4), 0);
  auto ctx = net.make_context(2);
  REQUIRE_THROWS_AS(net.forward(Mat<float>::Zero(5, 2), Vec<float>::Zero(2), ctx), DataError);
  REQUIRE_THROWS_AS(net.forward(Mat<float>::Zero(4, 2), Vec<float>::Zero(3), ctx), DataError);
}
