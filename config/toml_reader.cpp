#include "config/toml_reader.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <sstream>

#include "common/errors.hpp"

namespace specbias::config {

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '.')) parts.push_back(part);
  return parts;
}

std::string format_number(double x) {
  std::ostringstream s;
  s.precision(12);
  s << x;
  return s.str();
}

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "number";
    case toml::node_type::boolean: return "boolean";
    default: return "date/time";
  }
}

}  // namespace

bool Range::contains(double x) const {
  if (std::isnan(x)) return false;
  const bool lo_ok = lo_inclusive ? x >= lo : x > lo;
  const bool hi_ok = hi_inclusive ? x <= hi : x < hi;
  return lo_ok && hi_ok;
}

std::string Range::describe() const {
  auto bound = [](double v) { return std::abs(v) >= 1e308 ? std::string(v < 0 ? "-inf" : "inf") : format_number(v); };
  return std::string(lo_inclusive && lo > -1e308 ? "[" : "(") + bound(lo) + ", " + bound(hi) +
         (hi_inclusive && hi < 1e308 ? "]" : ")");
}

TomlReader::TomlReader(toml::table root, std::string file) : root_(std::move(root)), file_(std::move(file)) {}

const toml::node* TomlReader::find(const std::string& path) const {
  return root_.at_path(path).node();
}

bool TomlReader::has(const std::string& path) const { return find(path) != nullptr; }

bool TomlReader::string_if(const std::string& path) const {
  const toml::node* n = find(path);
  return n && n->is_string();
}

std::string TomlReader::where(const std::string& path) const {
  const toml::node* n = find(path);
  std::ostringstream s;
  s << file_;
  if (n && n->source().begin.line > 0) s << ":" << n->source().begin.line << ":" << n->source().begin.column;
  return s.str();
}

void TomlReader::fail(const std::string& path, const std::string& problem, const std::string& fix) const {
  const auto parts = split_path(path);
  std::string section = parts.size() > 1 ? "[" + path.substr(0, path.rfind('.')) + "] " : "";
  std::ostringstream msg;
  msg << where(path) << ": " << section << parts.back() << ": " << problem;
  if (!fix.empty()) msg << "; " << fix;
  throw ConfigError(msg.str());
}

std::string TomlReader::render(const toml::node& n) const {
  std::ostringstream s;
  if (auto v = n.value<double>(); v && !n.is_string()) s << format_number(*v);
  else if (auto str = n.value<std::string>()) s << '"' << *str << '"';
  else if (auto b = n.value<bool>()) s << (*b ? "true" : "false");
  else n.visit([&](auto&& node) { s << toml::toml_formatter{node}; });
  return s.str();
}

void TomlReader::touch(const std::string& path) { used_.insert(path); }

double TomlReader::number(const std::string& path, std::optional<double> fallback, const Range& range) {
  used_.insert(path);
  const toml::node* n = find(path);
  if (!n) {
    if (!fallback) fail(path, "missing required number", "add `" + split_path(path).back() + " = <number>`");
    return *fallback;
  }
  if (!(n->is_floating_point() || n->is_integer()))
    fail(path, "expected a number, got a " + type_name(*n) + " (" + render(*n) + ")");
  const double x = *n->value<double>();
  if (!range.contains(x))
    fail(path, "value " + format_number(x) + " is outside the allowed range " + range.describe());
  return x;
}

long long TomlReader::integer(const std::string& path, std::optional<long long> fallback, const Range& range) {
  used_.insert(path);
  const toml::node* n = find(path);
  if (!n) {
    if (!fallback) fail(path, "missing required integer");
    return *fallback;
  }
  if (!n->is_integer()) fail(path, "expected an integer, got a " + type_name(*n) + " (" + render(*n) + ")");
  const long long x = *n->value<long long>();
  if (!range.contains(static_cast<double>(x)))
    fail(path, "value " + std::to_string(x) + " is outside the allowed range " + range.describe());
  return x;
}

bool TomlReader::boolean(const std::string& path, std::optional<bool> fallback) {
  used_.insert(path);
  const toml::node* n = find(path);
  if (!n) {
    if (!fallback) fail(path, "missing required boolean");
    return *fallback;
  }
  if (!n->is_boolean()) fail(path, "expected true or false, got a " + type_name(*n) + " (" + render(*n) + ")");
  return *n->value<bool>();
}

std::string TomlReader::string(const std::string& path, std::optional<std::string> fallback,
                               const std::vector<std::string>& allowed) {
  used_.insert(path);
  const toml::node* n = find(path);
  std::string value;
  if (!n) {
    if (!fallback) fail(path, "missing required string");
    return *fallback;
  }
  if (!n->is_string()) fail(path, "expected a string, got a " + type_name(*n) + " (" + render(*n) + ")");
  value = *n->value<std::string>();
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + ("\"" + a + "\"");
    const std::string guess = closest_match(value, allowed);
    fail(path, "\"" + value + "\" is not one of " + list, guess.empty() ? "" : "did you mean \"" + guess + "\"?");
  }
  return value;
}

std::vector<double> TomlReader::number_list(const std::string& path, const Range& range, bool allow_empty) {
  used_.insert(path);
  const toml::node* n = find(path);
  if (!n) fail(path, "missing required list of numbers");
  const toml::array* arr = n->as_array();
  if (!arr) fail(path, "expected a list of numbers, got a " + type_name(*n) + " (" + render(*n) + ")");
  if (arr->empty() && !allow_empty) fail(path, "the list is empty", "give at least one value");
  std::vector<double> out;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::node& e = *arr->get(i);
    const std::string item = path + "[" + std::to_string(i) + "]";
    if (!(e.is_floating_point() || e.is_integer()))
      fail(path, "element " + std::to_string(i) + " is a " + type_name(e) + " (" + render(e) + "), expected a number");
    const double x = *e.value<double>();
    if (!range.contains(x))
      fail(path, "element " + std::to_string(i) + " = " + format_number(x) + " is outside the allowed range " +
                     range.describe());
    out.push_back(x);
  }
  return out;
}

std::vector<double> TomlReader::number_or_list(const std::string& path, std::optional<double> fallback,
                                               const Range& range) {
  const toml::node* n = find(path);
  if (n && n->is_array()) return number_list(path, range);
  return {number(path, fallback, range)};
}

void TomlReader::reject_unknown_keys() const {
  std::function<void(const toml::table&, const std::string&)> walk = [&](const toml::table& t, const std::string& prefix) {
    for (const auto& [k, v] : t) {
      const std::string path = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
      if (const toml::table* sub = v.as_table(); sub && !used_.count(path)) {
        // A table is known if any key below it was read.
        const bool known = std::any_of(used_.begin(), used_.end(),
                                       [&](const std::string& u) { return u.rfind(path + ".", 0) == 0; });
        if (known) {
          walk(*sub, path);
          continue;
        }
      }
      if (used_.count(path)) continue;
      // Suggest among the keys the program reads at the same level.
      std::vector<std::string> siblings;
      for (const auto& u : used_) {
        const auto dot = u.rfind('.');
        const std::string parent = dot == std::string::npos ? "" : u.substr(0, dot);
        if (parent == prefix) siblings.push_back(u.substr(dot == std::string::npos ? 0 : dot + 1));
        else if (prefix.empty()) siblings.push_back(u.substr(0, u.find('.')));
      }
      const std::string guess = closest_match(std::string(k.str()), siblings);
      std::ostringstream msg;
      msg << file_;
      if (v.source().begin.line > 0) msg << ":" << v.source().begin.line << ":" << v.source().begin.column;
      msg << ": unknown key '" << path << "'";
      if (!guess.empty()) msg << "; did you mean '" << (prefix.empty() ? "" : prefix + ".") << guess << "'?";
      else msg << "; see docs/config.md for the keys of each block";
      throw ConfigError(msg.str());
    }
  };
  walk(root_, "");
}

toml::table parse_toml_text(const std::string& text, const std::string& name) {
  try {
    return toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << name << ":" << e.source().begin.line << ":" << e.source().begin.column << ": TOML syntax error: "
        << e.description();
    throw ConfigError(msg.str());
  }
}

std::string read_config_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("config file '" + path + "' cannot be read (does it exist?)");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void apply_override(toml::table& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("--set '" + assignment + "': expected key=value, e.g. --set training.eta=0.5");
  const std::string key = assignment.substr(0, eq);
  const std::string raw = assignment.substr(eq + 1);
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + raw);
  } catch (const toml::parse_error&) {
    parsed = toml::table{{"v", raw}};  // bare word: treat as a string (e.g. --set run.method=numeric)
  }
  const auto parts = split_path(key);
  toml::table* t = &root;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    auto* next = (*t)[parts[i]].as_table();
    if (!next) {
      if ((*t).contains(parts[i]))
        throw ConfigError("--set '" + assignment + "': '" + parts[i] + "' is not a table");
      t->insert(parts[i], toml::table{});
      next = (*t)[parts[i]].as_table();
    }
    t = next;
  }
  t->insert_or_assign(parts.back(), *parsed.get("v"));
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j)
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      std::swap(prev, cur);
    }
    return prev[b.size()];
  };
  std::string best;
  std::size_t best_d = 3;  // only suggest reasonably close names
  for (const auto& c : candidates) {
    const std::size_t dd = distance(word, c);
    if (dd < best_d || (dd == best_d && best.empty() && dd <= word.size() / 2)) {
      best_d = dd;
      best = c;
    }
  }
  return best;
}

}  // namespace specbias::config
