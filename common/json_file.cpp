#include "common/json_file.hpp"

#include <fstream>
#include <iterator>

namespace specbias {

namespace {

// 1-based line and column of byte offset `byte` (nlohmann counts the offending character's position, 1-based).
std::pair<std::size_t, std::size_t> line_column(const std::string& text, std::size_t byte) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

}  // namespace

nlohmann::json read_json_file(const std::filesystem::path& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path.string() + ": cannot open (expected " + std::string(what) + ")");
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line L, column C: <reason>"; keep the reason.
    std::string reason = e.what();
    if (const auto colon = reason.find(": "); colon != std::string::npos) reason = reason.substr(colon + 2);
    const auto [line, column] = line_column(text, e.byte);
    throw DataError(path.string() + ": line " + std::to_string(line) + ", column " + std::to_string(column) +
                    ": not valid JSON (" + reason + "); expected " + std::string(what));
  }
}

}  // namespace specbias
