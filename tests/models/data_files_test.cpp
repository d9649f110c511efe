// Tests for models/data_files: .npy and MNIST IDX (gzip and plain) sample loading built from small files made
// here (no dependency on /work/shared/data), pixel scaling, max_samples, and one DataError test per bad input.
#include "models/data_files.hpp"

#include <unistd.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "support/temp_dir.hpp"
#include "common/npy.hpp"

namespace {

using specbias::DataError;
using specbias::test::read_bytes;
using specbias::test::write_bytes;
using specbias::models::load_samples;
using specbias::models::PixelScaling;

// Pixel maps are one division and one subtraction: exact to a couple of ulp.
constexpr double kPixelTolerance = 1e-15;

using specbias::test::TempDir;

// A hand-built version-1.0 .npy file with a uint8 payload (the writer under test only emits <f8).
std::string u1_npy(const std::string& shape, const std::string& payload) {
  std::string header = "{'descr': '|u1', 'fortran_order': False, 'shape': " + shape + ", }";
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>(header.size() >> 8);
  return out + header + payload;
}

// IDX header: 4-byte big-endian magic then one big-endian uint32 per dimension.
std::string idx_bytes(std::uint32_t magic, const std::vector<std::uint32_t>& dims, const std::string& payload) {
  std::string out;
  auto put = [&](std::uint32_t x) {
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((x >> shift) & 0xFF);
  };
  put(magic);
  for (auto d : dims) put(d);
  return out + payload;
}

void write_gz(const std::filesystem::path& path, const std::string& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  REQUIRE(file != nullptr);
  REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
  REQUIRE(gzclose(file) == Z_OK);
}

// Two 2x3 "images" with pixel values spanning the full uint8 range.
const std::string kPixels("\x00\x33\x80\xff\x01\x02" "\x10\x20\x30\x40\x50\x60", 12);

}  // namespace

TEST_CASE("data_files: uint8 npy images are flattened and scaled", "[fast][models]") {
  TempDir dir;
  write_bytes(dir / "img.npy", u1_npy("(2, 2, 3)", kPixels));
  const Eigen::MatrixXd raw = load_samples(dir / "img.npy", PixelScaling::raw);
  REQUIRE(raw.rows() == 2);
  REQUIRE(raw.cols() == 6);
  // Row 1 = second image in C order.
  REQUIRE(raw(0, 1) == 0x33);
  REQUIRE(raw(1, 0) == 0x10);
  REQUIRE(raw(1, 5) == 0x60);

  const Eigen::MatrixXd pm = load_samples(dir / "img.npy", PixelScaling::minus_one_one);
  REQUIRE(pm(0, 0) == -1.0);
  REQUIRE(pm(0, 3) == 1.0);
  REQUIRE(pm(0, 1) == Approx(51.0 / 127.5 - 1.0).epsilon(0).margin(kPixelTolerance));  // = -0.6
  REQUIRE(pm(0, 1) == Approx(-0.6).epsilon(0).margin(kPixelTolerance));
  const Eigen::MatrixXd unit = load_samples(dir / "img.npy", PixelScaling::unit);
  REQUIRE(unit(0, 1) == Approx(0.2).epsilon(0).margin(kPixelTolerance));  // 51 / 255
  REQUIRE(unit(0, 3) == 1.0);
}

TEST_CASE("data_files: float npy in NCHW layout is flattened in C order and not rescaled", "[fast][models]") {
  TempDir dir;
  std::vector<double> values(2 * 2 * 2 * 2);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = 0.5 * static_cast<double>(i) - 3.0;
  specbias::write_npy(dir / "x.npy", values.data(), {2, 2, 2, 2});
  // Scaling applies to uint8 pixels only; float data come back as stored.
  const Eigen::MatrixXd X = load_samples(dir / "x.npy", PixelScaling::minus_one_one);
  REQUIRE(X.rows() == 2);
  REQUIRE(X.cols() == 8);
  for (Eigen::Index i = 0; i < 2; ++i)
    for (Eigen::Index j = 0; j < 8; ++j) REQUIRE(X(i, j) == 0.5 * static_cast<double>(i * 8 + j) - 3.0);

  Eigen::MatrixXd M(3, 2);
  M << 1, 2, 3, 4, 5, 6;
  specbias::write_npy(dir / "m.npy", M);
  REQUIRE(load_samples(dir / "m.npy", PixelScaling::unit) == M);
  const Eigen::MatrixXd first = load_samples(dir / "m.npy", PixelScaling::raw, 2);
  REQUIRE(first == M.topRows(2));
}

TEST_CASE("data_files: 1-d or empty npy arrays are DataErrors naming the file", "[fast][models]") {
  TempDir dir;
  Eigen::VectorXd v(3);
  v << 1, 2, 3;
  specbias::write_npy(dir / "v.npy", v);
  REQUIRE_THROWS_AS(load_samples(dir / "v.npy", PixelScaling::raw), DataError);
  REQUIRE_THROWS_WITH(load_samples(dir / "v.npy", PixelScaling::raw),
                      Catch::Contains((dir / "v.npy").string()) && Catch::Contains("1-d array"));

  specbias::write_npy(dir / "e.npy", static_cast<const double*>(nullptr), {0, 4});
  REQUIRE_THROWS_AS(load_samples(dir / "e.npy", PixelScaling::raw), DataError);
  REQUIRE_THROWS_WITH(load_samples(dir / "e.npy", PixelScaling::raw),
                      Catch::Contains((dir / "e.npy").string()) && Catch::Contains("0 samples"));
}

TEST_CASE("data_files: gzip IDX images load as N x rows*cols", "[fast][models]") {
  TempDir dir;
  const auto path = dir / "t10k-images-idx3-ubyte.gz";
  write_gz(path, idx_bytes(0x00000803, {2, 2, 3}, kPixels));
  const Eigen::MatrixXd X = load_samples(path, PixelScaling::minus_one_one);
  REQUIRE(X.rows() == 2);
  REQUIRE(X.cols() == 6);
  REQUIRE(X(0, 0) == -1.0);
  REQUIRE(X(0, 3) == 1.0);
  REQUIRE(X(1, 5) == Approx(96.0 / 127.5 - 1.0).epsilon(0).margin(kPixelTolerance));
  // The compressed file really is compressed (gzip magic), so this exercised the inflate path.
  REQUIRE(read_bytes(path).substr(0, 2) == "\x1f\x8b");

  const Eigen::MatrixXd one = load_samples(path, PixelScaling::raw, 1);
  REQUIRE(one.rows() == 1);
  REQUIRE(one(0, 1) == 0x33);
}

TEST_CASE("data_files: plain IDX files load through the same reader", "[fast][models]") {
  TempDir dir;
  write_bytes(dir / "train-images-idx3-ubyte", idx_bytes(0x00000803, {2, 2, 3}, kPixels));
  write_bytes(dir / "images.idx", idx_bytes(0x00000803, {2, 3, 2}, kPixels));
  const Eigen::MatrixXd a = load_samples(dir / "train-images-idx3-ubyte", PixelScaling::unit);
  const Eigen::MatrixXd b = load_samples(dir / "images.idx", PixelScaling::unit);
  REQUIRE(a.rows() == 2);
  REQUIRE(a.cols() == 6);
  REQUIRE(a == b);  // same bytes, same flattening, whatever rows x cols
  REQUIRE(a(1, 4) == Approx(80.0 / 255.0).epsilon(0).margin(kPixelTolerance));
}

TEST_CASE("data_files: IDX label file magic is a DataError naming both magics", "[fast][models]") {
  TempDir dir;
  const auto path = dir / "t10k-labels-idx1-ubyte.gz";
  write_gz(path, idx_bytes(0x00000801, {3}, std::string("\x07\x02\x01", 3)));
  REQUIRE_THROWS_AS(load_samples(path, PixelScaling::raw), DataError);
  REQUIRE_THROWS_WITH(load_samples(path, PixelScaling::raw), Catch::Contains(path.string()) &&
                                                                 Catch::Contains("0x00000801") &&
                                                                 Catch::Contains("expected 0x00000803"));
}

TEST_CASE("data_files: truncated IDX payload is a DataError", "[fast][models]") {
  TempDir dir;
  // Header promises 2 images of 2x3 bytes, only 7 of 12 bytes follow.
  const auto gz = dir / "short.gz";
  write_gz(gz, idx_bytes(0x00000803, {2, 2, 3}, kPixels.substr(0, 7)));
  REQUIRE_THROWS_AS(load_samples(gz, PixelScaling::raw), DataError);
  REQUIRE_THROWS_WITH(load_samples(gz, PixelScaling::raw), Catch::Contains(gz.string()) &&
                                                               Catch::Contains("truncated") &&
                                                               Catch::Contains("needs 12 bytes") &&
                                                               Catch::Contains("file has 7"));

  // A gzip stream cut in the middle (e.g. an interrupted download) is caught as well.
  const auto cut = dir / "cut.gz";
  write_gz(cut, idx_bytes(0x00000803, {50, 28, 28}, std::string(50 * 28 * 28, '\x2a')));
  const std::string bytes = read_bytes(cut);
  write_bytes(cut, bytes.substr(0, bytes.size() / 2));
  REQUIRE_THROWS_AS(load_samples(cut, PixelScaling::raw), DataError);
  REQUIRE_THROWS_WITH(load_samples(cut, PixelScaling::raw), Catch::Contains(cut.string()));

  write_bytes(dir / "tiny.idx", std::string("\x00\x00", 2));
  REQUIRE_THROWS_WITH(load_samples(dir / "tiny.idx", PixelScaling::raw),
                      Catch::Contains((dir / "tiny.idx").string()) && Catch::Contains("too short"));
}

TEST_CASE("data_files: missing file and unknown extension are DataErrors", "[fast][models]") {
  TempDir dir;
  const auto missing = dir / "absent.npy";
  REQUIRE_THROWS_AS(load_samples(missing, PixelScaling::raw), DataError);
  REQUIRE_THROWS_WITH(load_samples(missing, PixelScaling::raw),
                      Catch::Equals("data file '" + missing.string() + "' does not exist"));

  write_bytes(dir / "samples.csv", "1,2,3\n");
  REQUIRE_THROWS_AS(load_samples(dir / "samples.csv", PixelScaling::raw), DataError);
  REQUIRE_THROWS_WITH(load_samples(dir / "samples.csv", PixelScaling::raw),
                      Catch::Contains((dir / "samples.csv").string()) && Catch::Contains("'.csv'") &&
                          Catch::Contains(".npy") && Catch::Contains(".gz") && Catch::Contains("-ubyte"));

  Eigen::MatrixXd M = Eigen::MatrixXd::Ones(2, 2);
  specbias::write_npy(dir / "m.npy", M);
  REQUIRE_THROWS_AS(load_samples(dir / "m.npy", PixelScaling::raw, 0), DataError);
}
