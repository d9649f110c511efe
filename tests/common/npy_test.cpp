// Tests for common/npy: round trips through our writer, byte-exact agreement with numpy's header, hand-built files
// for every supported dtype and format version, and one DataError test per malformed-file case.
#include "common/npy.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "support/temp_dir.hpp"

namespace {

using specbias::DataError;
using specbias::test::read_bytes;
using specbias::test::write_bytes;
using specbias::read_npy;
using specbias::write_npy;

using specbias::test::TempDir;

// Builds a .npy file byte by byte, independently of write_npy, for dtypes and versions the writer never emits.
std::string npy_bytes(const std::string& dict, const std::string& payload, int major = 1) {
  std::string header = dict;
  const std::size_t preamble = major == 1 ? 10 : 12;
  header.append((64 - (preamble + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const auto len = static_cast<std::uint32_t>(header.size());
  out += static_cast<char>(len & 0xFF);
  out += static_cast<char>((len >> 8) & 0xFF);
  if (major != 1) {
    out += static_cast<char>((len >> 16) & 0xFF);
    out += static_cast<char>((len >> 24) & 0xFF);
  }
  return out + header + payload;
}

template <typename T>
std::string le_payload(const std::vector<T>& values) {
  std::string out(values.size() * sizeof(T), '\0');
  std::memcpy(out.data(), values.data(), out.size());  // test hosts are little-endian (x86-64, aarch64)
  return out;
}

}  // namespace

TEST_CASE("npy: Eigen matrix round trip keeps row-major element order", "[fast][common]") {
  TempDir dir;
  Eigen::MatrixXd M(2, 3);
  M << 1.5, -2.0, 3.25, 4.0, 5.5, -6.125;
  write_npy(dir / "m.npy", M);
  const auto a = read_npy(dir / "m.npy");
  REQUIRE(a.shape == std::vector<std::size_t>{2, 3});
  REQUIRE(a.dtype == "<f8");
  // File order is C order: row 0 first, whatever Eigen's storage order is.
  REQUIRE(a.data == std::vector<double>{1.5, -2.0, 3.25, 4.0, 5.5, -6.125});
}

TEST_CASE("npy: vector and raw-pointer writes round trip exactly", "[fast][common]") {
  TempDir dir;
  Eigen::VectorXd v(4);
  v << 0.1, -1e300, 5e-324, 42.0;  // extremes check that values pass through bit-exactly
  write_npy(dir / "v.npy", v);
  const auto a = read_npy(dir / "v.npy");
  REQUIRE(a.shape == std::vector<std::size_t>{4});
  REQUIRE(a.data == std::vector<double>{0.1, -1e300, 5e-324, 42.0});

  const std::vector<double> cube{1, 2, 3, 4, 5, 6, 7, 8};
  write_npy(dir / "c.npy", cube.data(), {2, 2, 2});
  const auto c = read_npy(dir / "c.npy");
  REQUIRE(c.shape == std::vector<std::size_t>{2, 2, 2});
  REQUIRE(c.data == cube);
}

TEST_CASE("npy: writer header is byte-identical to numpy.save", "[fast][common]") {
  TempDir dir;
  Eigen::MatrixXd M = Eigen::MatrixXd::Zero(2, 3);
  write_npy(dir / "z.npy", M);
  const std::string bytes = read_bytes(dir / "z.npy");
  // Produced by: python3 -c "import numpy as np, io; b=io.BytesIO(); np.save(b, np.zeros((2,3)));
  //   print(b.getvalue()[:128])"  (numpy 1.24): header length 0x76 = 118, data starts at byte 128.
  const std::string expected_dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
  REQUIRE(bytes.size() == 128 + 6 * 8);
  REQUIRE(bytes.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  REQUIRE(static_cast<unsigned char>(bytes[8]) == 0x76);
  REQUIRE(bytes[9] == '\0');
  REQUIRE(bytes.substr(10, expected_dict.size()) == expected_dict);
  REQUIRE(bytes.substr(10 + expected_dict.size(), 127 - 10 - expected_dict.size()) ==
          std::string(127 - 10 - expected_dict.size(), ' '));
  REQUIRE(bytes[127] == '\n');

  Eigen::VectorXd v = Eigen::VectorXd::Zero(5);
  write_npy(dir / "v.npy", v);
  // numpy spells a 1-d shape as a one-element tuple "(5,)".
  const std::string vector_dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }";
  REQUIRE(read_bytes(dir / "v.npy").substr(10, vector_dict.size()) == vector_dict);
}

TEST_CASE("npy: hand-built f4 u1 i4 and i8 files convert to double", "[fast][common]") {
  TempDir dir;
  write_bytes(dir / "f4.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
                                        le_payload<float>({0.5f, -1.25f, 3.0f, 1e-3f})));
  const auto f4 = read_npy(dir / "f4.npy");
  REQUIRE(f4.shape == std::vector<std::size_t>{2, 2});
  REQUIRE(f4.dtype == "<f4");
  REQUIRE(f4.data == std::vector<double>{0.5, -1.25, 3.0, static_cast<double>(1e-3f)});

  write_bytes(dir / "u1.npy", npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2, 2), }",
                                        std::string("\x00\x7f\x80\xff", 4)));
  const auto u1 = read_npy(dir / "u1.npy");
  REQUIRE(u1.shape == std::vector<std::size_t>{1, 2, 2});
  REQUIRE(u1.data == std::vector<double>{0, 127, 128, 255});

  write_bytes(dir / "i4.npy", npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }",
                                        le_payload<std::int32_t>({-7, 0, 2147483647})));
  REQUIRE(read_npy(dir / "i4.npy").data == std::vector<double>{-7, 0, 2147483647.0});

  write_bytes(dir / "i8.npy", npy_bytes("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
                                        le_payload<std::int64_t>({-(std::int64_t{1} << 40), 12})));
  REQUIRE(read_npy(dir / "i8.npy").data == std::vector<double>{-1099511627776.0, 12.0});
}

TEST_CASE("npy: format versions 2.0 and 3.0 and a scalar array are read", "[fast][common]") {
  TempDir dir;
  for (int major : {2, 3}) {
    // Appended rather than "v" + to_string(...): GCC 12 reports a false -Wrestrict on the latter.
    std::string name = "v";
    name += std::to_string(major);
    name += ".npy";
    write_bytes(dir / name, npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }",
                                      le_payload<double>({2.5, -0.75}), major));
    const auto a = read_npy(dir / name);
    REQUIRE(a.shape == std::vector<std::size_t>{1, 2});
    REQUIRE(a.data == std::vector<double>{2.5, -0.75});
  }
  write_bytes(dir / "s.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
                                       le_payload<double>({9.0})));
  const auto s = read_npy(dir / "s.npy");
  REQUIRE(s.shape.empty());
  REQUIRE(s.data == std::vector<double>{9.0});
}

TEST_CASE("npy: max_rows converts only the leading rows", "[fast][common]") {
  TempDir dir;
  Eigen::MatrixXd M(3, 2);
  M << 1, 2, 3, 4, 5, 6;
  write_npy(dir / "m.npy", M);
  const auto a = read_npy(dir / "m.npy", 2);
  REQUIRE(a.shape == std::vector<std::size_t>{2, 2});
  REQUIRE(a.data == std::vector<double>{1, 2, 3, 4});
  REQUIRE(read_npy(dir / "m.npy", 10).shape == std::vector<std::size_t>{3, 2});
}

TEST_CASE("npy: truncated data is a DataError stating promised and actual bytes", "[fast][common]") {
  TempDir dir;
  // 100 x 784 <f4 promises 313600 bytes; only 1000 are present.
  write_bytes(dir / "x.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (100, 784), }",
                                       std::string(1000, '\0')));
  const auto path = dir / "x.npy";
  REQUIRE_THROWS_AS(read_npy(path), DataError);
  REQUIRE_THROWS_WITH(read_npy(path), Catch::Contains(path.string()) && Catch::Contains("truncated") &&
                                          Catch::Contains("100 x 784 <f4 = 313600 bytes") &&
                                          Catch::Contains("file has 1000"));
}

TEST_CASE("npy: bad magic or version or dtype is a DataError naming the file", "[fast][common]") {
  TempDir dir;
  write_bytes(dir / "text.npy", "hello, this is not numpy");
  REQUIRE_THROWS_AS(read_npy(dir / "text.npy"), DataError);
  REQUIRE_THROWS_WITH(read_npy(dir / "text.npy"),
                      Catch::Contains((dir / "text.npy").string()) && Catch::Contains("magic"));

  std::string v9 = npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", le_payload<double>({1}));
  v9[6] = 9;
  write_bytes(dir / "v9.npy", v9);
  REQUIRE_THROWS_AS(read_npy(dir / "v9.npy"), DataError);
  REQUIRE_THROWS_WITH(read_npy(dir / "v9.npy"),
                      Catch::Contains((dir / "v9.npy").string()) && Catch::Contains("version 9.0"));

  write_bytes(dir / "be.npy", npy_bytes("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }",
                                        std::string(8, '\0')));
  REQUIRE_THROWS_AS(read_npy(dir / "be.npy"), DataError);
  REQUIRE_THROWS_WITH(read_npy(dir / "be.npy"), Catch::Contains((dir / "be.npy").string()) &&
                                                    Catch::Contains("'>f8'") && Catch::Contains("<f4"));
}

TEST_CASE("npy: fortran_order True is a DataError naming the file", "[fast][common]") {
  TempDir dir;
  write_bytes(dir / "f.npy", npy_bytes("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }",
                                       le_payload<double>({1, 2, 3, 4})));
  REQUIRE_THROWS_AS(read_npy(dir / "f.npy"), DataError);
  REQUIRE_THROWS_WITH(read_npy(dir / "f.npy"),
                      Catch::Contains((dir / "f.npy").string()) && Catch::Contains("Fortran-ordered"));
}

TEST_CASE("npy: missing file is a DataError naming the file", "[fast][common]") {
  TempDir dir;
  const auto path = dir / "nowhere.npy";
  REQUIRE_THROWS_AS(read_npy(path), DataError);
  REQUIRE_THROWS_WITH(read_npy(path), Catch::Contains(path.string()) && Catch::Contains("does not exist"));
}
