// NPY weight export/import (see weights_io.hpp).
#include "train/weights_io.hpp"

#include <string>
#include <vector>

#include "common/errors.hpp"
#include "common/file_manifest.hpp"
#include "common/npy.hpp"

namespace specbias::train {

namespace {

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

// Tensor (rows × cols, column-major) to C-order doubles of shape (rows, cols) or (rows,).
template <typename T>
std::vector<double> to_c_order(const T* data, Index rows, Index cols) {
  std::vector<double> out(static_cast<std::size_t>(rows * cols));
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) out[static_cast<std::size_t>(i * cols + j)] = static_cast<double>(data[i + j * rows]);
  return out;
}

// Writes the tensors; returns the file names written (for the directory's manifest).
template <typename T>
std::vector<std::string> save_tensors(const ParameterStore<T>& store, bool grads, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const std::span<const T> buffer = grads ? store.grads() : store.values();
  std::vector<std::string> files;
  for (const ParameterInfo& p : store.tensors()) {
    const std::vector<double> data = to_c_order(buffer.data() + p.offset, p.rows, p.cols);
    write_npy(dir / (p.name + ".npy"), data.data(), p.shape);
    files.push_back(p.name + ".npy");
  }
  return files;
}

}  // namespace

template <typename T>
void save_weights_npy(const MlpUNet<T>& net, const std::filesystem::path& dir) {
  std::vector<std::string> files = save_tensors(net.parameters(), false, dir);
  const Vec<T>& f = net.embedding().freqs();
  const std::vector<double> data = to_c_order(f.data(), f.size(), 1);
  write_npy(dir / "embedding.freqs.npy", data.data(), {static_cast<std::size_t>(f.size())});
  files.emplace_back("embedding.freqs.npy");
  write_file_manifest(dir, files, {{"content", "MLP-UNet weights"}});
}

template <typename T>
void save_grads_npy(const MlpUNet<T>& net, const std::filesystem::path& dir) {
  write_file_manifest(dir, save_tensors(net.parameters(), true, dir), {{"content", "MLP-UNet parameter gradients"}});
}

template <typename T>
void load_weights_npy(MlpUNet<T>& net, const std::filesystem::path& dir) {
  ParameterStore<T>& store = net.parameters();
  // A directory specbias wrote carries a manifest: verify every file's checksum before reading any of them
  // (weights exported by PyTorch have none and are read as they are).
  if (std::filesystem::exists(dir / kManifestName)) verify_file_manifest(dir);
  auto read_checked = [&](const std::string& name, const std::vector<std::size_t>& shape) {
    const std::filesystem::path path = dir / (name + ".npy");
    if (!std::filesystem::exists(path))
      throw DataError("weights: missing file '" + path.string() + "' (expected shape " + shape_text(shape) + ")");
    NpyArray a = read_npy(path);
    if (a.shape != shape)
      throw DataError("weights: '" + path.string() + "' has shape " + shape_text(a.shape) + ", the network needs " +
                      shape_text(shape));
    return a;
  };
  // Read everything first so a bad file leaves the network untouched.
  std::vector<NpyArray> arrays;
  arrays.reserve(store.tensors().size());
  for (const ParameterInfo& p : store.tensors()) arrays.push_back(read_checked(p.name, p.shape));
  const Index half = net.embedding().freqs().size();
  const NpyArray freqs = read_checked("embedding.freqs", {static_cast<std::size_t>(half)});

  std::span<T> values = store.values();
  for (std::size_t t = 0; t < arrays.size(); ++t) {
    const ParameterInfo& p = store.tensors()[t];
    T* dst = values.data() + p.offset;
    for (Index i = 0; i < p.rows; ++i)
      for (Index j = 0; j < p.cols; ++j)
        dst[i + j * p.rows] = static_cast<T>(arrays[t].data[static_cast<std::size_t>(i * p.cols + j)]);
  }
  Vec<T> f(half);
  for (Index j = 0; j < half; ++j) f(j) = static_cast<T>(freqs.data[static_cast<std::size_t>(j)]);
  net.embedding().set_freqs(f);
}

template void save_weights_npy(const MlpUNet<float>&, const std::filesystem::path&);
template void save_weights_npy(const MlpUNet<double>&, const std::filesystem::path&);
template void save_grads_npy(const MlpUNet<float>&, const std::filesystem::path&);
template void save_grads_npy(const MlpUNet<double>&, const std::filesystem::path&);
template void load_weights_npy(MlpUNet<float>&, const std::filesystem::path&);
template void load_weights_npy(MlpUNet<double>&, const std::filesystem::path&);

}  // namespace specbias::train
