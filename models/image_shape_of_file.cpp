#include "models/image_shape_of_file.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <memory>
#include <string>

#include "common/errors.hpp"
#include "common/npy.hpp"

namespace specbias::models {

namespace {
struct GzCloser {
  void operator()(gzFile_s* file) const { gzclose(file); }
};
}  // namespace

std::optional<ImageShape> image_shape_of_file(const std::filesystem::path& path) {
  std::string name = path.filename().string();
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return std::tolower(ch); });
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with(".npy")) {
    const NpyArray a = read_npy(path, 1);
    if (a.shape.size() == 3) return ImageShape{int(a.shape[1]), int(a.shape[2])};
    if (a.shape.size() == 4 && a.shape[1] == 1) return ImageShape{int(a.shape[2]), int(a.shape[3])};
    return std::nullopt;
  }
  // IDX images (gzip or plain): big-endian magic, count, rows, cols.
  const std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
  if (!file) throw DataError("cannot open data file '" + path.string() + "' for reading");
  std::array<unsigned char, 16> h{};
  if (gzread(file.get(), h.data(), 16) != 16)
    throw DataError("data file '" + path.string() + "' is too short for an IDX header (16 bytes)");
  auto be32 = [&](std::size_t at) {
    return (std::uint32_t{h[at]} << 24) | (std::uint32_t{h[at + 1]} << 16) | (std::uint32_t{h[at + 2]} << 8) |
           std::uint32_t{h[at + 3]};
  };
  if (be32(0) != 0x00000803)
    throw DataError("data file '" + path.string() + "' is not an IDX image file (magic 0x00000803)");
  return ImageShape{int(be32(8)), int(be32(12))};
}

}  // namespace specbias::models
