// A loaded model, TorchScript or an AOTInductor package (.pt2). The only header between libtorch
// and the rest of ptjs: libtorch stays behind the pimpl (model.cpp and the backends of
// model_backend.h), so callers compile without its headers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sample.h"
#include "tensor.h"

namespace ptjs {

// How a model is loaded and run.
struct model_options {
  std::string device = "cpu";       // cpu | cuda | cuda:N
  std::string precision = "fp32";   // fp32 | fp16 | bf16: weights and inputs cast (fp16 needs CUDA)
};

struct model_info {
  std::string path;
  std::string device;
  std::vector<std::string> methods;      // every method of the module
  std::string forward_schema;            // e.g. "forward(__torch__.Net self, Tensor x) -> Tensor"
  std::vector<std::string> input_names;  // forward's arguments, without self
  std::string embedded_spec;             // the extra file "ptjs.yaml", empty when absent
  std::string libtorch_version;
  std::string format;                    // "torchscript" | "aoti" (.pt2 AOTInductor package)
  std::string platform;                  // KServe v2 metadata: "pytorch_torchscript" | "pytorch_aoti"
};

class model {
 public:
  // Loads a TorchScript file or an AOTInductor package (told apart by content, not by name)
  // onto options.device. Throws ptjs::error: not_found / invalid_config with the path, the
  // device and libtorch's reason (naming both versions when the file is from a newer torch, and
  // the package's device when it was compiled for another).
  model(const std::string& path, const model_options& options);
  ~model();
  model(const model&) = delete;
  model& operator=(const model&) = delete;

  const model_info& info() const;

  // Collates preprocessed samples (all of one shape and type) into one NCHW batch, runs forward
  // under InferenceMode and returns every output as a host tensor named output0, output1, ...
  // (a tuple or list output gives several; a dict gives one per key, in key order).
  // Safe to call from several threads at once (lanes), after one first call has returned.
  // Throws ptjs::error(internal) with the model's message when forward fails.
  std::vector<host_tensor> forward_images(const std::vector<const sample*>& batch) const;

  // Runs forward with one tensor per forward argument (already batched).
  std::vector<host_tensor> forward_tensors(const std::vector<host_tensor>& inputs) const;

  // For TorchScript on CPU in fp32, the first forward call keeps its outputs as a reference and
  // tries faster equivalents of the module on the same batch (frozen, with channels-last weights
  // and input; frozen); it and later calls run the first whose outputs match
  // (torchscript_backend.cpp). set_optimize(false), before the first forward, keeps the module
  // as loaded.
  void set_optimize(bool optimize);
  // What the first forward call chose: "frozen, channels-last", "frozen", "as loaded", or for a
  // package "compiled (AOTInductor)".
  std::string execution_plan() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Number of intra-op threads libtorch uses (at::set_num_threads); <= 0 applies the default below.
void set_torch_threads(int threads);

// Preprocessing threads and intra-op threads that share the cores without oversubscribing them:
// OpenMP's barriers collapse when a thread of the forward is descheduled (measured on 2 cores:
// resnet18 batch 8 ran at 10.7 img/s with 2 intra-op threads + 1 worker, 20.8 with 1 + 1).
int default_preprocess_threads(const std::string& device);  // max(1, cores / 4); on cuda max(1, cores - 1)
int default_torch_threads();  // every core
int torch_threads();

// Whether a device string ("cpu", "cuda", "cuda:1") names a CUDA device.
bool is_cuda(const std::string& device);

// Forwards run at once (lanes, each on its own thread) and libtorch threads per forward, from
// --lanes and --threads (0: not given): one lane per core with one thread each, unless
// --threads alone asks for one lane of that many threads. A forward's bytes depend on its
// thread count, never on the lanes. Measured (2 cores, frozen channels-last modules, images/s,
// 1 lane x 2 threads -> 2 lanes x 1 thread): mobilenet_v3_small batch 1 194 -> 600, batch 8
// 409 -> 965; resnet18 batch 1 60 -> 74, batch 8 81 -> 92.
int lanes_for(int lanes, int threads);
int threads_per_forward(int lanes, int threads);  // `lanes` as lanes_for gives it

}  // namespace ptjs
