// TorchScript models (torch.jit.save): loaded with torch::jit::load, run by the graph executor.
#include <algorithm>
#include <cmath>
#include <sstream>

#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>
#include <torch/version.h>

#include "error.h"
#include "model_backend.h"
#include "torch_values.h"
#include "torch_warnings.h"

namespace ptjs {
namespace {

// Why a TorchScript file did not load, with both versions when it looks like a newer exporter.
std::string load_failure(const std::string& path, const std::string& reason) {
  std::string hint = " (is it a TorchScript file from torch.jit.save?)";
  if (reason.find("Unknown builtin op") != std::string::npos) {
    hint = " (the model calls an operator this libtorch " + std::string(TORCH_VERSION) +
           " does not have: it was saved by a newer torch. The default build of ptjs, with libtorch 2.13, runs it)";
  } else if (reason.find("version") != std::string::npos || reason.find("schema") != std::string::npos) {
    hint = " (the file was probably saved by a newer torch than this libtorch " + std::string(TORCH_VERSION) +
           " reads: re-export with an older torch, or use the default build of ptjs, with libtorch 2.13)";
  }
  return "cannot load model '" + path + "' with libtorch " + TORCH_VERSION + ": " + reason + hint;
}

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

class torchscript_backend final : public model_backend {
 public:
  torchscript_backend(const std::string& path, const backend_settings& settings) : settings_(settings) {
    torch::jit::ExtraFilesMap extra{{"ptjs.yaml", ""}};
    try {
      module_ = torch::jit::load(path, settings.device, extra);
    } catch (const c10::Error& e) {
      throw error(error_code::invalid_config, load_failure(path, first_line(e.what_without_backtrace())));
    } catch (const std::exception& e) {  // torch::jit::ErrorReport: a model's code that does not compile
      throw error(error_code::invalid_config, load_failure(path, first_line(e.what())));
    }
    module_.eval();
    if (settings.precision != at::kFloat) module_.to(settings.precision);
    info_.embedded_spec = extra["ptjs.yaml"];
    info_.format = "torchscript";
    info_.platform = "pytorch_torchscript";
    for (const auto& method : module_.get_methods()) info_.methods.push_back(method.name());
    const auto forward_method = module_.find_method("forward");
    if (!forward_method) throw error(error_code::invalid_config, "model '" + path + "' has no forward method");
    const auto& schema = forward_method->function().getSchema();
    std::ostringstream text;
    text << schema;
    info_.forward_schema = text.str();
    for (size_t i = 1; i < schema.arguments().size(); ++i) info_.input_names.push_back(schema.arguments()[i].name());
  }

  std::vector<host_tensor> forward(std::vector<at::Tensor> inputs) override {
    return forward_with(module_, std::move(inputs));
  }

  // The first batch runs the module as loaded; its outputs are the reference that decides how
  // later batches run (CPU, fp32 only). Candidates, in this order: the module frozen
  // (torch.jit.freeze: weights become constants, batch norms fold into convolutions) with its
  // 4-D weights and the input in channels-last memory, then frozen as it is. The first whose
  // outputs on this batch match the reference (same shapes; within 1e-4 of the largest
  // magnitude) is kept, else the module runs as loaded. The choice depends only on the model
  // and the batch, never on timings, so two runs of one model answer with the same bytes.
  // Measured (Python, libtorch 1.13, 2 cores, images/s, as loaded -> frozen channels-last):
  // resnet18 batch 1 44 -> 64, batch 8 24 -> 92; mobilenet_v3_small batch 1 50 -> 200-258,
  // batch 8 81 -> 567-738. Left out: a channels-last input without channels-last weights
  // (resnet18 batch 1: 6 images/s, every convolution reorders its weights), and
  // optimize_for_inference (oneDNN layouts; libtorch 1.13 gets mobilenet_v3_small's logits
  // wrong by ~2.5 with it, and it is no faster than the above on resnet18).
  // Tensor models get the same with "frozen" only, their inputs as sent.
  // The reference forward runs without the graph executor's optimisations: it is only
  // compared with, and the executor's first optimisation of the graph as loaded cost more than
  // the rest of the plan together (mobilenet_v3_small: 0.26 s of 0.6 s, 0.07 s without).
  // When no candidate matches, the module as loaded answers this batch again, optimised, as
  // it answers every later one.
  std::vector<host_tensor> first_forward(std::vector<at::Tensor> inputs, bool images) override {
    if (!optimize_ || !settings_.device.is_cpu() || settings_.precision != at::kFloat) return forward(std::move(inputs));
    std::vector<host_tensor> reference;
    {
      torch::jit::GraphOptimizerEnabledGuard unoptimised(false);  // per thread
      reference = forward(inputs);  // a batch the model fails on leaves the choice to the next
    }
    struct candidate {
      const char* name;
      bool channels_last;
    };
    const candidate candidates[] = {{"frozen, channels-last", true}, {"frozen", false}};
    const torch::jit::Module loaded = module_;
    const warning_handler_scope quiet(silent_warnings());
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
        module_ = net;
        channels_last_ = c.channels_last;
        plan_ = c.name;
        // This batch's answer comes from the module every later batch runs: a rerun of the
        // same inputs (ptjs run --resume, a retried request) gives the same bytes.
        return forward(xs);
      } catch (const std::exception&) {
        continue;  // cloning, freezing or the candidate's forward failed: the next, or as loaded
      }
    }
    return forward(std::move(inputs));
  }

  bool channels_last() const override { return channels_last_; }
  std::string execution_plan() const override { return plan_; }
  void set_optimize(bool optimize) override { optimize_ = optimize; }

 private:
  static std::vector<host_tensor> forward_with(torch::jit::Module& net, std::vector<at::Tensor> inputs) {
    c10::InferenceMode guard;
    std::vector<host_tensor> out;
    try {
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

  const backend_settings settings_;
  torch::jit::Module module_;   // replaced once, by first_forward, before any other forward
  bool optimize_ = true;
  bool channels_last_ = false;  // image batches go in as NHWC memory
  std::string plan_ = "as loaded";
};

}  // namespace

std::unique_ptr<model_backend> load_torchscript(const std::string& path, const backend_settings& settings) {
  return std::make_unique<torchscript_backend>(path, settings);
}

}  // namespace ptjs
