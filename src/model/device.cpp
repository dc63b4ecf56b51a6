#include "model/device.h"

#include <ATen/autocast_mode.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <malloc.h>

#include <climits>
#include <mutex>

#include "common/error.h"

namespace codealign::model {

torch::Device resolve_device(const std::string& spec) {
  int64_t gpus = torch::cuda::is_available() ? int64_t(torch::cuda::device_count()) : 0;
  if (spec == "auto") return gpus > 0 ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (spec == "cpu") return torch::kCPU;
  if (spec != "cuda" && spec.rfind("cuda:", 0) != 0)
    throw Error("--device '" + spec + "' is unknown (valid: auto, cpu, cuda, cuda:N)");
  int64_t index = 0;
  if (spec != "cuda") {
    std::string digits = spec.substr(5);
    if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string::npos)
      throw Error("--device '" + spec + "': the GPU index must be a number (e.g. cuda:0)");
    index = std::stoll(digits);
  }
  if (gpus == 0)
    throw Error("--device " + spec + ": torch sees no CUDA GPU on this machine (no driver, no device, or "
                "CUDA_VISIBLE_DEVICES hides them); use --device cpu or auto");
  if (index >= gpus)
    throw Error("--device " + spec + ": torch sees " + std::to_string(gpus) + " GPU(s), numbered from 0");
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

torch::Dtype resolve_dtype(const std::string& spec, const torch::Device& device) {
  if (spec == "auto") return device.is_cuda() ? torch::kBFloat16 : torch::kFloat32;
  if (spec == "float32") return torch::kFloat32;
  if (spec == "bfloat16") return torch::kBFloat16;
  if (spec == "float16") return torch::kFloat16;
  throw Error("--dtype '" + spec + "' is unknown (valid: auto, float32, bfloat16, float16)");
}

std::string dtype_name(torch::Dtype dtype) {
  return dtype == torch::kBFloat16 ? "bfloat16" : dtype == torch::kFloat16 ? "float16" : "float32";
}

MixedPrecision::MixedPrecision(const torch::Device& device, torch::Dtype dtype)
    : type_(device.type()), enabled_(dtype != torch::kFloat32) {
  if (!enabled_) return;
  was_enabled_ = at::autocast::is_autocast_enabled(type_);
  was_dtype_ = at::autocast::get_autocast_dtype(type_);
  at::autocast::set_autocast_dtype(type_, dtype);
  at::autocast::set_autocast_enabled(type_, true);
  at::autocast::increment_nesting();
}

MixedPrecision::~MixedPrecision() {
  if (!enabled_) return;
  // The weights' low-precision copies are cached for the scope; the outermost scope frees them.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(type_, was_enabled_);
  at::autocast::set_autocast_dtype(type_, was_dtype_);
}

void reuse_freed_cpu_memory() {
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest: below it, blocks come from the heap
    mallopt(M_TRIM_THRESHOLD, INT_MAX);   // and its free top is never given back
    mallopt(M_TOP_PAD, 16 << 20);         // grown in steps of 16 MiB, not page by page
  });
}

int64_t peak_memory_bytes(const torch::Device& device) {
  if (!device.is_cuda()) return 0;
  auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
  return stats.allocated_bytes[size_t(c10::CachingAllocator::StatType::AGGREGATE)].peak;
}

void reset_peak_memory(const torch::Device& device) {
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
}

}  // namespace codealign::model
