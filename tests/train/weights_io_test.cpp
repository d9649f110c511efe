// Tests for train/weights_io: NPY export in PyTorch's names and (out, in) orientation, a round trip into a
// differently seeded network reproducing outputs exactly, and errors for missing or misshapen files.
#include "train/weights_io.hpp"

#include <catch2/catch.hpp>

#include "common/errors.hpp"
#include "common/npy.hpp"
#include "support/temp_dir.hpp"
#include "tests/train/train_test_helpers.hpp"

namespace {
using namespace specbias;
using train::Mat;
using train::MlpUNet;
using train::Vec;

train::MlpUNetConfig small() {
  train::MlpUNetConfig c;
  c.dim = 3;
  c.nlayers = 3;
  c.hidden = 5;
  c.embedding = 6;
  return c;
}
}  // namespace

TEST_CASE("train weights io: files use PyTorch names, shapes and (out, in) orientation", "[fast][train]") {
  test::TempDir dir;
  MlpUNet<float> net(small(), 4);
  train::save_weights_npy(net, dir.path());
  const NpyArray w = read_npy(dir / "blocks.0.fc0.weight.npy");
  REQUIRE(w.shape == std::vector<std::size_t>{5, 3});
  const Mat<double> W = test::tensor(net.parameters(), "blocks.0.fc0.weight");
  for (std::size_t i = 0; i < 5; ++i)
    for (std::size_t j = 0; j < 3; ++j) REQUIRE(w.data[i * 3 + j] == W(static_cast<long>(i), static_cast<long>(j)));
  REQUIRE(read_npy(dir / "blocks.1.ln_in.bias.npy").shape == std::vector<std::size_t>{5});
  const NpyArray f = read_npy(dir / "embedding.freqs.npy");
  REQUIRE(f.shape == std::vector<std::size_t>{3});
  REQUIRE(f.data[1] == net.embedding().freqs()(1));
}

TEST_CASE("train weights io: a round trip into another network reproduces its outputs exactly", "[fast][train]") {
  test::TempDir dir;
  MlpUNet<float> src(small(), 1), dst(small(), 2);
  train::save_weights_npy(src, dir.path());
  train::load_weights_npy(dst, dir.path());
  const Mat<float> x = test::random_matrix(3, 4, 5).cast<float>();
  const Vec<float> cn = test::random_vector(4, 6).cast<float>();
  auto ca = src.make_context(4), cb = dst.make_context(4);
  REQUIRE(src.forward(x, cn, ca) == dst.forward(x, cn, cb));
  // Float weights written as float64 load into a double network without change.
  MlpUNet<double> wide(small(), 3);
  train::load_weights_npy(wide, dir.path());
  for (std::size_t i = 0; i < wide.parameters().size(); ++i)
    REQUIRE(wide.parameters().values()[i] == static_cast<double>(src.parameters().values()[i]));
}

TEST_CASE("train weights io: missing or misshapen files are DataErrors and leave the network unchanged", "[fast][train]") {
  test::TempDir dir;
  MlpUNet<double> net(small(), 1);
  train::save_weights_npy(net, dir.path());
  MlpUNet<double> other(small(), 2);
  const std::vector<double> before(other.parameters().values().begin(), other.parameters().values().end());

  const std::vector<double> wrong(10, 0.0);
  write_npy(dir / "out.weight.npy", wrong.data(), {2, 5});
  // The directory's manifest (common/file_manifest.hpp) catches the replaced file first ...
  REQUIRE_THROWS_WITH(train::load_weights_npy(other, dir.path()),
                      Catch::Contains("out.weight.npy: 208 bytes") && Catch::Contains("manifest.json records 248"));
  // ... and without one (weights exported by PyTorch) the shape check names the file and the expected shape.
  std::filesystem::remove(dir / "manifest.json");
  REQUIRE_THROWS_WITH(train::load_weights_npy(other, dir.path()), Catch::Contains("out.weight.npy") && Catch::Contains("(3, 5)"));
  std::filesystem::remove(dir / "blocks.1.fc1.bias.npy");
  REQUIRE_THROWS_AS(train::load_weights_npy(other, dir.path()), DataError);
  REQUIRE(std::equal(before.begin(), before.end(), other.parameters().values().begin()));
}
