// Everything that touches libtorch lives in this file.
#include "model.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <opencv2/core.hpp>
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>
#include <torch/version.h>
#ifdef PTJS_HAVE_AOTI
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#endif

#include "error.h"
#include "log.h"

namespace ptjs {
namespace {

// The line of a libtorch message worth showing: errors raised inside TorchScript code start
// with a fixed header and a traceback, and carry the reason on their last line.
std::string first_line(const std::string& text) {
  if (text.rfind("The following operation failed in the TorchScript interpreter", 0) == 0) {
    size_t end = text.find_last_not_of(" \n");
    if (end != std::string::npos) {
      const size_t start = text.find_last_of('\n', end);
      return text.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
    }
  }
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
    // None inside a tuple, list or dict is an optional output left out (GoogLeNet's scripted
    // outputs in eval mode: logits, None, None): it takes no name.
    for (const auto& element : value.toTupleRef().elements())
      if (!element.isNone()) collect_outputs(element, out);
  } else if (value.isList()) {
    for (const auto& element : value.toListRef())
      if (!element.isNone()) collect_outputs(element, out);
  } else if (value.isGenericDict()) {
    for (const auto& entry : value.toGenericDict())
      if (!entry.value().isNone()) collect_outputs(entry.value(), out);
  } else {
    throw error(error_code::internal, "the model returned " + value.tagKind() +
                                          ", expected a tensor or a tuple/list/dict of tensors");
  }
}

// Why a TorchScript file did not load, with both versions when it looks like a newer exporter.
std::string load_failure(const std::string& path, const std::string& reason) {
  std::string hint = " (is it a TorchScript file from torch.jit.save?)";
  if (reason.find("version") != std::string::npos || reason.find("Unknown builtin op") != std::string::npos ||
      reason.find("schema") != std::string::npos)
    hint = " (the file was probably saved by a newer torch than this libtorch " + std::string(TORCH_VERSION) +
           " reads: re-export with an older torch, or build ptjs against a newer libtorch)";
  return "cannot load model '" + path + "' with libtorch " + TORCH_VERSION + ": " + reason + hint;
}

// Installs `handler` as the calling thread's libtorch warning handler while it lives: c10's
// handler is a per-thread pointer (in 1.13 as in 2.x), so this needs no lock and leaves other
// threads alone.
class warning_handler_scope {
 public:
  explicit warning_handler_scope(c10::WarningHandler* handler) { set(handler); }
  ~warning_handler_scope() { set(previous_); }
  warning_handler_scope(const warning_handler_scope&) = delete;
  warning_handler_scope& operator=(const warning_handler_scope&) = delete;

 private:
#if TORCH_VERSION_MAJOR >= 2
  static void set(c10::WarningHandler* h) { c10::WarningUtils::set_warning_handler(h); }
  c10::WarningHandler* previous_ = c10::WarningUtils::get_warning_handler();
#else
  static void set(c10::WarningHandler* h) { c10::Warning::set_warning_handler(h); }
  c10::WarningHandler* previous_ = c10::Warning::get_warning_handler();
#endif
};

// Swallows warnings: a rejected candidate's complaints are not the user's business.
class silent_warnings : public c10::WarningHandler {
 public:
  static silent_warnings& instance() {
    static auto* handler = new silent_warnings;  // never destroyed, as warn_once below
    return *handler;
  }
#if TORCH_VERSION_MAJOR >= 2
  void process(const c10::Warning&) override {}
#else
  void process(const c10::SourceLocation&, const std::string&, const bool) override {}
#endif
};

// The model's own warnings (`warnings.warn` in TorchScript, operators' TORCH_WARN) reach stderr
// once per distinct message and place, as Python's default warnings filter shows them. libtorch's
// own handler logs every one through glog, a line per forward for a model that warns in it.
class warn_once : public c10::WarningHandler {
 public:
  static warn_once& instance() {
    static auto* handler = new warn_once;  // never destroyed: a lane may still warn at exit
    return *handler;
  }
#if TORCH_VERSION_MAJOR >= 2
  void process(const c10::Warning& w) override { report(w.source_location(), w.msg()); }
#else
  void process(const c10::SourceLocation& where, const std::string& msg, const bool) override { report(where, msg); }
#endif

 private:
  void report(const c10::SourceLocation& where, const std::string& msg) {
    std::string place;
    if (where.file != nullptr && *where.file != '\0') place = std::string(where.file) + ":" + std::to_string(where.line);
    std::lock_guard<std::mutex> lock(mu_);
    if (seen_.size() > max_shown || !seen_.insert(place + "\n" + msg).second) return;
    if (seen_.size() > max_shown) {
      log_line("ptjs: model warning: more than " + std::to_string(max_shown) + " different warnings; no more are shown");
      return;
    }
    log_line("ptjs: model warning: " + msg + (place.empty() ? "" : " (" + place + ")"));
  }
  static constexpr size_t max_shown = 64;  // a model that puts a counter in its message
  std::mutex mu_;
  std::set<std::string> seen_;
};

// Whether a candidate's outputs equal the reference's: same names, types and shapes; integers
// exactly, floating point within 1e-4 of the largest reference magnitude (at least 1).
bool same_outputs(const std::vector<host_tensor>& a, const std::vector<host_tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].datatype != b[i].datatype || a[i].shape != b[i].shape || a[i].data.size() != b[i].data.size()) return false;
    if (a[i].datatype != "FP32") {
      if (a[i].data != b[i].data) return false;
      continue;
    }
    const auto* x = reinterpret_cast<const float*>(a[i].data.data());
    const auto* y = reinterpret_cast<const float*>(b[i].data.data());
    const size_t n = a[i].data.size() / sizeof(float);
    float largest = 1.0f;
    for (size_t k = 0; k < n; ++k) largest = std::max(largest, std::abs(y[k]));
    for (size_t k = 0; k < n; ++k)
      if (!(std::abs(x[k] - y[k]) <= 1e-4f * largest)) return false;
  }
  return true;
}

}  // namespace

struct model::impl {
  torch::jit::Module module;
#ifdef PTJS_HAVE_AOTI
  std::unique_ptr<torch::inductor::AOTIModelPackageLoader> aoti;
#endif
  torch::Device device{torch::kCPU};
  at::ScalarType precision = at::kFloat;
  model_info info;
  bool optimize = true;        // may plan_with replace the module by a faster equivalent
  bool planned = false;        // plan_with has run
  bool channels_last = false;  // image batches go in as NHWC memory
  std::string plan = "as loaded";

  // Moves a host batch to the model: pinned staging and a non-blocking copy on CUDA, and the
  // cast to the model's precision for floating inputs.
  at::Tensor to_model(at::Tensor t) const {
    if (!device.is_cpu()) t = t.pin_memory().to(device, /*non_blocking=*/true);
    if (precision != at::kFloat && t.is_floating_point()) t = t.to(precision);
    return t;
  }

  std::vector<host_tensor> forward(std::vector<at::Tensor> inputs) { return forward_with(module, std::move(inputs)); }

  std::vector<host_tensor> forward_with(torch::jit::Module& net, std::vector<at::Tensor> inputs) const {
    c10::InferenceMode guard;
    std::vector<host_tensor> out;
    try {
#ifdef PTJS_HAVE_AOTI
      if (aoti) {
        for (const auto& t : aoti->run(inputs)) out.push_back(to_host(t, "output" + std::to_string(out.size())));
        return out;
      }
#endif
      std::vector<c10::IValue> values(inputs.begin(), inputs.end());
      collect_outputs(net.forward(std::move(values)), out);
    } catch (const error&) {
      throw;
    } catch (const c10::Error& e) {
      throw error(error_code::internal, "model forward failed: " + first_line(e.what_without_backtrace()));
    } catch (const std::exception& e) {
      throw error(error_code::internal, std::string("model forward failed: ") + first_line(e.what()));
    }
    if (out.empty()) throw error(error_code::internal, "the model returned no tensor");
    return out;
  }

  // The first image batch runs the module as loaded; its outputs are the reference that decides
  // how later batches run (CPU, fp32 TorchScript only). Candidates, in this order: the module
  // frozen (torch.jit.freeze: weights become constants, batch norms fold into convolutions)
  // with its 4-D weights and the input in channels-last memory, then frozen as it is. The first
  // whose outputs on this batch match the reference (same shapes; within 1e-4 of the largest
  // magnitude) is kept, else the module runs as loaded. The choice depends only on the model
  // and the batch, never on timings, so two runs of one model answer with the same bytes.
  // Measured (Python, same libtorch, 2 cores, images/s, as loaded -> frozen channels-last):
  // resnet18 batch 1 44 -> 64, batch 8 24 -> 92; mobilenet_v3_small batch 1 50 -> 200-258,
  // batch 8 81 -> 567-738. Left out: a channels-last input without channels-last weights
  // (resnet18 batch 1: 6 images/s, every convolution reorders its weights), and
  // optimize_for_inference (oneDNN layouts; libtorch 1.13 gets mobilenet_v3_small's logits
  // wrong by ~2.5 with it, and it is no faster than the above on resnet18).
  // Tensor models (forward_tensors) get the same with "frozen" only, their inputs as sent.
  // The reference forward runs without the graph executor's optimisations: it is only
  // compared with, and the executor's first optimisation of the graph as loaded cost more than
  // the rest of the plan together (mobilenet_v3_small: 0.26 s of 0.6 s, 0.07 s without).
  // When no candidate matches, the module as loaded answers this batch again, optimised, as
  // it answers every later one.
  std::vector<host_tensor> plan_with(std::vector<at::Tensor> inputs, bool images) {
    if (!optimize || !device.is_cpu() || precision != at::kFloat || info.format != "torchscript") {
      auto out = forward(inputs);
      planned = true;
      return out;
    }
    std::vector<host_tensor> reference;
    {
      torch::jit::GraphOptimizerEnabledGuard unoptimised(false);  // per thread
      reference = forward(inputs);  // a batch the model fails on leaves the choice to the next
    }
    planned = true;
    struct candidate {
      const char* name;
      bool channels_last;
    };
    const candidate candidates[] = {{"frozen, channels-last", true}, {"frozen", false}};
    const torch::jit::Module loaded = module;
    const warning_handler_scope quiet(&silent_warnings::instance());
    for (const auto& c : candidates) {
      if (c.channels_last && !(images && inputs.size() == 1 && inputs[0].dim() == 4)) continue;
      try {
        torch::jit::Module copy = loaded.clone();
        if (c.channels_last) {
          c10::NoGradGuard no_grad;
          for (auto t : copy.parameters())
            if (t.dim() == 4) t.set_data(t.contiguous(at::MemoryFormat::ChannelsLast));
          for (auto t : copy.buffers())
            if (t.dim() == 4) t.set_data(t.contiguous(at::MemoryFormat::ChannelsLast));
        }
        torch::jit::Module net = torch::jit::freeze(copy);
        auto xs = inputs;
        if (c.channels_last) xs[0] = xs[0].contiguous(at::MemoryFormat::ChannelsLast);
        if (!same_outputs(forward_with(net, xs), reference)) continue;
        module = net;
        channels_last = c.channels_last;
        plan = c.name;
        // This batch's answer comes from the module every later batch runs: a rerun of the
        // same inputs (ptjs run --resume, a retried request) gives the same bytes.
        return forward(xs);
      } catch (const std::exception&) {
        continue;  // cloning, freezing or the candidate's forward failed: the next, or as loaded
      }
    }
    return forward(inputs);
  }

  void load_torchscript(const std::string& path) {
    torch::jit::ExtraFilesMap extra{{"ptjs.yaml", ""}};
    try {
      module = torch::jit::load(path, device, extra);
    } catch (const c10::Error& e) {
      throw error(error_code::invalid_config, load_failure(path, first_line(e.what_without_backtrace())));
    }
    module.eval();
    if (precision != at::kFloat) module.to(precision);
    info.embedded_spec = extra["ptjs.yaml"];
    info.format = "torchscript";
    for (const auto& method : module.get_methods()) info.methods.push_back(method.name());
    const auto forward_method = module.find_method("forward");
    if (!forward_method) throw error(error_code::invalid_config, "model '" + path + "' has no forward method");
    const auto& schema = forward_method->function().getSchema();
    std::ostringstream text;
    text << schema;
    info.forward_schema = text.str();
    for (size_t i = 1; i < schema.arguments().size(); ++i) info.input_names.push_back(schema.arguments()[i].name());
  }

  void load_aoti(const std::string& path) {
#ifdef PTJS_HAVE_AOTI
    try {
      aoti = std::make_unique<torch::inductor::AOTIModelPackageLoader>(path);
    } catch (const std::exception& e) {
      throw error(error_code::invalid_config, "cannot load AOTInductor package '" + path + "' with libtorch " +
                                                  TORCH_VERSION + ": " + first_line(e.what()));
    }
    info.format = "aoti";
    info.methods = {"forward"};
    info.forward_schema = "AOTInductor package (inputs and outputs as compiled)";
    info.input_names = {"input0"};
#else
    throw error(error_code::invalid_config,
                "'" + path + "' is an AOTInductor package (.pt2); this ptjs was built with libtorch " + TORCH_VERSION +
                    ", and .pt2 packages need libtorch >= 2.6: rebuild with -DCMAKE_PREFIX_PATH=<libtorch 2.6+>, "
                    "or export TorchScript with torch.jit.script/torch.jit.save");
#endif
  }
};

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

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

}  // namespace

model::model(const std::string& path, const model_options& options) : impl_(std::make_unique<impl>()) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    throw error(error_code::not_found, "cannot load model '" + path + "': no such file");
  try {
    impl_->device = torch::Device(options.device);
  } catch (const c10::Error&) {
    throw error(error_code::invalid_config, "bad device '" + options.device + "' (accepted: cpu, cuda, cuda:N)");
  }
  if (impl_->device.is_cuda() && !torch::cuda::is_available())
    throw error(error_code::invalid_config,
                "device '" + options.device + "' asked for, but " +
                    (!at::globalContext().hasCUDA() ? std::string("this build of libtorch (") + TORCH_VERSION +
                                                          ") has no CUDA support"
                                                    : std::string("no CUDA device is visible")) +
                    "; use --device cpu");
  if (impl_->device.is_cuda() && impl_->device.has_index() &&
      impl_->device.index() >= static_cast<int>(torch::cuda::device_count()))
    throw error(error_code::invalid_config, "device '" + options.device + "' asked for, but only " +
                                                std::to_string(torch::cuda::device_count()) + " CUDA device(s) exist");
  impl_->precision = parse_precision(options.precision, impl_->device);

  auto& info = impl_->info;
  info.path = path;
  info.device = options.device;
  info.libtorch_version = TORCH_VERSION;
  if (ends_with(path, ".pt2")) impl_->load_aoti(path);
  else impl_->load_torchscript(path);
}

model::~model() = default;

const model_info& model::info() const { return impl_->info; }

std::vector<host_tensor> model::forward_images(const std::vector<const sample*>& batch) const {
  if (batch.empty()) return {};
  const warning_handler_scope warnings(&warn_once::instance());  // each message once
  const cv::Mat& first = batch.front()->mat;
  const int channels = first.channels();
  const int depth = first.depth();
  if (depth != CV_32F && depth != CV_8U)
    throw error(error_code::internal, "preprocessing produced an unsupported element type");
  const auto options = torch::TensorOptions().dtype(depth == CV_32F ? at::kFloat : at::kByte);
  // Channels-last: each sample's HWC rows are the batch tensor's memory as they are.
  const bool nhwc = impl_->channels_last;
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
  if (!impl_->planned) return impl_->plan_with({impl_->to_model(input)}, true);
  return impl_->forward({impl_->to_model(input)});
}

void model::set_optimize(bool optimize) { impl_->optimize = optimize; }

const std::string& model::execution_plan() const { return impl_->plan; }

std::vector<host_tensor> model::forward_tensors(const std::vector<host_tensor>& inputs) const {
  const warning_handler_scope warnings(&warn_once::instance());  // each message once
  std::vector<at::Tensor> values;
  for (const auto& in : inputs) {
    const auto type = scalar_type_of(in.datatype);
    at::Tensor t = torch::empty(in.shape, torch::TensorOptions().dtype(type));
    if (static_cast<size_t>(t.numel() * t.element_size()) != in.data.size())
      throw error(error_code::invalid_input, "input '" + in.name + "' holds " + std::to_string(in.data.size()) +
                                                 " bytes, its shape needs " + std::to_string(t.numel() * t.element_size()));
    std::memcpy(t.data_ptr(), in.data.data(), in.data.size());
    values.push_back(impl_->to_model(t));
  }
  if (!impl_->planned) return impl_->plan_with(std::move(values), false);
  return impl_->forward(std::move(values));
}

bool aoti_supported() {
#ifdef PTJS_HAVE_AOTI
  return true;
#else
  return false;
#endif
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
