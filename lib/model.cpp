// Everything that touches libtorch lives in this file.
#include "model.h"

#include <sys/stat.h>

#include <sstream>

#include <opencv2/core.hpp>
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>

#include "error.h"

namespace ptjs {
namespace {

std::string first_line(const std::string& text) {
  const auto end = text.find('\n');
  return end == std::string::npos ? text : text.substr(0, end);
}

const char* datatype_of(at::ScalarType type) {
  switch (type) {
    case at::kFloat: return "FP32";
    case at::kDouble: return "FP64";
    case at::kHalf: return "FP16";
    case at::kBFloat16: return "BF16";
    case at::kLong: return "INT64";
    case at::kInt: return "INT32";
    case at::kShort: return "INT16";
    case at::kChar: return "INT8";
    case at::kByte: return "UINT8";
    case at::kBool: return "BOOL";
    default: return nullptr;
  }
}

at::ScalarType scalar_type_of(const std::string& datatype) {
  if (datatype == "FP32") return at::kFloat;
  if (datatype == "FP64") return at::kDouble;
  if (datatype == "FP16") return at::kHalf;
  if (datatype == "BF16") return at::kBFloat16;
  if (datatype == "INT64") return at::kLong;
  if (datatype == "INT32") return at::kInt;
  if (datatype == "INT16") return at::kShort;
  if (datatype == "INT8") return at::kChar;
  if (datatype == "UINT8") return at::kByte;
  if (datatype == "BOOL") return at::kBool;
  throw error(error_code::invalid_input, "unsupported datatype '" + datatype + "'");
}

host_tensor to_host(const at::Tensor& tensor, const std::string& name) {
  at::Tensor t = tensor.to(at::kCPU).contiguous();
  const char* datatype = datatype_of(t.scalar_type());
  if (datatype == nullptr) {
    t = t.to(at::kFloat);
    datatype = "FP32";
  }
  host_tensor out;
  out.name = name;
  out.datatype = datatype;
  out.shape.assign(t.sizes().begin(), t.sizes().end());
  const auto* bytes = static_cast<const char*>(t.data_ptr());
  out.data.assign(bytes, bytes + t.numel() * t.element_size());
  return out;
}

void collect_outputs(const c10::IValue& value, std::vector<host_tensor>& out) {
  const auto next_name = [&] { return "output" + std::to_string(out.size()); };
  if (value.isTensor()) {
    out.push_back(to_host(value.toTensor(), next_name()));
  } else if (value.isTuple()) {
    for (const auto& element : value.toTupleRef().elements()) collect_outputs(element, out);
  } else if (value.isList()) {
    for (const auto& element : value.toListRef()) collect_outputs(element, out);
  } else if (value.isGenericDict()) {
    for (const auto& entry : value.toGenericDict()) collect_outputs(entry.value(), out);
  } else {
    throw error(error_code::internal, "the model returned " + value.tagKind() +
                                          ", expected a tensor or a tuple/list/dict of tensors");
  }
}

}  // namespace

struct model::impl {
  torch::jit::Module module;
  torch::Device device{torch::kCPU};
  model_info info;

  std::vector<host_tensor> forward(std::vector<c10::IValue> inputs) {
    c10::InferenceMode guard;
    c10::IValue result;
    try {
      result = module.forward(std::move(inputs));
    } catch (const c10::Error& e) {
      throw error(error_code::internal, "model forward failed: " + first_line(e.what_without_backtrace()));
    } catch (const std::exception& e) {
      throw error(error_code::internal, std::string("model forward failed: ") + first_line(e.what()));
    }
    std::vector<host_tensor> out;
    collect_outputs(result, out);
    if (out.empty()) throw error(error_code::internal, "the model returned no tensor");
    return out;
  }
};

model::model(const std::string& path, const std::string& device) : impl_(std::make_unique<impl>()) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    throw error(error_code::not_found, "cannot load model '" + path + "': no such file");
  try {
    impl_->device = torch::Device(device);
  } catch (const c10::Error&) {
    throw error(error_code::invalid_config, "bad device '" + device + "' (accepted: cpu, cuda, cuda:N)");
  }
  if (impl_->device.is_cuda() && !torch::cuda::is_available())
    throw error(error_code::invalid_config,
                "device '" + device + "' asked for, but " +
                    (!at::globalContext().hasCUDA()
                         ? std::string("this build of libtorch has no CUDA support")
                         : std::string("no CUDA device is visible")) + "; use --device cpu");
  torch::jit::ExtraFilesMap extra{{"ptjs.yaml", ""}};
  try {
    impl_->module = torch::jit::load(path, impl_->device, extra);
  } catch (const c10::Error& e) {
    throw error(error_code::invalid_config,
                "cannot load model '" + path + "' with libtorch " + TORCH_VERSION + ": " +
                    first_line(e.what_without_backtrace()) +
                    " (is it a TorchScript file from torch.jit.save, from a torch version this libtorch reads?)");
  }
  impl_->module.eval();

  auto& info = impl_->info;
  info.path = path;
  info.device = device;
  info.embedded_spec = extra["ptjs.yaml"];
  info.libtorch_version = TORCH_VERSION;
  for (const auto& method : impl_->module.get_methods()) info.methods.push_back(method.name());
  if (const auto forward = impl_->module.find_method("forward")) {
    const auto& schema = forward->function().getSchema();
    std::ostringstream text;
    text << schema;
    info.forward_schema = text.str();
    for (size_t i = 1; i < schema.arguments().size(); ++i) info.input_names.push_back(schema.arguments()[i].name());
  } else {
    throw error(error_code::invalid_config, "model '" + path + "' has no forward method");
  }
}

model::~model() = default;

const model_info& model::info() const { return impl_->info; }

std::vector<host_tensor> model::forward_images(const std::vector<const sample*>& batch) const {
  if (batch.empty()) return {};
  const cv::Mat& first = batch.front()->mat;
  const int channels = first.channels();
  const int depth = first.depth();
  if (depth != CV_32F && depth != CV_8U)
    throw error(error_code::internal, "preprocessing produced an unsupported element type");
  const auto options = torch::TensorOptions().dtype(depth == CV_32F ? at::kFloat : at::kByte);
  at::Tensor input = torch::empty({static_cast<int64_t>(batch.size()), channels, first.rows, first.cols}, options);
  const size_t plane_bytes = static_cast<size_t>(first.rows) * first.cols * first.elemSize1();
  auto* base = static_cast<char*>(input.data_ptr());
  for (size_t n = 0; n < batch.size(); ++n) {
    const cv::Mat& mat = batch[n]->mat;
    if (mat.size() != first.size() || mat.type() != first.type())
      throw error(error_code::internal, "samples of different shapes cannot share a batch");
    std::vector<cv::Mat> planes;
    for (int c = 0; c < channels; ++c)
      planes.emplace_back(mat.rows, mat.cols, depth, base + (n * channels + c) * plane_bytes);
    cv::split(mat, planes);  // HWC -> CHW straight into the batch tensor
  }
  if (!impl_->device.is_cpu()) input = input.to(impl_->device);
  return impl_->forward({input});
}

std::vector<host_tensor> model::forward_tensors(const std::vector<host_tensor>& inputs) const {
  std::vector<c10::IValue> values;
  for (const auto& in : inputs) {
    const auto type = scalar_type_of(in.datatype);
    at::Tensor t = torch::empty(in.shape, torch::TensorOptions().dtype(type));
    if (static_cast<size_t>(t.numel() * t.element_size()) != in.data.size())
      throw error(error_code::invalid_input, "input '" + in.name + "' holds " + std::to_string(in.data.size()) +
                                                 " bytes, its shape needs " + std::to_string(t.numel() * t.element_size()));
    std::memcpy(t.data_ptr(), in.data.data(), in.data.size());
    if (!impl_->device.is_cpu()) t = t.to(impl_->device);
    values.emplace_back(t);
  }
  return impl_->forward(std::move(values));
}

void set_torch_threads(int threads) {
  if (threads > 0) at::set_num_threads(threads);
}

int torch_threads() { return at::get_num_threads(); }

}  // namespace ptjs
