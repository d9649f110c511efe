// The image shape a sample file implies (models/image_shape_of_file), for the convolutional kinds: .npy N×H×W and
// N×1×H×W give [H, W]; N×d and several channels give none; IDX headers give rows × cols; a label file is an error.
#include <catch2/catch.hpp>

#include <fstream>
#include <vector>

#include "common/errors.hpp"
#include "common/npy.hpp"
#include "models/image_shape_of_file.hpp"
#include "support/temp_dir.hpp"

using namespace specbias;

namespace {
void write_idx(const std::filesystem::path& p, std::uint32_t magic, std::uint32_t n, std::uint32_t rows, std::uint32_t cols) {
  std::ofstream out(p, std::ios::binary);
  for (std::uint32_t v : {magic, n, rows, cols})
    for (int shift = 24; shift >= 0; shift -= 8) out.put(static_cast<char>((v >> shift) & 0xff));
  out << std::string(std::size_t(n) * rows * cols, '\x07');
}
}  // namespace

TEST_CASE("image shape of file: npy and IDX headers give H x W, flat arrays and colour images give none", "[fast][models][conv]") {
  test::TempDir tmp;
  const std::vector<double> values(2 * 3 * 5, 1.0);
  write_npy(tmp / "hw.npy", values.data(), {2, 3, 5});
  write_npy(tmp / "chw.npy", values.data(), {2, 1, 3, 5});
  write_npy(tmp / "rgb.npy", values.data(), {2, 3, 1, 5});
  write_npy(tmp / "flat.npy", values.data(), {2, 15});
  const auto hw = models::image_shape_of_file(tmp / "hw.npy");
  REQUIRE(hw);
  CHECK(hw->height == 3);
  CHECK(hw->width == 5);
  const auto chw = models::image_shape_of_file(tmp / "chw.npy");
  REQUIRE(chw);
  CHECK(chw->size() == 15);
  CHECK(!models::image_shape_of_file(tmp / "rgb.npy"));
  CHECK(!models::image_shape_of_file(tmp / "flat.npy"));
  write_idx(tmp / "images.idx", 0x00000803, 2, 4, 6);
  const auto idx = models::image_shape_of_file(tmp / "images.idx");
  REQUIRE(idx);
  CHECK(idx->height == 4);
  CHECK(idx->width == 6);
  write_idx(tmp / "labels.idx", 0x00000801, 2, 0, 0);
  CHECK_THROWS_AS(models::image_shape_of_file(tmp / "labels.idx"), DataError);
  CHECK_THROWS_AS(models::image_shape_of_file(tmp / "missing.idx"), DataError);
}
