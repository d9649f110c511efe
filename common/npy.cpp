// NumPy .npy reader/writer (see npy.hpp). The header is a Python dict literal; we parse only the three keys the
// format defines ('descr', 'fortran_order', 'shape') and reject anything we cannot convert exactly.
#include "common/npy.hpp"

#include <bit>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>

#include "common/atomic_file.hpp"
#include "common/errors.hpp"

namespace specbias {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;

enum class Kind { f8, f4, i4, i8, u1 };

struct DtypeInfo {
  Kind kind;
  std::size_t itemsize;
};

std::string quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

std::optional<DtypeInfo> parse_dtype(const std::string& descr) {
  // Single-byte types carry no byte order, so numpy writes '|u1'; accept the other spellings as well.
  if (descr == "|u1" || descr == "<u1" || descr == "u1" || descr == "=u1") return DtypeInfo{Kind::u1, 1};
  if (descr == "<f8") return DtypeInfo{Kind::f8, 8};
  if (descr == "<f4") return DtypeInfo{Kind::f4, 4};
  if (descr == "<i4") return DtypeInfo{Kind::i4, 4};
  if (descr == "<i8") return DtypeInfo{Kind::i8, 8};
  return std::nullopt;
}

// Little-endian on disk regardless of the host; only big-endian hosts pay for the swap.
template <typename T>
T load_le(const unsigned char* bytes) {
  unsigned char buf[sizeof(T)];
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(buf, bytes, sizeof(T));
  } else {
    for (std::size_t i = 0; i < sizeof(T); ++i) buf[i] = bytes[sizeof(T) - 1 - i];
  }
  T value;
  std::memcpy(&value, buf, sizeof(T));
  return value;
}

template <typename T>
void store_le(T value, unsigned char* bytes) {
  std::memcpy(bytes, &value, sizeof(T));
  if constexpr (std::endian::native != std::endian::little) {
    for (std::size_t i = 0; i < sizeof(T) / 2; ++i) std::swap(bytes[i], bytes[sizeof(T) - 1 - i]);
  }
}

// Overflow-checked product; a corrupt header must not wrap around into a small, "valid" size.
std::optional<std::size_t> checked_product(const std::vector<std::size_t>& factors, std::size_t start) {
  std::size_t product = start;
  for (std::size_t f : factors) {
    if (f != 0 && product > std::numeric_limits<std::size_t>::max() / f) return std::nullopt;
    product *= f;
  }
  return product;
}

std::string shape_text(const std::vector<std::size_t>& shape) {
  if (shape.empty()) return "() (a scalar)";
  std::string s;
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? " x " : "") + std::to_string(shape[i]);
  return s;
}

class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::filesystem::path& path) : text_(text), path_(path) {}

  // Position just after "'key':" (or with double quotes); throws if the key is absent.
  std::size_t value_start(const std::string& key) const {
    for (const char q : {'\'', '"'}) {
      const std::string needle = std::string(1, q) + key + std::string(1, q);
      const std::size_t at = text_.find(needle);
      if (at == std::string_view::npos) continue;
      std::size_t pos = skip_space(at + needle.size());
      if (pos >= text_.size() || text_[pos] != ':') fail("no ':' after key '" + key + "'");
      return skip_space(pos + 1);
    }
    fail("key '" + key + "' is missing");
  }

  std::string string_value(const std::string& key) const {
    const std::size_t pos = value_start(key);
    if (pos >= text_.size() || (text_[pos] != '\'' && text_[pos] != '"')) fail("'" + key + "' is not a string");
    const std::size_t end = text_.find(text_[pos], pos + 1);
    if (end == std::string_view::npos) fail("unterminated string for '" + key + "'");
    return std::string(text_.substr(pos + 1, end - pos - 1));
  }

  bool bool_value(const std::string& key) const {
    const std::size_t pos = value_start(key);
    if (text_.substr(pos, 4) == "True") return true;
    if (text_.substr(pos, 5) == "False") return false;
    fail("'" + key + "' is neither True nor False");
  }

  std::vector<std::size_t> tuple_value(const std::string& key) const {
    std::size_t pos = value_start(key);
    if (pos >= text_.size() || text_[pos] != '(') fail("'" + key + "' is not a tuple");
    std::vector<std::size_t> values;
    pos = skip_space(pos + 1);
    while (pos < text_.size() && text_[pos] != ')') {
      if (!std::isdigit(static_cast<unsigned char>(text_[pos]))) fail("'" + key + "' has a non-integer entry");
      std::size_t value = 0;
      while (pos < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos]))) {
        const auto digit = static_cast<std::size_t>(text_[pos] - '0');
        if (value > (std::numeric_limits<std::size_t>::max() - digit) / 10) fail("'" + key + "' entry overflows");
        value = value * 10 + digit;
        ++pos;
      }
      values.push_back(value);
      pos = skip_space(pos);
      // numpy writes trailing "L" on Python 2 longs in very old files.
      if (pos < text_.size() && text_[pos] == 'L') pos = skip_space(pos + 1);
      if (pos < text_.size() && text_[pos] == ',') pos = skip_space(pos + 1);
    }
    if (pos >= text_.size()) fail("unterminated tuple for '" + key + "'");
    return values;
  }

 private:
  std::size_t skip_space(std::size_t pos) const {
    while (pos < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos]))) ++pos;
    return pos;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw DataError("file " + quoted(path_) + " has a malformed .npy header: " + what + " (header: " +
                    std::string(text_) + ")");
  }

  std::string_view text_;
  const std::filesystem::path& path_;
};

}  // namespace

NpyArray read_npy(const std::filesystem::path& path, std::optional<std::size_t> max_rows) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw DataError("file " + quoted(path) + " does not exist");
  if (std::filesystem::is_directory(path, ec))
    throw DataError("file " + quoted(path) + " is a directory, expected a .npy file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError("cannot open file " + quoted(path) + " for reading");
  const std::uintmax_t file_size = std::filesystem::file_size(path, ec);
  if (ec) throw DataError("cannot determine the size of file " + quoted(path) + ": " + ec.message());

  // Preamble: 6 magic bytes, major, minor, then a 2-byte (v1) or 4-byte (v2, v3) little-endian header length.
  unsigned char preamble[12] = {};
  in.read(reinterpret_cast<char*>(preamble), 10);
  const bool magic_ok = in.gcount() >= 6 && std::memcmp(preamble, kMagic, kMagicSize) == 0;
  if (magic_ok && in.gcount() < 10)
    throw DataError("file " + quoted(path) + " is truncated inside the .npy preamble: expected at least 10 bytes, "
                    "file has " + std::to_string(in.gcount()));
  if (!magic_ok) {
    std::ostringstream found;
    for (std::streamsize i = 0; i < std::min<std::streamsize>(in.gcount(), 6); ++i)
      found << (i ? " " : "") << "0x" << std::hex << static_cast<int>(preamble[i]);
    throw DataError("file " + quoted(path) + " is not a .npy file: expected the magic bytes 0x93 'NUMPY', found " +
                    (in.gcount() == 0 ? std::string("an empty file") : found.str()));
  }
  const int major = preamble[6];
  const int minor = preamble[7];
  std::size_t header_len = 0;
  std::size_t preamble_size = 10;
  if (major == 1) {
    header_len = load_le<std::uint16_t>(preamble + 8);
  } else if (major == 2 || major == 3) {
    in.read(reinterpret_cast<char*>(preamble + 10), 2);
    if (in.gcount() < 2) throw DataError("file " + quoted(path) + " is truncated inside the .npy preamble");
    header_len = load_le<std::uint32_t>(preamble + 8);
    preamble_size = 12;
  } else {
    throw DataError("file " + quoted(path) + " has .npy format version " + std::to_string(major) + "." +
                    std::to_string(minor) + "; supported versions are 1.0, 2.0 and 3.0");
  }
  if (preamble_size + header_len > file_size)
    throw DataError("file " + quoted(path) + " is truncated: the .npy header promises " +
                    std::to_string(header_len) + " header bytes, file has " +
                    std::to_string(file_size - preamble_size) + " after the preamble");
  std::string header(header_len, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_len));

  const HeaderParser parser(header, path);
  NpyArray array;
  array.dtype = parser.string_value("descr");
  const bool fortran_order = parser.bool_value("fortran_order");
  array.shape = parser.tuple_value("shape");

  const std::optional<DtypeInfo> dtype = parse_dtype(array.dtype);
  if (!dtype)
    throw DataError("file " + quoted(path) + " has dtype '" + array.dtype +
                    "', which is not supported; supported dtypes are <f8, <f4, <i4, <i8 and |u1 (little-endian); "
                    "convert with numpy, e.g. np.save(path, a.astype('<f8'))");
  if (fortran_order)
    throw DataError("file " + quoted(path) + " stores a Fortran-ordered (column-major) array of shape " +
                    shape_text(array.shape) + "; expected C order (fortran_order: False). Re-save it with "
                    "np.save(path, np.ascontiguousarray(a))");

  const std::optional<std::size_t> count = checked_product(array.shape, 1);
  const std::optional<std::size_t> data_bytes = count ? checked_product(array.shape, dtype->itemsize) : std::nullopt;
  if (!data_bytes) throw DataError("file " + quoted(path) + " has an impossibly large shape " + shape_text(array.shape));
  const std::uintmax_t available = file_size - preamble_size - header_len;
  if (available < *data_bytes)
    throw DataError("file " + quoted(path) + " is truncated: header promises " + shape_text(array.shape) + " " +
                    array.dtype + " = " + std::to_string(*data_bytes) + " bytes of data, file has " +
                    std::to_string(available));

  std::size_t n = *count;
  if (max_rows && !array.shape.empty() && *max_rows < array.shape[0]) {
    n = array.shape[0] == 0 ? 0 : n / array.shape[0] * *max_rows;
    array.shape[0] = *max_rows;
  }

  std::vector<unsigned char> raw(n * dtype->itemsize);
  in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(raw.size()));
  if (static_cast<std::size_t>(in.gcount()) != raw.size())
    throw DataError("reading file " + quoted(path) + " failed after " + std::to_string(in.gcount()) + " of " +
                    std::to_string(raw.size()) + " data bytes");

  array.data.resize(n);
  const unsigned char* p = raw.data();
  for (std::size_t i = 0; i < n; ++i, p += dtype->itemsize) {
    switch (dtype->kind) {
      case Kind::f8: array.data[i] = load_le<double>(p); break;
      case Kind::f4: array.data[i] = static_cast<double>(load_le<float>(p)); break;
      case Kind::i4: array.data[i] = static_cast<double>(load_le<std::int32_t>(p)); break;
      case Kind::i8: array.data[i] = static_cast<double>(load_le<std::int64_t>(p)); break;
      case Kind::u1: array.data[i] = static_cast<double>(*p); break;
    }
  }
  return array;
}

void write_npy(const std::filesystem::path& path, const double* data, const std::vector<std::size_t>& shape) {
  std::string shape_str = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) shape_str += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) shape_str += ",";  // Python's one-element tuple
  shape_str += ")";
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape_str + ", }";
  // numpy pads with spaces and ends with '\n' so that the data start is 64-byte aligned.
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  if (header.size() > std::numeric_limits<std::uint16_t>::max())
    throw Error("cannot write " + quoted(path) + ": shape " + shape_text(shape) + " needs a header longer than "
                "a version-1.0 .npy file allows");
  const std::optional<std::size_t> count = checked_product(shape, sizeof(double));
  if (!count) throw Error("cannot write " + quoted(path) + ": shape " + shape_text(shape) + " overflows size_t");
  const std::size_t n = *count / sizeof(double);

  write_file_atomically(path, [&](std::ostream& out) {
    unsigned char preamble[10];
    std::memcpy(preamble, kMagic, kMagicSize);
    preamble[6] = 1;
    preamble[7] = 0;
    store_le(static_cast<std::uint16_t>(header.size()), preamble + 8);
    out.write(reinterpret_cast<const char*>(preamble), sizeof preamble);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    // Chunked so a big array does not need a second full-size byte buffer.
    constexpr std::size_t kChunk = 1 << 16;
    std::vector<unsigned char> buffer;
    for (std::size_t start = 0; start < n; start += kChunk) {
      const std::size_t len = std::min(kChunk, n - start);
      buffer.resize(len * sizeof(double));
      for (std::size_t i = 0; i < len; ++i) store_le(data[start + i], buffer.data() + i * sizeof(double));
      out.write(reinterpret_cast<const char*>(buffer.data()), static_cast<std::streamsize>(buffer.size()));
    }
  });
}

void write_npy(const std::filesystem::path& path, const Eigen::MatrixXd& matrix) {
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> row_major = matrix;
  write_npy(path, row_major.data(),
            {static_cast<std::size_t>(matrix.rows()), static_cast<std::size_t>(matrix.cols())});
}

void write_npy(const std::filesystem::path& path, const Eigen::VectorXd& vector) {
  write_npy(path, vector.data(), {static_cast<std::size_t>(vector.size())});
}

}  // namespace specbias
