// Sample-file readers behind load_samples (see data_files.hpp): .npy through common/npy, MNIST IDX through zlib.
// gzopen/gzread read gzip-compressed and plain files alike, so one IDX reader serves .gz, .idx and *-ubyte.
// Every failure is a DataError naming the file, what was expected and what was found.
#include "models/data_files.hpp"

#include "common/file_manifest.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "common/npy.hpp"

namespace specbias::models {

namespace {

constexpr std::uint32_t kIdxImageMagic = 0x00000803;  // type byte 0x08 = unsigned byte, 3 dimensions

std::string quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

std::string hex32(std::uint32_t value) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", static_cast<unsigned>(value));
  return buf;
}

double scale_pixel(double x, PixelScaling scaling) {
  switch (scaling) {
    case PixelScaling::minus_one_one: return x / 127.5 - 1.0;
    case PixelScaling::unit: return x / 255.0;
    case PixelScaling::raw: return x;
  }
  return x;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

Eigen::MatrixXd load_npy_samples(const std::filesystem::path& path, PixelScaling scaling,
                                 std::optional<Eigen::Index> max_samples) {
  std::optional<std::size_t> max_rows;
  if (max_samples) max_rows = static_cast<std::size_t>(*max_samples);
  // A file specbias wrote (e.g. a run's final weights or saved samples) is checked against its directory's
  // manifest first, when one lists it.
  verify_if_listed(path);
  const NpyArray array = read_npy(path, max_rows);
  if (array.shape.size() < 2 || array.shape.size() > 4) {
    std::string shape;
    for (std::size_t i = 0; i < array.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(array.shape[i]);
    throw DataError("data file " + quoted(path) + " holds a " + std::to_string(array.shape.size()) +
                    "-d array of shape (" + shape + "); expected samples as N x d, N x H x W or N x C x H x W");
  }
  const std::size_t n = array.shape[0];
  std::size_t d = 1;
  for (std::size_t i = 1; i < array.shape.size(); ++i) d *= array.shape[i];
  if (n == 0) throw DataError("data file " + quoted(path) + " contains 0 samples");
  if (d == 0) throw DataError("data file " + quoted(path) + " has samples of dimension 0");

  const bool pixels = array.dtype.find("u1") != std::string::npos;
  Eigen::MatrixXd X(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(d));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) {
      const double x = array.data[i * d + j];
      X(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = pixels ? scale_pixel(x, scaling) : x;
    }
  return X;
}

struct GzCloser {
  void operator()(gzFile_s* file) const { gzclose(file); }
};

Eigen::MatrixXd load_idx_samples(const std::filesystem::path& path, PixelScaling scaling,
                                 std::optional<Eigen::Index> max_samples) {
  const std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
  if (!file) throw DataError("cannot open data file " + quoted(path) + " for reading");

  // Reads up to `len` bytes, stopping early only at end of data or on a (reported) decompression error.
  std::string zlib_message;
  auto read_bytes = [&](unsigned char* dest, std::size_t len) -> std::size_t {
    std::size_t done = 0;
    while (done < len) {
      const auto chunk = static_cast<unsigned>(std::min<std::size_t>(len - done, INT_MAX / 2));
      const int got = gzread(file.get(), dest + done, chunk);
      if (got <= 0) {
        int errnum = Z_OK;
        const char* message = gzerror(file.get(), &errnum);
        if (errnum != Z_OK && message) zlib_message = std::string(" (zlib: ") + message + ")";
        break;
      }
      done += static_cast<std::size_t>(got);
    }
    return done;
  };

  std::array<unsigned char, 16> header{};
  const std::size_t header_got = read_bytes(header.data(), 4);
  if (header_got < 4)
    throw DataError("data file " + quoted(path) + " is too short for an IDX header: expected at least 4 bytes, "
                    "file has " + std::to_string(header_got) + zlib_message);
  auto be32 = [&](std::size_t at) {
    return (std::uint32_t{header[at]} << 24) | (std::uint32_t{header[at + 1]} << 16) |
           (std::uint32_t{header[at + 2]} << 8) | std::uint32_t{header[at + 3]};
  };
  const std::uint32_t magic = be32(0);
  if (magic != kIdxImageMagic)
    throw DataError("data file " + quoted(path) + " has IDX magic number " + hex32(magic) + ", expected " +
                    hex32(kIdxImageMagic) + " (unsigned-byte images, N x rows x cols)" +
                    (magic == 0x00000801 ? "; 0x00000801 is a label file, pass the matching images file" : ""));
  const std::size_t dims_got = read_bytes(header.data() + 4, 12);
  if (dims_got < 12)
    throw DataError("data file " + quoted(path) + " is truncated inside the IDX header: expected 16 bytes, "
                    "file has " + std::to_string(4 + dims_got) + zlib_message);
  const std::size_t n_total = be32(4);
  const std::size_t rows = be32(8);
  const std::size_t cols = be32(12);
  const std::size_t d = rows * cols;  // both < 2^32, so no overflow in 64-bit size_t
  if (n_total == 0) throw DataError("data file " + quoted(path) + " contains 0 samples");
  if (d == 0) throw DataError("data file " + quoted(path) + " has images of size " + std::to_string(rows) + " x " +
                              std::to_string(cols));
  const std::size_t n =
      max_samples ? std::min(n_total, static_cast<std::size_t>(*max_samples)) : n_total;

  std::vector<unsigned char> pixels(n * d);
  const std::size_t got = read_bytes(pixels.data(), pixels.size());
  if (got < pixels.size())
    throw DataError("data file " + quoted(path) + " is truncated: IDX header promises " + std::to_string(n_total) +
                    " x " + std::to_string(rows) + " x " + std::to_string(cols) + " bytes; reading the first " +
                    std::to_string(n) + " images needs " + std::to_string(pixels.size()) + " bytes of pixel data, "
                    "file has " + std::to_string(got) + zlib_message);

  Eigen::MatrixXd X(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(d));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j)
      X(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = scale_pixel(pixels[i * d + j], scaling);
  return X;
}

}  // namespace

Eigen::MatrixXd load_samples(const std::filesystem::path& path, PixelScaling scaling,
                             std::optional<Eigen::Index> max_samples) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw DataError("data file " + quoted(path) + " does not exist");
  if (std::filesystem::is_directory(path, ec))
    throw DataError("data file " + quoted(path) + " is a directory; expected a .npy or IDX file");
  if (max_samples && *max_samples < 1)
    throw DataError("max_samples = " + std::to_string(*max_samples) + " for data file " + quoted(path) +
                    "; it must be >= 1 (leave it unset to load every sample)");

  const std::string name = lower(path.filename().string());
  if (ends_with(name, ".npy")) return load_npy_samples(path, scaling, max_samples);
  if (ends_with(name, ".gz") || ends_with(name, ".idx") || ends_with(name, "-ubyte"))
    return load_idx_samples(path, scaling, max_samples);
  throw DataError("data file " + quoted(path) + " has an unsupported extension '" + path.extension().string() +
                  "'; supported: .npy (NumPy array), .gz (gzip-compressed MNIST IDX images), .idx or *-ubyte "
                  "(uncompressed IDX images)");
}

}  // namespace specbias::models
