// Config keys of the convolutional kinds (THEORY §7–8): [model] kind = conv_full | conv_patch, dims, layers,
// kernel, and [data] shape; every bad combination is a ConfigError naming key, value and allowed range.
#include <catch2/catch.hpp>

#include <sstream>

#include "common/errors.hpp"
#include "config/run_config.hpp"

using specbias::ConfigError;
using specbias::config::parse_config;

namespace {
std::string conv_config(const std::string& data, const std::string& model) {
  return "[data]\n" + data + "\n[model]\n" + model + "\n[training]\neta = 1.0\ntau = [0.0, 1.0]\n";
}

void require_conv_error(const std::string& text, const std::vector<std::string>& fragments) {
  try {
    parse_config(text, "conv.toml");
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    INFO(msg);
    for (const auto& f : fragments) CHECK_THAT(msg, Catch::Contains(f));
  }
}
}  // namespace

TEST_CASE("conv config: conv_full in 1-D and 2-D resolves dims from the shape and round-trips", "[fast][config][conv]") {
  const auto c1 = parse_config(conv_config("generator = \"stationary\"\ndim = 16\nrho = 0.5", "kind = \"conv_full\"\nQ = 0.2"),
                               "a.toml");
  CHECK(c1.model.convolutional());
  CHECK(c1.model.dims == 1);
  CHECK(c1.model.layers == 1);
  CHECK(c1.model.Q == std::vector<double>{0.2});
  CHECK(c1.data.shape.empty());
  const auto c2 = parse_config(
      conv_config("generator = \"stationary\"\ndim = 12\nshape = [3, 4]", "kind = \"conv_full\"\nlayers = 2\na = 0.3\nb = 0.5"),
      "b.toml");
  CHECK(c2.model.dims == 2);
  CHECK(c2.data.shape == std::vector<int>{3, 4});
  CHECK(c2.model.a == std::vector<double>{0.3});
  std::ostringstream os;
  os << c2.to_toml();
  const auto again = parse_config(os.str(), "resolved.toml");
  CHECK(again.data.shape == c2.data.shape);
  CHECK(again.model.kind == "conv_full");
  CHECK(again.model.layers == 2);
  CHECK(again.model.b == std::vector<double>{0.5});
  const auto c3 = parse_config(conv_config("file = \"x.npy\"", "kind = \"conv_patch\"\ndims = 2\nkernel = 3"), "c.toml");
  CHECK(c3.model.kernel == 3);
  CHECK(c3.model.dims == 2);
}

TEST_CASE("conv config: even or oversized kernels and inconsistent shapes are ConfigErrors", "[fast][config][conv]") {
  const std::string gen = "generator = \"stationary\"\ndim = 12\nshape = [3, 4]";
  require_conv_error(conv_config(gen, "kind = \"conv_patch\"\nkernel = 2"), {"[model] kernel", "even", "odd"});
  require_conv_error(conv_config(gen, "kind = \"conv_patch\"\nkernel = 5"), {"[model] kernel", "exceeds", "3", "[1, N]"});
  require_conv_error(conv_config(gen, "kind = \"conv_patch\"\nkernel = 0"), {"[model] kernel", "[1, 100000]"});
  require_conv_error(conv_config(gen, "kind = \"conv_patch\""), {"[model] kernel"});
  require_conv_error(conv_config(gen, "kind = \"conv_full\"\nkernel = 3"), {"[model] kernel", "conv_full"});
  require_conv_error(conv_config("generator = \"stationary\"\ndim = 12\nshape = [3, 5]", "kind = \"conv_full\""),
                     {"[data] shape", "15 pixels", "d = 12"});
  require_conv_error(conv_config(gen, "kind = \"conv_full\"\ndims = 1"), {"[model] dims", "inconsistent", "[3, 4]"});
  require_conv_error(conv_config("generator = \"stationary\"\ndim = 12\nshape = [12]", "kind = \"conv_full\"\ndims = 2"),
                     {"[model] dims", "inconsistent"});
  require_conv_error(conv_config("generator = \"stationary\"\ndim = 12", "kind = \"conv_full\"\ndims = 2"),
                     {"[model] dims", "data.shape"});
  require_conv_error(conv_config("generator = \"stationary\"\ndim = 12\nshape = [3, 2, 2]", "kind = \"conv_full\""),
                     {"[data] shape", "3 entries"});
  require_conv_error(conv_config("generator = \"stationary\"\ndim = 12\nshape = [3.5, 4]", "kind = \"conv_full\""),
                     {"[data] shape", "whole"});
  require_conv_error(conv_config(gen, "kind = \"conv_full\"\nlayers = 3"), {"[model] layers", "[1, 2]"});
  require_conv_error(conv_config(gen, "kind = \"conv_full\"\nlayers = 2\nQ = 0.1\na = 1\nb = 1"), {"[model] Q"});
  require_conv_error(conv_config(gen, "kind = \"conv_full\"\nhidden = 4"), {"[model] hidden", "conv_full"});
  // [1, N] is a 1-D signal: the kernel bound is N, not 1.
  CHECK(parse_config(conv_config("generator = \"stationary\"\ndim = 12\nshape = [1, 12]", "kind = \"conv_patch\"\nkernel = 5"),
                     "ok.toml").model.dims == 1);
}
