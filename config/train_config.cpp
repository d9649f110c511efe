#include "config/train_config.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/errors.hpp"
#include "config/toml_reader.hpp"

namespace specbias::config {

namespace {

TrainConfig read(TomlReader& r) {
  TrainConfig c;
  c.source = r.file();
  auto& d = c.data;
  d.source = r.string("data.source", "gaussian", {"gaussian", "file"});
  if (d.source == "gaussian") {
    d.dim = static_cast<int>(r.integer("data.dim", 128, Range::closed(2, 8192)));
    d.samples = r.integer("data.samples", 10000, Range::closed(2, 1e8));
    d.seed = r.integer("data.seed", 0, Range::non_negative());
  } else {
    d.file = r.string("data.file", std::nullopt);
    std::filesystem::path p(d.file);  // relative to the config file, like the simulation config
    if (p.is_relative() && !r.file().empty() && r.file()[0] != '<') p = std::filesystem::path(r.file()).parent_path() / p;
    d.file = p.lexically_normal().string();
    d.scaling = r.string("data.scaling", "minus_one_one", {"minus_one_one", "unit", "raw"});
    d.max_samples = r.integer("data.max_samples", 0, Range::non_negative());
  }

  auto& m = c.model;
  m.kind = r.string("model.kind", "mlp_unet", {"mlp_unet", "linear"});
  if (m.kind == "mlp_unet") {
    m.nlayers = static_cast<int>(r.integer("model.nlayers", 5, Range::closed(2, 64)));
    m.hidden = static_cast<int>(r.integer("model.hidden", 256, Range::closed(1, 65536)));
    m.embedding = static_cast<int>(r.integer("model.embedding", 256, Range::closed(2, 65536)));
    if (m.embedding % 2 != 0)
      r.fail("model.embedding", "must be even (sine and cosine halves), got " + std::to_string(m.embedding));
  } else {
    m.layers = static_cast<int>(r.integer("model.layers", 1, Range::closed(1, 2)));
    m.hidden = static_cast<int>(r.integer("model.hidden", 0, Range::closed(0, 65536)));
    m.init_scale = r.number("model.init_scale", 0.0, m.layers == 2 ? Range::non_negative() : Range{});
    if (m.layers == 2 && d.source == "gaussian" && m.hidden != 0 && m.hidden < d.dim)
      r.fail("model.hidden", "a two-layer linear denoiser needs hidden >= d = " + std::to_string(d.dim) + " (or 0 for h = d)");
  }
  m.seed = r.integer("model.seed", 1, Range::non_negative());

  auto& e = c.edm;
  e.sigma_data = r.number("edm.sigma_data", 0.5, Range::positive());
  e.p_mean = r.number("edm.p_mean", -1.2, Range::closed(-20, 20));
  e.p_std = r.number("edm.p_std", 1.2, Range::non_negative());
  e.reduction = r.string("edm.reduction", "mean", {"mean", "sum"});
  e.fixed_sigma = r.number("edm.fixed_sigma", 0.0, Range::non_negative());

  auto& t = c.training;
  t.steps = r.integer("training.steps", 5000, Range::closed(1, 1e9));
  t.batch = r.integer("training.batch", 1024, Range::closed(1, 1 << 20));
  t.lr = r.number("training.lr", 1e-4, Range::positive());
  t.optimizer = r.string("training.optimizer", "adam", {"adam", "sgd"});
  t.seed = r.integer("training.seed", 2, Range::non_negative());
  t.checkpoint_every = r.integer("training.checkpoint_every", 500, Range::non_negative());
  t.shards = static_cast<int>(r.integer("training.shards", 2, Range::closed(1, 256)));

  auto& s = c.sampling;
  s.samples = r.integer("sampling.samples", 10000, Range::closed(2, 1e8));
  s.steps = static_cast<int>(r.integer("sampling.steps", 20, Range::closed(1, 10000)));
  s.sigma_min = r.number("sampling.sigma_min", 0.002, Range::positive());
  s.sigma_max = r.number("sampling.sigma_max", 80.0, Range::positive());
  if (s.sigma_min >= s.sigma_max)
    r.fail("sampling.sigma_max", "must exceed sampling.sigma_min = " + std::to_string(s.sigma_min));
  s.rho = r.number("sampling.rho", 7.0, Range::positive());
  s.latents = r.string("sampling.latents", "fixed", {"fixed", "fresh"});
  s.seed = r.integer("sampling.seed", 3, Range::non_negative());
  s.chunk = r.integer("sampling.chunk", 2000, Range::closed(1, 1e7));
  s.schedule = r.string("sampling.schedule", "pseudo_log", {"pseudo_log", "log", "uniform"});
  s.schedule_kind = r.string("sampling.schedule_kind", "auto", {"auto", "gaussian", "images"});
  s.every = r.integer("sampling.every", 100, Range::closed(1, 1e9));
  s.records = r.integer("sampling.records", 60, Range::closed(2, 1e6));
  s.keep_samples = r.boolean("sampling.keep_samples", false);
  s.keep = r.integer("sampling.keep", 64, Range::closed(1, 1e6));

  auto& a = c.analysis;
  a.criterion = r.string("analysis.criterion", "geometric", {"geometric", "harmonic"});
  a.smoothing = r.number("analysis.smoothing", 1.0, Range::non_negative());
  a.gray_lo = r.number("analysis.gray_lo", 0.5, Range::positive());
  a.gray_hi = r.number("analysis.gray_hi", 2.0, Range::positive());
  if (a.gray_lo > a.gray_hi) r.fail("analysis.gray_hi", "must be >= analysis.gray_lo");

  c.run.threads = static_cast<int>(r.integer("run.threads", 0, Range::closed(0, 1024)));
  c.run.figures = r.boolean("run.figures", true);
  r.reject_unknown_keys();
  return c;
}

}  // namespace

TrainConfig parse_train_config(const std::string& text, const std::string& name, const std::vector<std::string>& overrides) {
  toml::table table = parse_toml_text(text, name);
  for (const auto& o : overrides) apply_override(table, o);
  TomlReader reader(std::move(table), name);
  return read(reader);
}

TrainConfig load_train_config(const std::string& path, const std::vector<std::string>& overrides) {
  return parse_train_config(read_config_text(path), path, overrides);
}

toml::table TrainConfig::to_toml() const {
  toml::table data_t{{"source", data.source}};
  if (data.source == "gaussian") {
    data_t.insert("dim", data.dim);
    data_t.insert("samples", data.samples);
    data_t.insert("seed", data.seed);
  } else {
    // Absolute, so the resolved config in a run directory still finds the data (`specbias train --resume DIR`).
    data_t.insert("file", std::filesystem::absolute(data.file).lexically_normal().string());
    data_t.insert("scaling", data.scaling);
    data_t.insert("max_samples", data.max_samples);
  }
  return toml::table{
      {"data", data_t},
      {"model", model.kind == "mlp_unet"
                    ? toml::table{{"kind", model.kind}, {"nlayers", model.nlayers}, {"hidden", model.hidden},
                                  {"embedding", model.embedding}, {"seed", model.seed}}
                    : toml::table{{"kind", model.kind}, {"layers", model.layers}, {"hidden", model.hidden},
                                  {"init_scale", model.init_scale}, {"seed", model.seed}}},
      {"edm", toml::table{{"sigma_data", edm.sigma_data}, {"p_mean", edm.p_mean}, {"p_std", edm.p_std},
                          {"reduction", edm.reduction}, {"fixed_sigma", edm.fixed_sigma}}},
      {"training", toml::table{{"steps", training.steps}, {"batch", training.batch}, {"lr", training.lr},
                               {"optimizer", training.optimizer},
                               {"seed", training.seed}, {"checkpoint_every", training.checkpoint_every},
                               {"shards", training.shards}}},
      {"sampling", toml::table{{"samples", sampling.samples}, {"steps", sampling.steps},
                               {"sigma_min", sampling.sigma_min}, {"sigma_max", sampling.sigma_max},
                               {"rho", sampling.rho}, {"latents", sampling.latents}, {"seed", sampling.seed},
                               {"chunk", sampling.chunk}, {"schedule", sampling.schedule},
                               {"schedule_kind", sampling.schedule_kind}, {"every", sampling.every}, {"records", sampling.records},
                               {"keep_samples", sampling.keep_samples}, {"keep", sampling.keep}}},
      {"analysis", toml::table{{"criterion", analysis.criterion}, {"smoothing", analysis.smoothing},
                               {"gray_lo", analysis.gray_lo}, {"gray_hi", analysis.gray_hi}}},
      {"run", toml::table{{"threads", run.threads}, {"figures", run.figures}}},
  };
}

}  // namespace specbias::config
