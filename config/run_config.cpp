#include "config/run_config.hpp"

#include <cmath>
#include <initializer_list>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/errors.hpp"
#include "config/toml_reader.hpp"

namespace specbias::config {

namespace {

toml::array to_array(const std::vector<double>& v) {
  toml::array a;
  for (double x : v) a.push_back(x);
  return a;
}

// Keys of [model] that only some kinds read; any other kind rejects them by name (rather than as "unknown").
// [training] loss and the flow-matching time range of [sampling] (THEORY §2.2, §9). The variants other than edm_x
// are implemented for the one-layer model with an aligned, unbiased start on zero-mean data (models/loss_family).
void read_loss(TomlReader& r, Config& c) {
  auto& t = c.training;
  t.loss = r.string("training.loss", "edm_x", {"edm_x", "edm_eps", "vp_x", "vp_eps", "vp_v", "flow_matching"});
  const bool fm = t.loss == "flow_matching";
  if (fm) {
    c.sampling.t_min = r.number("sampling.t_min", 0.0, Range::closed(0.0, 1.0));
    c.sampling.t_max = r.number("sampling.t_max", 1.0, Range::closed(0.0, 1.0));
    if (c.sampling.t_min >= c.sampling.t_max)
      r.fail("sampling.t_min", "t_min = " + std::to_string(c.sampling.t_min) + " must be smaller than t_max = " +
                                   std::to_string(c.sampling.t_max),
             "flow matching samples from t_min (noise) up to t_max (data)");
    if (r.has("analysis.weight_t"))
      c.analysis.weight_t = r.number_or_list("analysis.weight_t", 0.5, Range::closed(0.0, 1.0));
  } else {
    for (const char* key : {"sampling.t_min", "sampling.t_max", "analysis.weight_t"})
      if (r.has(key)) r.fail(key, "is only used by training.loss = \"flow_matching\" (loss is \"" + t.loss + "\")");
  }
  if (t.loss == "edm_x") return;
  const std::string why = "training.loss = \"" + t.loss + "\" is implemented for the one-layer model with an aligned "
                          "start on zero-mean data (THEORY 2.2, 9)";
  const bool fm_two_layer = t.loss == "flow_matching" && c.model.kind == "two_layer_symmetric";  // (9.7)
  if (c.model.kind != "one_layer" && !fm_two_layer)
    r.fail("training.loss", why + ", but model.kind = \"" + c.model.kind + "\"",
           "use model.kind = \"one_layer\" (flow_matching also takes \"two_layer_symmetric\"), or loss = \"edm_x\" "
           "for the other kinds");
  if (c.model.W0_offset != "none") r.fail("model.W0_offset", why, "set W0_offset = \"none\"");
  if (c.model.b0 != "zero") r.fail("model.b0", why, "set b0 = \"zero\"");
  if (!c.data.mean.empty()) r.fail("data.mean", why, "remove data.mean");
  if (!c.data.file.empty() && !c.data.center) r.fail("data.center", why, "set center = true");
}

void reject_for_kind(TomlReader& r, const std::string& kind, std::initializer_list<const char*> keys,
                     const std::string& fix) {
  for (const char* k : keys) {
    const std::string path = std::string("model.") + k;
    if (r.has(path)) r.fail(path, "is not used by kind = \"" + kind + "\"", fix);
  }
}

// Number of modes when the config alone determines it (explicit spectrum or generator), else 0 (data files).
int known_dim(const DataConfig& d) {
  if (!d.eigenvalues.empty()) return static_cast<int>(d.eigenvalues.size());
  return d.generator.empty() ? 0 : d.dim;
}

std::vector<double> per_mode(TomlReader& r, const std::string& path, std::optional<double> fallback, const Range& range,
                             int dim) {
  auto v = r.number_or_list(path, fallback, range);
  if (dim > 0 && v.size() != 1 && static_cast<int>(v.size()) != dim)
    r.fail(path, "has " + std::to_string(v.size()) + " entries for " + std::to_string(dim) + " modes",
           "give one value, or one per mode");
  return v;
}

// Convolutional kinds (THEORY §7–8): the image shape comes from data.shape (or, for files, from the data), the
// initial filter is a delta at offset 0 (layers = 1: w(0) = Q e₀, so every Re γ_k(0) = Q; layers = 2: a e₀, b e₀).
void read_conv_model(TomlReader& r, Config& c) {
  auto& m = c.model;
  const auto& shape = c.data.shape;
  reject_for_kind(r, m.kind, {"hidden", "tied", "v", "depth", "W0_offset", "W0_offset_scale", "b0", "b0_scale"},
                  "convolutional kinds take dims, layers, Q (layers = 1), a and b (layers = 2) and kernel (conv_patch)");
  const int shape_dims = shape.empty() ? 0 : (shape.size() == 2 && shape[0] > 1 ? 2 : 1);
  // Without dims or shape a data file decides (N×H×W / IDX images are 2-D); other sources default to 1-D signals.
  if (r.has("model.dims")) m.dims = static_cast<int>(r.integer("model.dims", std::nullopt, Range::closed(1, 2)));
  else m.dims = shape_dims > 0 ? shape_dims : (c.data.file.empty() ? 1 : 0);
  if (shape_dims > 0 && m.dims != shape_dims)
    r.fail("model.dims", "dims = " + std::to_string(m.dims) + " is inconsistent with data.shape = [" +
                             (shape.size() == 2 ? std::to_string(shape[0]) + ", " + std::to_string(shape[1])
                                                : std::to_string(shape[0])) + "]",
           m.dims == 2 ? "2-D images need shape = [H, W] with H > 1" : "1-D signals need shape = [N] (or [1, N])");
  if (m.dims == 2 && shape.empty() && c.data.file.empty())
    r.fail("model.dims", "dims = 2 needs the image shape", "set data.shape = [H, W] (data files give it implicitly)");
  m.layers = static_cast<int>(r.integer("model.layers", 1, Range::closed(1, 2)));
  if (m.kind == "conv_patch") {
    m.kernel = static_cast<int>(r.integer("model.kernel", std::nullopt, Range::closed(1, 100000)));
    if (m.kernel % 2 == 0)
      r.fail("model.kernel", "kernel = " + std::to_string(m.kernel) + " is even", "use an odd K = 2r + 1 (centred patch)");
    // Per axis: [N] and [1, N] constrain only the signal length; [H, W] (H > 1) both axes.
    for (std::size_t a = 0; a < shape.size(); ++a)
      if ((shape.size() == 1 || a == 1 || shape[0] > 1) && m.kernel > shape[a])
        r.fail("model.kernel", "kernel = " + std::to_string(m.kernel) + " exceeds the image size " +
                                   std::to_string(shape[a]) + " along axis " + std::to_string(a),
               "allowed range [1, N] per axis (K = N is the full-width kind conv_full)");
  } else {
    reject_for_kind(r, m.kind, {"kernel"}, "conv_full is the full-width filter (K = N); use conv_patch for K < N");
  }
  if (m.layers == 1) {
    reject_for_kind(r, m.kind, {"a", "b"}, "a and b are the two layers' centre taps (layers = 2)");
    m.Q = {r.number("model.Q", 0.1, Range::closed(-10.0, 10.0))};
  } else {
    reject_for_kind(r, m.kind, {"Q"}, "with layers = 2 give the centre taps a and b (w(0) = a*b)");
    m.a = {r.number("model.a", std::nullopt, Range::closed(-10.0, 10.0))};
    m.b = {r.number("model.b", std::nullopt, Range::closed(-10.0, 10.0))};
    m.Q.clear();
  }
}

void read_model(TomlReader& r, Config& c) {
  auto& m = c.model;
  if (m.convolutional()) return read_conv_model(r, c);
  const int dim = known_dim(c.data);
  const bool one = m.kind == "one_layer", sym = m.kind == "two_layer_symmetric", two = m.kind == "two_layer",
             deep = m.kind == "deep_linear", res = m.kind == "deep_residual";
  // depth: fixed for one/two-layer kinds, required for the deep kinds ("infinite" for deep_linear's L → ∞ limit).
  if (deep || res) {
    if (deep && r.has("model.depth") && r.string_if("model.depth")) {
      r.string("model.depth", std::nullopt, {"infinite"});
      m.infinite_depth = true;
      m.depth = 0;
    } else {
      m.depth = static_cast<int>(r.integer("model.depth", std::nullopt, Range::closed(1, 100000)));
    }
  } else {
    m.depth = one ? 1 : 2;
    if (r.has("model.depth") && r.integer("model.depth", std::nullopt, {}) != m.depth)
      r.fail("model.depth", "kind = \"" + m.kind + "\" has depth " + std::to_string(m.depth),
             "use kind = \"deep_linear\" for other depths");
  }
  if (deep) m.tied = r.boolean("model.tied", false);
  else reject_for_kind(r, m.kind, {"tied"}, "tied weights are a deep_linear option");
  // hidden width: two-layer kinds and untied deep networks; must cover the d data modes (aligned start).
  if (sym || two || (deep && !m.tied && !m.infinite_depth)) {
    m.hidden = static_cast<int>(r.integer("model.hidden", 0, Range::closed(0, 100000)));
    if (dim > 0 && m.hidden != 0 && m.hidden < dim)
      r.fail("model.hidden", "hidden width " + std::to_string(m.hidden) + " is smaller than the data dimension d = " +
                                 std::to_string(dim),
             "the aligned start W(0) = U diag(Q) U^T needs hidden >= d (or 0 for hidden = d)");
  } else {
    reject_for_kind(r, m.kind, {"hidden"},
                    one ? "the one-layer model has no hidden layer"
                        : "tied, residual and infinitely deep networks have square d x d layers");
  }
  // Initial values.
  if (two) {
    reject_for_kind(r, m.kind, {"Q", "v"}, "give the layer values a and b (w(0) = a*b)");
    m.a = per_mode(r, "model.a", std::nullopt, {-10.0, 10.0}, dim);
    m.b = per_mode(r, "model.b", std::nullopt, {-10.0, 10.0}, dim);
    if (m.a.size() != m.b.size() && m.a.size() != 1 && m.b.size() != 1)
      r.fail("model.b", "has " + std::to_string(m.b.size()) + " entries but a has " + std::to_string(m.a.size()));
    m.Q.clear();
  } else if (res) {
    reject_for_kind(r, m.kind, {"Q", "a", "b"}, "give the residual start v (w(0) = (1 + v)^L)");
    m.v = per_mode(r, "model.v", 0.0, {-10.0, 10.0}, dim);
    m.Q.clear();
  } else {
    reject_for_kind(r, m.kind, {"a", "b", "v"},
                    "a and b belong to kind = \"two_layer\", v to kind = \"deep_residual\"");
    // W = P Pᵀ is positive semi-definite; an even depth gives w(0) = a^L >= 0 (and (6.7) needs Q >= 0).
    const bool non_negative = sym || (deep && (m.infinite_depth || m.depth % 2 == 0));
    m.Q = per_mode(r, "model.Q", 0.1, Range::closed(-10.0, 10.0), dim);
    for (std::size_t i = 0; i < m.Q.size(); ++i)
      if (non_negative && m.Q[i] < 0)
        r.fail("model.Q", "element " + std::to_string(i) + " = " + std::to_string(m.Q[i]) + " is negative, but " +
                              (sym ? "W = P P^T is positive semi-definite"
                                   : m.infinite_depth ? "the infinite-depth limit (6.7) needs w(0) >= 0"
                                                      : "an even depth gives w(0) = a^L >= 0"),
               "allowed range [0, 10]");
  }
  m.W0_offset = r.string("model.W0_offset", "none", {"none", "nonaligned"});
  m.W0_offset_scale = r.number("model.W0_offset_scale", 0.1, {});
  if (m.infinite_depth && m.W0_offset != "none")
    r.fail("model.W0_offset", "an infinitely deep network has no full-matrix form, so its start must be aligned",
           "use a finite depth for non-aligned starts");
  if (one) {
    m.b0 = r.string("model.b0", "zero", {"zero", "nonaligned"});
    m.b0_scale = r.number("model.b0_scale", 0.5, {});
  } else {
    reject_for_kind(r, m.kind, {"b0", "b0_scale"}, "only the one-layer model has a bias");
  }
  // Re-parametrisations (3.10)–(3.11): one-layer only; σ-dependent start and rate need the per-mode paths.
  if (one) {
    m.parametrisation = r.string("model.parametrisation", "plain", {"plain", "residual", "score", "edm_preconditioned"});
    if (m.parametrisation != "plain" && (m.W0_offset != "none" || m.b0 != "zero"))
      r.fail("model.parametrisation", "\"" + m.parametrisation + "\" is solved per mode (quadrature (4.4)), which needs "
             "an aligned start", "set W0_offset = \"none\" and b0 = \"zero\", or parametrisation = \"plain\"");
  } else if (r.has("model.parametrisation")) {
    r.fail("model.parametrisation", "is not used by kind = \"" + m.kind + "\" (value \"" +
           r.string("model.parametrisation", std::nullopt) + "\")",
           "re-parametrisations (plain, residual, score, edm_preconditioned) are for kind = \"one_layer\" only");
  }
}

Config read(TomlReader& r) {
  Config c;
  c.source = r.file();
  // [data]
  auto& d = c.data;
  const bool has_eig = r.has("data.eigenvalues"), has_gen = r.has("data.generator"), has_file = r.has("data.file");
  const int sources = int(has_eig) + int(has_gen) + int(has_file);
  if (sources != 1)
    r.fail("data", sources == 0 ? "no data source given" : "more than one data source given",
           "set exactly one of `eigenvalues = [...]`, `generator = \"...\"` or `file = \"...\"`");
  if (has_eig) {
    d.eigenvalues = r.number_list("data.eigenvalues", Range::non_negative());
    d.basis = r.string("data.basis", "identity", {"identity", "dct", "random"});
  }
  if (has_gen) {
    d.generator = r.string("data.generator", std::nullopt, {"lognormal_rotation", "log_spaced", "stationary"});
    d.dim = static_cast<int>(r.integer("data.dim", std::nullopt, Range::closed(1, 8192)));
    if (d.generator == "log_spaced") {
      d.top = r.number("data.top", 10.0, Range::positive());
      d.bottom = r.number("data.bottom", 1e-3, Range::positive());
      d.basis = r.string("data.basis", "identity", {"identity", "dct", "random"});
    }
    if (d.generator == "stationary") d.rho = r.number("data.rho", 0.5, {-1.0, 1.0, false, false});
  }
  // The seed drives SplitMix64 (13.3) for lognormal_rotation and basis = "random"; accepted for every
  // generated source so resolved configs always reload.
  if (has_eig || has_gen) d.seed = r.integer("data.seed", 0, Range::non_negative());
  if (has_file) {
    d.file = r.string("data.file", std::nullopt);
    // Relative data paths are relative to the config file, so configs can travel with their data.
    std::filesystem::path p(d.file);
    if (p.is_relative() && !r.file().empty() && r.file()[0] != '<')
      p = std::filesystem::path(r.file()).parent_path() / p;
    d.file = p.lexically_normal().string();
    d.scaling = r.string("data.scaling", "minus_one_one", {"minus_one_one", "unit", "raw"});
    d.max_samples = r.integer("data.max_samples", 0, Range::non_negative());
    d.center = r.boolean("data.center", true);
  }
  if (r.has("data.mean")) d.mean = r.number_list("data.mean", {});
  if (has_eig && !d.mean.empty() && d.mean.size() != d.eigenvalues.size())
    r.fail("data.mean", "has " + std::to_string(d.mean.size()) + " entries but there are " +
                            std::to_string(d.eigenvalues.size()) + " eigenvalues", "give one mean per mode");
  if (has_gen && !d.mean.empty() && static_cast<int>(d.mean.size()) != d.dim)
    r.fail("data.mean", "has " + std::to_string(d.mean.size()) + " entries but dim = " + std::to_string(d.dim));
  if (r.has("data.shape")) {
    const auto shape = r.number_list("data.shape", Range::closed(1, 1e6));
    if (shape.size() != 1 && shape.size() != 2)
      r.fail("data.shape", "has " + std::to_string(shape.size()) + " entries", "give [H, W] for images or [N] for signals");
    long long product = 1;
    for (double v : shape) {
      if (v != std::floor(v)) r.fail("data.shape", "entries must be whole numbers (got " + std::to_string(v) + ")");
      d.shape.push_back(static_cast<int>(v));
      product *= static_cast<long long>(v);
    }
    const int dim = known_dim(d);
    if (dim > 0 && product != dim)
      r.fail("data.shape", "has " + std::to_string(product) + " pixels but the data dimension is d = " + std::to_string(dim),
             "the product of the shape must equal d");
  }

  // [model]
  auto& m = c.model;
  m.kind = r.string("model.kind", "one_layer",
                    {"one_layer", "two_layer_symmetric", "two_layer", "deep_linear", "deep_residual", "conv_full",
                     "conv_patch"});
  read_model(r, c);

  // [training]
  auto& t = c.training;
  t.eta = r.number("training.eta", 1.0, Range::positive());
  const bool has_list = r.has("training.tau"), has_range = r.has("training.tau_points");
  if (has_list == has_range)
    r.fail("training", has_list ? "both `tau` and `tau_points` given" : "no training times given",
           "set `tau = [...]` or `tau_min`, `tau_max`, `tau_points` for a log-spaced range");
  if (has_list) {
    t.tau = r.number_list("training.tau", Range::non_negative());
    for (std::size_t i = 1; i < t.tau.size(); ++i)
      if (t.tau[i] <= t.tau[i - 1]) r.fail("training.tau", "values must be strictly increasing");
  } else {
    t.tau_points = static_cast<int>(r.integer("training.tau_points", std::nullopt, Range::closed(2, 100000)));
    t.tau_min = r.number("training.tau_min", 1e-4, Range::positive());
    t.tau_max = r.number("training.tau_max", 1e5, Range::positive());
    if (t.tau_max <= t.tau_min) r.fail("training.tau_max", "must be larger than tau_min = " + std::to_string(t.tau_min));
    t.include_zero = r.boolean("training.include_zero", true);
    if (t.include_zero) t.tau.push_back(0.0);
    for (int i = 0; i < t.tau_points; ++i)
      t.tau.push_back(t.tau_min * std::pow(t.tau_max / t.tau_min, double(i) / (t.tau_points - 1)));
  }

  // Discrete gradient descent (3.6) and per-σ learning-rate weighting (THEORY §12).
  t.discrete_steps = r.boolean("training.discrete_steps", false);
  t.eta_weighting = r.string("training.eta_weighting", "none", {"none", "edm_density", "edm_loss_weight", "edm_both"});
  t.p_mean = r.number("training.p_mean", -1.2, {});
  t.p_std = r.number("training.p_std", 1.2, Range::positive());
  t.sigma_data = r.number("training.sigma_data", 0.5, Range::positive());
  if ((t.discrete_steps || t.eta_weighting != "none") && m.kind != "one_layer")
    r.fail(t.discrete_steps ? "training.discrete_steps" : "training.eta_weighting",
           "is implemented for kind = \"one_layer\" only (kind = \"" + m.kind + "\")");
  if (m.parametrisation == "edm_preconditioned" && (t.eta_weighting == "edm_loss_weight" || t.eta_weighting == "edm_both"))
    r.fail("training.eta_weighting", "\"" + t.eta_weighting + "\" would apply the EDM loss weight twice: "
           "parametrisation = \"edm_preconditioned\" already includes it (3.11)",
           "allowed with edm_preconditioned: \"none\" or \"edm_density\"");
  if (t.discrete_steps && (m.parametrisation != "plain" || t.eta_weighting != "none"))
    r.fail("training.discrete_steps", "is implemented for the plain parametrisation with a σ-independent rate",
           "set parametrisation = \"plain\" and eta_weighting = \"none\"");

  // [sampling]
  c.sampling.sigma_min = r.number("sampling.sigma_min", 0.002, Range::positive());
  c.sampling.sigma_max = r.number("sampling.sigma_max", 80.0, Range::positive());
  if (c.sampling.sigma_min >= c.sampling.sigma_max)
    r.fail("sampling.sigma_min",
           "sigma_min = " + std::to_string(c.sampling.sigma_min) + " must be smaller than sigma_max = " +
               std::to_string(c.sampling.sigma_max), "sampling runs from sigma_max down to sigma_min");

  read_loss(r, c);
  // Discrete steps and the per-σ rates (3.10)–(3.11) are derived for the EDM x-prediction loss (2.1) only.
  if (t.loss != "edm_x" && (t.discrete_steps || t.eta_weighting != "none" || m.parametrisation != "plain"))
    r.fail("training.loss", "\"" + t.loss + "\" cannot be combined with discrete_steps, eta_weighting or "
           "parametrisation (derived for loss = \"edm_x\")",
           "set loss = \"edm_x\", or discrete_steps = false, eta_weighting = \"none\", parametrisation = \"plain\"");

  // [run]
  c.run.method = r.string("run.method", "both", {"closed_form", "numeric", "both"});
  c.run.numeric_path = r.string("run.numeric_path", "auto", {"auto", "modewise", "full_matrix"});
  c.run.quadrature = r.boolean("run.quadrature", true);
  c.run.threads = static_cast<int>(r.integer("run.threads", 0, Range::closed(0, 1024)));

  // [solver]
  auto& s = c.solver;
  s.outer = r.string("solver.outer", "auto", {"auto", "exponential", "solution", "rosenbrock", "bsimp", "msbdf", "dopri5"});
  s.panels = static_cast<int>(r.integer("solver.panels", 24, Range::closed(1, 4096)));
  s.points_per_panel = static_cast<int>(r.integer("solver.points_per_panel", 12, Range::closed(2, 32)));
  s.outer_rtol = r.number("solver.outer_rtol", 1e-12, {0.0, 1.0, false, false});
  s.outer_atol = r.number("solver.outer_atol", 1e-14, {0.0, 1.0, false, false});
  s.outer_max_steps = r.integer("solver.outer_max_steps", 2'000'000, Range::closed(1, 1e12));
  s.inner_rtol = r.number("solver.inner_rtol", 1e-11, {0.0, 1.0, false, false});
  s.inner_atol = r.number("solver.inner_atol", 1e-14, {0.0, 1.0, false, false});
  s.inner_max_steps = r.integer("solver.inner_max_steps", 200'000, Range::closed(1, 1e12));
  s.quadrature_rtol = r.number("solver.quadrature_rtol", 1e-12, {0.0, 1.0, false, false});

  // [analysis]
  auto& a = c.analysis;
  a.criterion = r.string("analysis.criterion", "geometric", {"geometric", "harmonic", "arithmetic"});
  a.target = r.string("analysis.target", "data", {"data", "asymptote"});
  a.gray_lo = r.number("analysis.gray_lo", 0.5, Range::positive());
  a.gray_hi = r.number("analysis.gray_hi", 2.0, Range::positive());
  if (a.gray_hi < a.gray_lo) r.fail("analysis.gray_hi", "must be at least gray_lo");
  if (r.has("analysis.weight_sigma")) a.weight_sigma = r.number_or_list("analysis.weight_sigma", 1.0, Range::positive());
  a.points_per_decade = static_cast<int>(r.integer("analysis.points_per_decade", 40, Range::closed(2, 10000)));

  // [validation]
  auto& v = c.validation;
  v.quadrature_rel = r.number("validation.quadrature_rel", 1e-9, Range::positive());
  v.nested_rel = r.number("validation.nested_rel", 1e-9, Range::positive());
  v.pf_transition_rel = r.number("validation.pf_transition_rel", 1e-7, Range::positive());
  v.weights_abs = r.number("validation.weights_abs", 1e-10, Range::positive());

  // [output]
  c.output.figures = r.boolean("output.figures", true);
  c.output.npy = r.boolean("output.npy", true);

  r.reject_unknown_keys();
  return c;
}

Config parse_table(toml::table table, const std::string& name, const std::vector<std::string>& overrides) {
  for (const auto& o : overrides) {
    apply_override(table, o);
    // An explicit τ list given on the command line replaces a range from the file (and vice versa), so
    // `--set training.tau=[...]` works on any config.
    auto* training = table["training"].as_table();
    if (training && o.rfind("training.tau=", 0) == 0)
      for (const char* k : {"tau_min", "tau_max", "tau_points", "include_zero"}) training->erase(k);
    if (training && o.rfind("training.tau_points=", 0) == 0) training->erase("tau");
  }
  TomlReader reader(std::move(table), name);
  return read(reader);
}

}  // namespace

Config parse_config(const std::string& text, const std::string& name, const std::vector<std::string>& overrides) {
  return parse_table(parse_toml_text(text, name), name, overrides);
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  return parse_config(read_config_text(path), path, overrides);
}

toml::table Config::model_table() const {
  // Only the keys this kind reads, so that the resolved config loads again.
  if (model.convolutional()) {
    toml::table t{{"kind", model.kind}, {"layers", model.layers}};
    if (model.dims != 0) t.insert("dims", model.dims);  // 0: decided by the data file
    if (model.kind == "conv_patch") t.insert("kernel", model.kernel);
    if (model.layers == 1) t.insert("Q", model.Q.at(0));
    else {
      t.insert("a", model.a.at(0));
      t.insert("b", model.b.at(0));
    }
    return t;
  }
  toml::table t{{"kind", model.kind}, {"W0_offset", model.W0_offset}, {"W0_offset_scale", model.W0_offset_scale}};
  const std::string& k = model.kind;
  if (k == "two_layer") {
    t.insert("a", to_array(model.a));
    t.insert("b", to_array(model.b));
  } else if (k == "deep_residual") {
    t.insert("v", to_array(model.v));
  } else {
    t.insert("Q", to_array(model.Q));
  }
  if (k == "deep_linear" || k == "deep_residual") {
    if (model.infinite_depth) t.insert("depth", "infinite");
    else t.insert("depth", model.depth);
  }
  if (k == "deep_linear") t.insert("tied", model.tied);
  if (k == "two_layer_symmetric" || k == "two_layer" || (k == "deep_linear" && !model.tied && !model.infinite_depth))
    t.insert("hidden", model.hidden);
  if (k == "one_layer") {
    t.insert("b0", model.b0);
    t.insert("b0_scale", model.b0_scale);
    if (model.parametrisation != "plain") t.insert("parametrisation", model.parametrisation);
  }
  return t;
}

toml::table Config::training_table() const {
  toml::table t{{"eta", training.eta}, {"tau", to_array(training.tau)}};
  // Keys of the discrete-step and per-σ-rate options only when they differ from the defaults.
  if (training.discrete_steps) t.insert("discrete_steps", true);
  if (training.eta_weighting != "none") {
    t.insert("eta_weighting", training.eta_weighting);
    t.insert("p_mean", training.p_mean);
    t.insert("p_std", training.p_std);
  }
  if (training.eta_weighting != "none" || model.parametrisation == "edm_preconditioned")
    t.insert("sigma_data", training.sigma_data);
  return t;
}

toml::table Config::to_toml() const {
  toml::table data_t;
  if (!data.eigenvalues.empty()) {
    data_t.insert("eigenvalues", to_array(data.eigenvalues));
    data_t.insert("basis", data.basis);
    data_t.insert("seed", data.seed);
  }
  if (!data.generator.empty()) {
    data_t.insert("generator", data.generator);
    data_t.insert("dim", data.dim);
    data_t.insert("seed", data.seed);
    if (data.generator == "log_spaced") {
      data_t.insert("top", data.top);
      data_t.insert("bottom", data.bottom);
      data_t.insert("basis", data.basis);
    }
    if (data.generator == "stationary") data_t.insert("rho", data.rho);
  }
  if (!data.file.empty()) {
    data_t.insert("file", data.file);
    data_t.insert("scaling", data.scaling);
    data_t.insert("max_samples", data.max_samples);
    data_t.insert("center", data.center);
  }
  if (!data.mean.empty()) data_t.insert("mean", to_array(data.mean));
  if (!data.shape.empty()) {
    toml::array shape_a;
    for (int v : data.shape) shape_a.push_back(v);
    data_t.insert("shape", shape_a);
  }
  toml::table out{
      {"data", data_t},
      {"model", model_table()},
      {"training", training_table()},
      {"sampling", toml::table{{"sigma_min", sampling.sigma_min}, {"sigma_max", sampling.sigma_max}}},
      {"run", toml::table{{"method", run.method},
                          {"numeric_path", run.numeric_path},
                          {"quadrature", run.quadrature},
                          {"threads", run.threads}}},
      {"solver", toml::table{{"outer", solver.outer},
                             {"panels", solver.panels},
                             {"points_per_panel", solver.points_per_panel},
                             {"outer_rtol", solver.outer_rtol},
                             {"outer_atol", solver.outer_atol},
                             {"outer_max_steps", solver.outer_max_steps},
                             {"inner_rtol", solver.inner_rtol},
                             {"inner_atol", solver.inner_atol},
                             {"inner_max_steps", solver.inner_max_steps},
                             {"quadrature_rtol", solver.quadrature_rtol}}},
      {"analysis", toml::table{{"criterion", analysis.criterion},
                               {"target", analysis.target},
                               {"gray_lo", analysis.gray_lo},
                               {"gray_hi", analysis.gray_hi},
                               {"weight_sigma", to_array(analysis.weight_sigma)},
                               {"points_per_decade", analysis.points_per_decade}}},
      {"validation", toml::table{{"quadrature_rel", validation.quadrature_rel},
                                 {"nested_rel", validation.nested_rel},
                                 {"pf_transition_rel", validation.pf_transition_rel},
                                 {"weights_abs", validation.weights_abs}}},
      {"output", toml::table{{"figures", output.figures}, {"npy", output.npy}}},
  };
  // Loss keys only when not the default, so that edm_x runs resolve exactly as before the loss family existed.
  if (training.loss != "edm_x") {
    out["training"].as_table()->insert("loss", training.loss);
    if (training.loss == "flow_matching") {
      out["sampling"].as_table()->insert("t_min", sampling.t_min);
      out["sampling"].as_table()->insert("t_max", sampling.t_max);
      out["analysis"].as_table()->insert("weight_t", to_array(analysis.weight_t));
    }
  }
  return out;
}

}  // namespace specbias::config
