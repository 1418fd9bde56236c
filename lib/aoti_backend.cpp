// AOTInductor packages (.pt2 from torch._inductor.aoti_compile_and_package): compiled code and
// weights, run through libtorch's package loader (libtorch >= 2.6; builds with an older
// libtorch compile aoti_unavailable.cpp instead).
#include <cstdlib>
#include <mutex>

#include <nlohmann/json.hpp>
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#include <torch/version.h>

#include "error.h"
#include "model_backend.h"
#include "torch_values.h"

namespace ptjs {
namespace {

using package_loader = torch::inductor::AOTIModelPackageLoader;

// Loaders are constructed one at a time: two constructions at once race inside libtorch
// (pytorch/pytorch PR #194128).
std::mutex& construction_mutex() {
  static std::mutex mu;
  return mu;
}

// Inputs and outputs in the package's call spec are pytrees; each leaf is one tensor.
size_t count_leaves(const nlohmann::json& spec) {
  if (!spec.is_object()) return 0;
  const auto children = spec.find("children_spec");
  if (children == spec.end() || !children->is_array() || children->empty()) return spec.value("type", nlohmann::json()).is_null() ? 1 : 0;
  size_t n = 0;
  for (const auto& child : *children) n += count_leaves(child);
  return n;
}

// The serialized tree spec is [version, tree].
size_t count_inputs(const std::string& in_spec) {
  const auto parsed = nlohmann::json::parse(in_spec, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array() || parsed.size() != 2) return 1;
  return count_leaves(parsed[1]);
}

std::vector<std::string> split_names(const std::string& text) {
  std::vector<std::string> names;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const size_t end = comma == std::string::npos ? text.size() : comma;
    if (end > start) names.push_back(text.substr(start, end - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return names;
}

// By default torch.export assumes a dynamic dimension is at least 2, and the compiled code
// checks it: such a package refuses a batch of 1. Say how to export it.
std::string with_hint(const std::string& reason) {
  if (reason.find("dim value is too small") == std::string::npos || reason.find(">= 2") == std::string::npos)
    return reason;
  return reason + " (the package's batch dimension starts at 2, torch.export's default: export it "
                  "inside torch.fx.experimental._config.patch(backed_size_oblivious=True) and compile it "
                  "with inductor_configs={'aot_inductor.check_lowerbound': False}, as "
                  "scripts/ptjs_export.py --format pt2 does, or send batches of at least 2)";
}

class aoti_backend final : public model_backend {
 public:
  aoti_backend(const std::string& path, const backend_settings& settings) : path_(path), settings_(settings) {
    const std::string where = "AOTInductor package '" + path + "'";
    if (settings.precision != at::kFloat)
      throw error(error_code::invalid_config, where + ": a package's precision is fixed when it is compiled; "
                                                      "drop 'precision' from the spec (or compile it in that precision)");
    std::unordered_map<std::string, std::string> metadata;
    try {
      metadata = package_loader::load_metadata_from_package(path, "model");
    } catch (const std::exception& e) {
      throw error(error_code::invalid_config, "cannot load " + where + " with libtorch " + TORCH_VERSION + ": " +
                                                  first_line(e.what()));
    }
    // Checked before the loader runs: it would load compiled code for a device that is not here.
    const std::string compiled_for = metadata.count("AOTI_DEVICE_KEY") ? metadata["AOTI_DEVICE_KEY"] : "cpu";
    const std::string wanted = settings.device.is_cuda() ? "cuda" : settings.device.is_cpu() ? "cpu" : settings.device.str();
    if (compiled_for != wanted)
      throw error(error_code::invalid_config, where + " was compiled for device '" + compiled_for + "', not '" +
                                                  settings.device.str() + "': run it with --device " + compiled_for +
                                                  ", or compile it again for " + wanted);
    const std::string isa = metadata.count("AOTI_CPU_ISA") ? metadata["AOTI_CPU_ISA"] : "";
    if (compiled_for == "cpu" && isa.rfind("AVX512", 0) == 0 && !__builtin_cpu_supports("avx512f"))
      throw error(error_code::invalid_config, where + " was compiled for " + isa +
                                                  ", which this CPU does not have: compile it on (or for) this machine");

    // The compiled code checks every input's shape, type and strides against what it was
    // compiled for when this is set (read once, at the first run), and answers a mismatch with
    // an error instead of reading out of bounds.
    setenv("AOTI_RUNTIME_CHECK_INPUTS", "1", /*overwrite=*/0);
    idle_.push_back(construct());

    info_.format = "aoti";
    info_.platform = "pytorch_aoti";
    info_.methods = {"forward"};
    info_.embedded_spec = metadata.count("ptjs.yaml") ? metadata["ptjs.yaml"] : "";
    const auto call_spec = idle_.front()->get_call_spec();
    const size_t inputs = call_spec.empty() ? 1 : count_inputs(call_spec[0]);
    info_.input_names = split_names(metadata.count("ptjs.input_names") ? metadata["ptjs.input_names"] : "");
    if (info_.input_names.size() != inputs) {
      info_.input_names.clear();
      for (size_t i = 0; i < inputs; ++i) info_.input_names.push_back("input" + std::to_string(i));
    }
    std::string names;
    for (const auto& n : info_.input_names) names += (names.empty() ? "" : ", ") + n;
    info_.forward_schema = "forward(" + names + ") -> compiled by AOTInductor for " + compiled_for +
                           (isa.empty() ? "" : " (" + isa + ")");
  }

  // Each concurrent forward runs on a loader of its own (a loader runs one forward at a time),
  // taken from the idle ones or constructed when all are busy: as many as there are lanes.
  std::vector<host_tensor> forward(std::vector<at::Tensor> inputs) override {
    const lease held(*this);
    std::vector<host_tensor> out;
    try {
      c10::InferenceMode guard;
      for (const auto& t : held.loader->run(inputs)) out.push_back(to_host(t, "output" + std::to_string(out.size())));
    } catch (const c10::Error& e) {
      throw error(error_code::internal, "model forward failed: " + with_hint(first_line(e.what_without_backtrace())));
    } catch (const std::exception& e) {
      throw error(error_code::internal, "model forward failed: " + with_hint(first_line(e.what())));
    }
    if (out.empty()) throw error(error_code::internal, "the model returned no tensor");
    return out;
  }

  std::string execution_plan() const override { return "compiled (AOTInductor)"; }

 private:
  std::unique_ptr<package_loader> construct() {
    std::lock_guard<std::mutex> lock(construction_mutex());
    try {
      const c10::DeviceIndex index = settings_.device.has_index() ? settings_.device.index() : -1;
      return std::make_unique<package_loader>(path_, "model", /*run_single_threaded=*/false, /*num_runners=*/1, index);
    } catch (const std::exception& e) {
      throw error(error_code::invalid_config, "cannot load AOTInductor package '" + path_ + "' with libtorch " +
                                                  TORCH_VERSION + ": " + first_line(e.what()));
    }
  }

  // A loader taken from the idle ones (or constructed when all are busy) for one forward, and
  // given back when the forward ends, whether it answered or threw.
  struct lease {
    explicit lease(aoti_backend& owner) : owner(owner) {
      {
        std::lock_guard<std::mutex> lock(owner.mu_);
        if (!owner.idle_.empty()) {
          loader = std::move(owner.idle_.back());
          owner.idle_.pop_back();
        }
      }
      if (!loader) loader = owner.construct();
    }
    ~lease() {
      std::lock_guard<std::mutex> lock(owner.mu_);
      owner.idle_.push_back(std::move(loader));
    }
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    aoti_backend& owner;
    std::unique_ptr<package_loader> loader;
  };

  const std::string path_;
  const backend_settings settings_;
  std::mutex mu_;
  std::vector<std::unique_ptr<package_loader>> idle_;  // guarded by mu_
};

}  // namespace

std::unique_ptr<model_backend> load_aoti(const std::string& path, const backend_settings& settings) {
  return std::make_unique<aoti_backend>(path, settings);
}

}  // namespace ptjs
