#include "pipeline/sweep.hpp"

#include <fmt/format.h>

#include <sstream>

#include "common/atomic_file.hpp"
#include "common/errors.hpp"
#include "config/run_config.hpp"
#include "pipeline/simulate.hpp"

namespace specbias::pipeline {

SweepAxis parse_sweep_axis(const std::string& spec) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    throw ConfigError("--param '" + spec + "': expected key=v1,v2,..., e.g. --param model.Q=0,0.1,0.5");
  SweepAxis axis{spec.substr(0, eq), {}};
  std::string cur;
  int depth = 0;
  bool quoted = false;
  for (char ch : spec.substr(eq + 1)) {
    if (ch == '"') quoted = !quoted;
    if (!quoted && ch == '[') ++depth;
    if (!quoted && ch == ']') --depth;
    if (ch == ',' && depth == 0 && !quoted) {
      axis.values.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  axis.values.push_back(cur);
  return axis;
}

std::string run_sweep(const std::string& config_path, const std::vector<std::string>& overrides,
                      const std::vector<SweepAxis>& axes, const std::filesystem::path& out_dir) {
  std::size_t combos = 1;
  for (const auto& a : axes) combos *= a.values.size();
  std::ostringstream table, csv;
  std::string head;
  for (const auto& a : axes) head += fmt::format("{:>20} ", a.key);
  table << head
        << fmt::format("{:>9} {:>8} {:>7} {:>4} {:>9} {:>8} {:>7} {:>4}\n", "method", "rising", "R2", "n", "", "decaying",
                       "R2", "n");
  for (const auto& a : axes) csv << a.key << ",";
  csv << "method,alpha_rising,r2_rising,n_rising,alpha_decaying,r2_decaying,n_decaying,run_dir\n";
  auto num = [](const nlohmann::json& f, const char* key) {
    return f.is_null() || f[key].is_null() ? std::string("nan") : fmt::format("{:.4f}", f[key].get<double>());
  };
  auto count = [](const nlohmann::json& f) { return f.is_null() ? std::string("0") : std::to_string(f["n"].get<int>()); };
  for (std::size_t idx = 0; idx < combos; ++idx) {
    std::vector<std::string> sets = overrides;
    std::string label, cells, csv_cells;
    std::size_t rest = idx;
    for (const auto& a : axes) {
      const auto& v = a.values[rest % a.values.size()];
      rest /= a.values.size();
      sets.push_back(a.key + "=" + v);
      if (!label.empty()) label += '_';
      label += a.key.substr(a.key.rfind('.') + 1);
      label += '-';
      label += v;
      cells += fmt::format("{:>20} ", v);
      csv_cells += v + ",";
    }
    const config::Config c = config::load_config(config_path, sets);
    const auto dir = out_dir / label;
    const SimulationResult r = simulate_to_directory(c, dir, true);
    for (const auto& [method, fit] : r.summary["fits"].items()) {
      table << cells
            << fmt::format("{:>9} {:>8} {:>7} {:>4} {:>9} {:>8} {:>7} {:>4}\n", method, num(fit["rising"], "alpha"),
                           num(fit["rising"], "r2"), count(fit["rising"]), "", num(fit["decaying"], "alpha"),
                           num(fit["decaying"], "r2"), count(fit["decaying"]));
      csv << csv_cells << method << "," << num(fit["rising"], "alpha") << "," << num(fit["rising"], "r2") << ","
          << count(fit["rising"]) << "," << num(fit["decaying"], "alpha") << "," << num(fit["decaying"], "r2") << ","
          << count(fit["decaying"]) << "," << dir.string() << "\n";
    }
    write_text_atomically(out_dir / "sweep.csv", csv.str());  // after every combination: nothing is lost
  }
  return table.str();
}

}  // namespace specbias::pipeline
