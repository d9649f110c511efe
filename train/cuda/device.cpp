#include "train/cuda/device.hpp"

#include <fmt/format.h>

#include "common/errors.hpp"

namespace specbias::train::cuda {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw DeviceError(fmt::format("{} failed: {} ({})", what, cudaGetErrorString(status), cudaGetErrorName(status)));
}

void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw DeviceError(fmt::format("{} failed: {} ({})", what, cublasGetStatusString(status), cublasGetStatusName(status)));
}

void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

DeviceProbe probe_device() {
  DeviceProbe probe;
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    probe.description = fmt::format("no usable CUDA device: {} ({})", cudaGetErrorString(status), cudaGetErrorName(status));
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
    return probe;
  }
  if (count == 0) {
    probe.description = "no CUDA device found";
    return probe;
  }
  int device = 0;
  cudaDeviceProp prop{};
  if (cudaGetDevice(&device) != cudaSuccess || cudaGetDeviceProperties(&prop, device) != cudaSuccess) {
    probe.description = "a CUDA device is present but its properties cannot be read";
    cudaGetLastError();
    return probe;
  }
  int runtime = 0, driver = 0;
  cudaRuntimeGetVersion(&runtime);
  cudaDriverGetVersion(&driver);
  probe.available = true;
  probe.description = fmt::format("{} (sm_{}{}, {:.1f} GiB, {} SMs; CUDA runtime {}.{}, driver {}.{})", prop.name,
                                  prop.major, prop.minor, static_cast<double>(prop.totalGlobalMem) / (1 << 30),
                                  prop.multiProcessorCount, runtime / 1000, (runtime % 1000) / 10, driver / 1000,
                                  (driver % 1000) / 10);
  return probe;
}

Stream::Stream() { check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags"); }
Stream::~Stream() {
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}
void Stream::synchronize() const { check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize"); }

GemmPrecision parse_gemm_precision(const std::string& name) {
  if (name == "fp32") return GemmPrecision::fp32;
  if (name == "tf32") return GemmPrecision::tf32;
  throw ConfigError("gemm precision \"" + name + "\" is not one of: fp32, tf32");
}

std::string to_string(GemmPrecision p) { return p == GemmPrecision::tf32 ? "tf32" : "fp32"; }

Blas::Blas(const Stream& stream, GemmPrecision precision) : precision_(precision) {
  check(cublasCreate(&handle_), "cublasCreate");
  check(cublasSetStream(handle_, stream.get()), "cublasSetStream");
  check(cublasSetPointerMode(handle_, CUBLAS_POINTER_MODE_HOST), "cublasSetPointerMode");
  // 32 MiB, what NVIDIA recommends for Hopper; a user workspace keeps cuBLAS from allocating inside graph capture.
  workspace_.resize(std::size_t{32} << 20);
  check(cublasSetWorkspace(handle_, workspace_.data(), workspace_.bytes()), "cublasSetWorkspace");
  // CUBLAS_PEDANTIC_MATH keeps fp32 products in fp32 even where cuBLAS would pick TF32 on its own.
  check(cublasSetMathMode(handle_, precision == GemmPrecision::tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH),
        "cublasSetMathMode");
}

Blas::~Blas() {
  if (handle_ != nullptr) cublasDestroy(handle_);
}

namespace {
cublasOperation_t op(bool transpose) { return transpose ? CUBLAS_OP_T : CUBLAS_OP_N; }
}  // namespace

void Blas::gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* A, int lda, const float* B, int ldb,
                float beta, float* C, int ldc) const {
  check(cublasSgemm(handle_, op(ta), op(tb), m, n, k, &alpha, A, lda, B, ldb, &beta, C, ldc), "cublasSgemm");
}

void Blas::gemm(bool ta, bool tb, int m, int n, int k, double alpha, const double* A, int lda, const double* B,
                int ldb, double beta, double* C, int ldc) const {
  check(cublasDgemm(handle_, op(ta), op(tb), m, n, k, &alpha, A, lda, B, ldb, &beta, C, ldc), "cublasDgemm");
}

void Blas::gemv(bool ta, int m, int n, float alpha, const float* A, int lda, const float* x, float beta,
                float* y) const {
  check(cublasSgemv(handle_, op(ta), m, n, &alpha, A, lda, x, 1, &beta, y, 1), "cublasSgemv");
}

void Blas::gemv(bool ta, int m, int n, double alpha, const double* A, int lda, const double* x, double beta,
                double* y) const {
  check(cublasDgemv(handle_, op(ta), m, n, &alpha, A, lda, x, 1, &beta, y, 1), "cublasDgemv");
}

void Blas::syr_lower(int n, double alpha, const double* x, double* C, int ldc) const {
  check(cublasDsyr(handle_, CUBLAS_FILL_MODE_LOWER, n, &alpha, x, 1, C, ldc), "cublasDsyr");
}

void Blas::syrk_lower(int n, int k, double alpha, const double* A, int lda, double beta, double* C, int ldc) const {
  check(cublasDsyrk(handle_, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, n, k, &alpha, A, lda, &beta, C, ldc), "cublasDsyrk");
}

}  // namespace specbias::train::cuda
