// The interface between model.cpp and the formats a model file can be in: one backend per
// format (torchscript_backend.cpp, aoti_backend.cpp), chosen by the file's content. Includes
// libtorch headers: only model.cpp and the backends include it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <ATen/Tensor.h>
#include <c10/core/Device.h>

#include "model.h"

namespace ptjs {

struct backend_settings {
  c10::Device device{c10::kCPU};
  at::ScalarType precision = at::kFloat;  // weights and floating inputs (TorchScript only)
};

class model_backend {
 public:
  virtual ~model_backend() = default;

  // What `ptjs info` and the server's metadata show; set by the loader.
  const model_info& info() const { return info_; }

  // Runs forward on inputs already on the model's device, under InferenceMode, and returns the
  // outputs as host tensors output0, output1, ... Safe to call from several threads at once
  // (serve's and run's lanes). Throws ptjs::error(internal) with the model's message.
  virtual std::vector<host_tensor> forward(std::vector<at::Tensor> inputs) = 0;

  // The first batch, before any other forward: a backend may choose here how every later batch
  // runs (TorchScript: a faster equivalent of the module whose outputs match). `images`: the
  // inputs are one NCHW image batch.
  virtual std::vector<host_tensor> first_forward(std::vector<at::Tensor> inputs, bool images) {
    (void)images;
    return forward(std::move(inputs));
  }
  // Whether image batches should reach forward in channels-last memory (decided by first_forward).
  virtual bool channels_last() const { return false; }
  // How forwards run, for `ptjs info` and the ready line ("frozen, channels-last", "compiled", ...).
  virtual std::string execution_plan() const = 0;
  // false: first_forward keeps the model as loaded (--no-optimize).
  virtual void set_optimize(bool optimize) { (void)optimize; }

 protected:
  model_info info_;
};

enum class model_format { torchscript, aoti };

// Reads the file's records: an AOTInductor package (archive_format "pt2" with compiled code
// under data/aotinductor/) or, for anything else, TorchScript (whose loader then says what is
// wrong). Throws ptjs::error(invalid_config) for a .pt2 that holds an ExportedProgram but no
// compiled model, saying how to compile it.
model_format detect_model_format(const std::string& path);

// Each throws ptjs::error(invalid_config) naming the path, the device and libtorch's reason.
std::unique_ptr<model_backend> load_torchscript(const std::string& path, const backend_settings& settings);
// Builds without AOTInductor (libtorch < 2.6) answer with an error that says which build runs it.
std::unique_ptr<model_backend> load_aoti(const std::string& path, const backend_settings& settings);

}  // namespace ptjs
