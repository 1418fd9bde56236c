// One model as the server holds it: the resolved model, its tensor metadata, its batcher.
// No libtorch, no httplib.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "batcher.h"
#include "image_io.h"
#include "postprocess.h"
#include "resolve.h"

namespace ptjs {

class metrics;

// What metadata reports and infer checks requests against: -1 for a dimension of any size.
struct tensor_meta {
  std::string name;
  std::string datatype;
  std::vector<int64_t> shape;
};

class served_model {
 public:
  // Derives the input metadata (tensor models: the spec; image models: the pipeline run on two
  // dummy images of different sizes, a dimension that differs becoming -1), starts the batcher
  // and runs warm-up forwards, which also give the output metadata. Throws ptjs::error
  // (invalid_config) naming the model when any of that fails: a model that cannot run a dummy
  // input is not served. `stats` must outlive this object.
  served_model(std::string name, resolved_model resolved, batcher_options batching, decode_options decode,
               metrics& stats);
  ~served_model();

  const std::string& name() const { return name_; }
  bool image_input() const { return resolved_.spec.input_type == "image"; }
  const model_spec& spec() const { return resolved_.spec; }
  const model& net() const { return *resolved_.net; }
  const std::vector<tensor_meta>& inputs() const { return inputs_; }
  const std::vector<tensor_meta>& outputs() const { return outputs_; }
  const postprocessor& post() const { return post_; }
  const batcher_options& batching() const { return batching_; }

  // Decodes an encoded image in the model's colour mode, on the calling thread (thread-safe).
  // Throws ptjs::error: invalid_input (not an image), too_large (pixels).
  cv::Mat decode(std::string_view encoded) const;
  // Runs the pipeline on a decoded image (thread-safe); the result is a tensor sample.
  sample preprocess(cv::Mat decoded) const;
  // The pipeline as YAML (the spec's preprocess, or the ImageNet preset it defaults to).
  std::string pipeline_yaml() const;

  // Announces a request on its way to submit(), so that a partial batch waits for it (see
  // batcher::arrival); thread-safe.
  batcher::arrival expect() { return batcher_->expect(); }
  // Queues one input for a forward (see batcher::submit); thread-safe.
  std::future<batch_result> submit(batch_input input, batcher::clock::time_point deadline);
  size_t queue_depth() const;

 private:
  std::vector<host_tensor> warm_up(batch_input input);

  std::string name_;
  resolved_model resolved_;
  postprocessor post_;
  batcher_options batching_;
  decode_options decode_;
  std::vector<tensor_meta> inputs_;
  std::vector<tensor_meta> outputs_;
  std::unique_ptr<batcher> batcher_;
};

// Checks a tensor against its metadata: "input 'x': expected shape [-1, 4], got [1, 5]".
// Throws ptjs::error(invalid_input).
void check_tensor(const tensor_meta& meta, const std::string& datatype, const std::vector<int64_t>& shape);

}  // namespace ptjs
