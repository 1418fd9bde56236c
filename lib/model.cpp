// The model facade: checks the device and precision, picks the backend for the file's format
// (model_backend.h), collates image batches into tensors, and sets libtorch's threads.
#include "model.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include <opencv2/core.hpp>
#include <ATen/Parallel.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "error.h"
#include "model_backend.h"
#include "torch_values.h"
#include "torch_warnings.h"

namespace ptjs {
namespace {

at::ScalarType parse_precision(const std::string& precision, const torch::Device& device) {
  if (precision == "fp32") return at::kFloat;
  if (precision == "bf16") return at::kBFloat16;
  if (precision == "fp16") {
    if (!device.is_cuda())
      throw error(error_code::invalid_config, "precision fp16 needs a CUDA device (got device " + device.str() +
                                                  "); use fp32, or bf16 on CPU");
    return at::kHalf;
  }
  throw error(error_code::invalid_config, "bad precision '" + precision + "' (accepted: fp32, fp16, bf16)");
}

// Moves a host batch to the model: pinned staging and a non-blocking copy on CUDA, and the
// cast to the model's precision for floating inputs.
at::Tensor to_model(at::Tensor t, const backend_settings& settings) {
  if (!settings.device.is_cpu()) t = t.pin_memory().to(settings.device, /*non_blocking=*/true);
  if (settings.precision != at::kFloat && t.is_floating_point()) t = t.to(settings.precision);
  return t;
}

}  // namespace

model_format detect_model_format(const std::string& path) {
  std::vector<std::string> records;
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    records = reader.getAllRecords();
  } catch (const c10::Error&) {
    return model_format::torchscript;  // not a torch archive: TorchScript's loader says why
  }
  const bool pt2 = std::find(records.begin(), records.end(), "archive_format") != records.end();
  if (!pt2) return model_format::torchscript;
  for (const auto& name : records)
    if (name.rfind("data/aotinductor/", 0) == 0) return model_format::aoti;
  throw error(error_code::invalid_config,
              "'" + path + "' is a PT2 archive without compiled code (an ExportedProgram from torch.export.save?): "
              "ptjs runs AOTInductor packages; compile it with torch._inductor.aoti_compile_and_package, "
              "or use scripts/ptjs_export.py --format pt2");
}

struct model::impl {
  std::unique_ptr<model_backend> backend;
  backend_settings settings;
  model_info info;       // the backend's, with the path, device and libtorch version
  bool planned = false;  // the first batch has gone through backend->first_forward

  std::vector<host_tensor> run(std::vector<at::Tensor> inputs, bool images) {
    if (planned) return backend->forward(std::move(inputs));
    planned = true;
    return backend->first_forward(std::move(inputs), images);
  }
};

model::model(const std::string& path, const model_options& options) : impl_(std::make_unique<impl>()) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    throw error(error_code::not_found, "cannot load model '" + path + "': no such file");
  auto& settings = impl_->settings;
  try {
    settings.device = torch::Device(options.device);
  } catch (const c10::Error&) {
    throw error(error_code::invalid_config, "bad device '" + options.device + "' (accepted: cpu, cuda, cuda:N)");
  }
  if (settings.device.is_cuda() && !torch::cuda::is_available())
    throw error(error_code::invalid_config,
                "device '" + options.device + "' asked for, but " +
                    // hasCUDA() is false both for a CPU-only libtorch and for a CUDA one with
                    // no driver or device (scripts/gpu/build-cuda.sh's build run here): say both.
                    (!at::globalContext().hasCUDA() ? std::string("this build of libtorch (") + TORCH_VERSION +
                                                          ") has no CUDA support, or no CUDA driver and device are visible"
                                                    : std::string("no CUDA device is visible")) +
                    "; use --device cpu");
  if (settings.device.is_cuda() && settings.device.has_index() &&
      settings.device.index() >= static_cast<int>(torch::cuda::device_count()))
    throw error(error_code::invalid_config, "device '" + options.device + "' asked for, but only " +
                                                std::to_string(torch::cuda::device_count()) + " CUDA device(s) exist");
  settings.precision = parse_precision(options.precision, settings.device);

  impl_->backend = detect_model_format(path) == model_format::aoti ? load_aoti(path, settings)
                                                                    : load_torchscript(path, settings);
  auto& info = impl_->info;
  info = impl_->backend->info();
  info.path = path;
  info.device = options.device;
  info.libtorch_version = TORCH_VERSION;
}

model::~model() = default;

const model_info& model::info() const { return impl_->info; }

std::vector<host_tensor> model::forward_images(const std::vector<const sample*>& batch) const {
  if (batch.empty()) return {};
  const warning_handler_scope warnings(warn_once());  // each message once
  const cv::Mat& first = batch.front()->mat;
  const int channels = first.channels();
  const int depth = first.depth();
  if (depth != CV_32F && depth != CV_8U)
    throw error(error_code::internal, "preprocessing produced an unsupported element type");
  const auto options = torch::TensorOptions().dtype(depth == CV_32F ? at::kFloat : at::kByte);
  // Channels-last: each sample's HWC rows are the batch tensor's memory as they are.
  const bool nhwc = impl_->backend->channels_last();
  at::Tensor input = torch::empty({static_cast<int64_t>(batch.size()), channels, first.rows, first.cols},
                                  nhwc ? options.memory_format(at::MemoryFormat::ChannelsLast) : options);
  const size_t plane_bytes = static_cast<size_t>(first.rows) * first.cols * first.elemSize1();
  auto* base = static_cast<char*>(input.data_ptr());
  for (size_t n = 0; n < batch.size(); ++n) {
    const cv::Mat& mat = batch[n]->mat;
    if (mat.size() != first.size() || mat.type() != first.type())
      throw error(error_code::internal, "samples of different shapes cannot share a batch");
    if (nhwc) {
      mat.copyTo(cv::Mat(mat.rows, mat.cols, mat.type(), base + n * channels * plane_bytes));
      continue;
    }
    std::vector<cv::Mat> planes;
    for (int c = 0; c < channels; ++c)
      planes.emplace_back(mat.rows, mat.cols, depth, base + (n * channels + c) * plane_bytes);
    cv::split(mat, planes);  // HWC -> CHW straight into the batch tensor
  }
  return impl_->run({to_model(input, impl_->settings)}, true);
}

void model::set_optimize(bool optimize) { impl_->backend->set_optimize(optimize); }

std::string model::execution_plan() const { return impl_->backend->execution_plan(); }

std::vector<host_tensor> model::forward_tensors(const std::vector<host_tensor>& inputs) const {
  const warning_handler_scope warnings(warn_once());  // each message once
  std::vector<at::Tensor> values;
  for (const auto& in : inputs) {
    const auto type = scalar_type_of(in.datatype);
    at::Tensor t = torch::empty(in.shape, torch::TensorOptions().dtype(type));
    if (static_cast<size_t>(t.numel() * t.element_size()) != in.data.size())
      throw error(error_code::invalid_input, "input '" + in.name + "' holds " + std::to_string(in.data.size()) +
                                                 " bytes, its shape needs " + std::to_string(t.numel() * t.element_size()));
    std::memcpy(t.data_ptr(), in.data.data(), in.data.size());
    values.push_back(to_model(t, impl_->settings));
  }
  return impl_->run(std::move(values), false);
}

void set_torch_threads(int threads) { at::set_num_threads(threads > 0 ? threads : default_torch_threads()); }

int default_preprocess_threads(const std::string& device) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // On a GPU the forward leaves the cores idle: every core but the batching thread's decodes.
  if (is_cuda(device)) return std::max(1, cores - 1);
  return std::max(1, cores / 4);
}

int default_torch_threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

int torch_threads() { return at::get_num_threads(); }

bool is_cuda(const std::string& device) { return device.rfind("cuda", 0) == 0; }

int lanes_for(int lanes, int threads) { return lanes > 0 ? lanes : threads > 0 ? 1 : default_torch_threads(); }

int threads_per_forward(int lanes, int threads) { return lanes > 1 && threads == 0 ? 1 : threads; }

}  // namespace ptjs
