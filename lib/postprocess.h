// Turning model outputs into records: Softmax, Sigmoid, TopK, Argmax, Raw. No libtorch here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model_spec.h"
#include "tensor.h"

namespace ptjs {

struct prediction {
  int64_t index = 0;
  std::string label;  // empty when no labels are known
  float score = 0.f;
};

// One input's result: predictions (TopK/Argmax), raw outputs (Raw), or an error.
struct record {
  std::string file;
  std::vector<prediction> predictions;
  std::vector<host_tensor> outputs;
  std::string error;  // non-empty: this input failed

  bool failed() const { return !error.empty(); }
};

class postprocessor {
 public:
  // Steps run in order: Softmax/Sigmoid rewrite output0; TopK/Argmax read output0 as
  // [N, classes] (trailing dimensions of size 1 are ignored); Raw emits every output.
  // Without TopK/Argmax/Raw the result is Raw. Throws invalid_config for a bad combination.
  postprocessor(std::vector<postprocess_step> steps, std::vector<std::string> labels);

  // Fills records[n] (n < batch) from batched outputs whose first dimension is the batch.
  // Throws ptjs::error(internal) when an output does not fit what the steps need.
  void apply(std::vector<host_tensor> outputs, const std::vector<record*>& records) const;

  bool raw() const { return raw_; }
  const std::vector<postprocess_step>& steps() const { return steps_; }
  const std::vector<std::string>& labels() const { return labels_; }

 private:
  std::vector<postprocess_step> steps_;
  std::vector<std::string> labels_;
  bool raw_ = false;
};

// Softmax along `dim` (negative counts from the end), in place on an FP32 tensor.
void softmax_inplace(host_tensor& t, int dim);
void sigmoid_inplace(host_tensor& t);

// Indices of the k largest values, largest first; ties keep the lower index first.
std::vector<int64_t> top_k(const float* values, int64_t count, int64_t k);

}  // namespace ptjs
