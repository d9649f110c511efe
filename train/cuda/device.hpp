// CUDA runtime plumbing for the GPU trainer (issue 7; STYLE.md §10): device probing, error checks that name the
// failing call, RAII owners of device memory, streams and cuBLAS handles (members, never globals).
// Everything here is plain C++ against the CUDA runtime API; kernels live in kernels.cu.
#pragma once

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "common/errors.hpp"

namespace specbias::train::cuda {

// A failing CUDA call throws specbias::DeviceError (common/errors.hpp) naming the call and CUDA's reason.

void check(cudaError_t status, const char* what);
void check(cublasStatus_t status, const char* what);
// Checks the last kernel launch (launch configuration errors; faults surface at the next synchronising call).
void check_launch(const char* kernel);

// Whether a usable device is present, and a one-line description: the device name, compute capability and
// memory, or why none can be used (no driver, no device, insufficient driver). Never throws.
struct DeviceProbe {
  bool available = false;
  std::string description;
};
DeviceProbe probe_device();

// Owner of `size` elements of device memory. Move-only; contents uninitialised after allocation.
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t size) { resize(size); }
  ~DeviceBuffer() { release(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      release();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }

  // Reallocates only when the size changes (old contents are then lost).
  void resize(std::size_t size) {
    if (size == size_) return;
    release();
    if (size > 0) check(cudaMalloc(reinterpret_cast<void**>(&data_), size * sizeof(T)), "cudaMalloc");
    size_ = size;
  }
  [[nodiscard]] T* data() { return data_; }
  [[nodiscard]] const T* data() const { return data_; }
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] std::size_t bytes() const { return size_ * sizeof(T); }

  // Stream-ordered copies; the host side must stay alive until the stream reaches them (synchronise first when
  // it is a temporary).
  void upload(std::span<const T> host, cudaStream_t stream, std::size_t offset = 0) {
    bounds(offset, host.size(), "upload");
    check(cudaMemcpyAsync(data_ + offset, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice, stream),
          "cudaMemcpyAsync (host to device)");
  }
  void download(std::span<T> host, cudaStream_t stream, std::size_t offset = 0) const {
    bounds(offset, host.size(), "download");
    check(cudaMemcpyAsync(host.data(), data_ + offset, host.size() * sizeof(T), cudaMemcpyDeviceToHost, stream),
          "cudaMemcpyAsync (device to host)");
  }
  void zero(cudaStream_t stream) {
    if (size_ > 0) check(cudaMemsetAsync(data_, 0, bytes(), stream), "cudaMemsetAsync");
  }

 private:
  void bounds(std::size_t offset, std::size_t count, const char* what) const {
    if (offset + count > size_)
      throw DeviceError(std::string("DeviceBuffer::") + what + ": " + std::to_string(count) + " elements at offset " +
                        std::to_string(offset) + " exceed the buffer's " + std::to_string(size_));
  }
  void release() noexcept {
    if (data_ != nullptr) cudaFree(data_);
    data_ = nullptr;
    size_ = 0;
  }
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

// A non-blocking stream; everything of one trainer runs on one stream, in order.
class Stream {
 public:
  Stream();
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  [[nodiscard]] cudaStream_t get() const { return stream_; }
  void synchronize() const;

 private:
  cudaStream_t stream_ = nullptr;
};

// GEMM precision, explicit and printed at start-up (STYLE.md §10): fp32 is the default; TF32 tensor cores are
// opt-in because they round the GEMM inputs to 10-bit mantissas (≈ 1e-3 relative), outside the CPU tolerances.
enum class GemmPrecision { fp32, tf32 };
GemmPrecision parse_gemm_precision(const std::string& name);  // "fp32" | "tf32"; ConfigError otherwise
std::string to_string(GemmPrecision p);

// A cuBLAS handle bound to one stream.
class Blas {
 public:
  Blas(const Stream& stream, GemmPrecision precision);
  ~Blas();
  Blas(const Blas&) = delete;
  Blas& operator=(const Blas&) = delete;
  [[nodiscard]] cublasHandle_t get() const { return handle_; }
  [[nodiscard]] GemmPrecision precision() const { return precision_; }

  // Column-major C (m×n) = α op(A) op(B) + β C, float, like Eigen's storage (features × batch).
  void gemm(bool transpose_a, bool transpose_b, int m, int n, int k, float alpha, const float* A, int lda,
            const float* B, int ldb, float beta, float* C, int ldc) const;
  // The same in double (the streamed statistics).
  void gemm(bool transpose_a, bool transpose_b, int m, int n, int k, double alpha, const double* A, int lda,
            const double* B, int ldb, double beta, double* C, int ldc) const;
  // y = α op(A) x + β y (row sums of a gradient are A·1: bias and LayerNorm gradients).
  void gemv(bool transpose_a, int m, int n, float alpha, const float* A, int lda, const float* x, float beta,
            float* y) const;
  void gemv(bool transpose_a, int m, int n, double alpha, const double* A, int lda, const double* x, double beta,
            double* y) const;
  // C (lower triangle) += α x xᵀ, double (the Chan merge's rank-one term).
  void syr_lower(int n, double alpha, const double* x, double* C, int ldc) const;
  // C (n×n, lower triangle) = α A Aᵀ + β C, A n×k, double.
  void syrk_lower(int n, int k, double alpha, const double* A, int lda, double beta, double* C, int ldc) const;

 private:
  cublasHandle_t handle_ = nullptr;
  GemmPrecision precision_;
  DeviceBuffer<unsigned char> workspace_;  // cuBLAS's workspace, set once: graph capture must not allocate
};

}  // namespace specbias::train::cuda
