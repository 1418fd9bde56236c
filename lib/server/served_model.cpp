#include "served_model.h"

#include <yaml-cpp/yaml.h>

#include "error.h"
#include "metrics.h"
#include "v2_codec.h"

namespace ptjs {
namespace {

const char* datatype_of(const cv::Mat& m) {
  switch (m.depth()) {
    case CV_32F: return "FP32";
    case CV_64F: return "FP64";
    case CV_8U: return "UINT8";
    case CV_8S: return "INT8";
    case CV_16S: return "INT16";
    case CV_32S: return "INT32";
    default: return "";
  }
}

// A mid-grey image of the model's colour mode.
sample dummy_image(int rows, int cols, color_mode mode) {
  sample s;
  s.mat = cv::Mat(rows, cols, mode == color_mode::rgb ? CV_8UC3 : CV_8UC1, cv::Scalar::all(128));
  return s;
}

std::vector<int64_t> chw_shape(const cv::Mat& m) { return {-1, m.channels(), m.rows, m.cols}; }

// -1 where two observed shapes differ.
std::vector<int64_t> merge_shapes(std::vector<int64_t> a, const std::vector<int64_t>& b) {
  if (a.size() != b.size()) return {};
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) a[i] = -1;
  return a;
}

}  // namespace

void check_tensor(const tensor_meta& meta, const std::string& datatype, const std::vector<int64_t>& shape) {
  const std::string label = "input '" + meta.name + "'";
  if (datatype != meta.datatype)
    throw error(error_code::invalid_input, label + ": expected datatype " + meta.datatype + ", got " + datatype);
  bool fits = shape.size() == meta.shape.size();
  for (size_t i = 0; fits && i < shape.size(); ++i) fits = meta.shape[i] == -1 || meta.shape[i] == shape[i];
  if (!fits)
    throw error(error_code::invalid_input, label + ": expected shape " + shape_text(meta.shape) + " (-1: any size), got " +
                                               shape_text(shape));
}

served_model::served_model(std::string name, resolved_model resolved, batcher_options batching,
                           decode_options decode, metrics& stats)
    : name_(std::move(name)),
      resolved_(std::move(resolved)),
      post_(resolved_.spec.postprocess, resolved_.spec.labels),
      batching_(batching),
      decode_(decode_options_for(resolved_.spec, resolved_.preprocess, decode)) {
  const auto fail = [&](const std::string& what) {
    throw error(error_code::invalid_config, "model '" + name_ + "': " + what);
  };
  const auto& names = resolved_.net->info().input_names;
  std::vector<batch_input> warm;
  if (image_input()) {
    if (names.size() != 1)
      fail("an image model's forward takes one tensor, this one takes " + std::to_string(names.size()) +
           " arguments; for tensor inputs, give a spec with input: {type: tensor, tensors: [{name, shape, datatype}, "
           "...]}, one per argument");
    sample a, b;
    try {
      a = resolved_.preprocess.run(dummy_image(240, 320, resolved_.spec.mode));
      b = resolved_.preprocess.run(dummy_image(331, 257, resolved_.spec.mode));
    } catch (const std::exception& e) {
      fail(std::string("the pipeline fails on a dummy image: ") + e.what());
    }
    if (!a.is_tensor) fail("the pipeline ends with an image, not a tensor: add ToTensor or PILToTensor");
    inputs_.push_back({names[0], datatype_of(a.mat), merge_shapes(chw_shape(a.mat), chw_shape(b.mat))});
    warm.push_back({std::move(a), {}});
    if (inputs_[0].shape != chw_shape(warm[0].image.mat)) warm.push_back({std::move(b), {}});
  } else {
    const auto& decls = resolved_.spec.inputs;
    if (decls.size() != names.size())
      fail("the spec declares " + std::to_string(decls.size()) + " input(s), forward takes " + std::to_string(names.size()));
    batch_input zeros;
    for (size_t i = 0; i < decls.size(); ++i) {
      inputs_.push_back({decls[i].name.empty() ? names[i] : decls[i].name, decls[i].datatype, decls[i].shape});
      host_tensor t;
      t.name = inputs_.back().name;
      t.datatype = decls[i].datatype;
      for (const auto d : decls[i].shape) t.shape.push_back(d == -1 ? 1 : d);
      t.data.assign(static_cast<size_t>(t.numel()) * datatype_size(t.datatype), 0);
      zeros.tensors.push_back(std::move(t));
    }
    warm.push_back(std::move(zeros));
  }

  batcher_ = std::make_unique<batcher>(resolved_.net, batching_, [this, &stats](int rows, double infer_ms) {
    stats.observe_batch(name_, rows);
    stats.observe(name_, metrics::stage::inference, infer_ms / 1000.0);
  });
  for (auto& input : warm) {
    std::vector<host_tensor> out;
    try {
      // TorchScript's profiling executor optimises the graph on the second run: do both here.
      // The first gets pixels of its own: the two may run on different lanes, and a buffer two
      // tasks share would be released by one lane while the other reads it (safe, since cv::Mat
      // counts references atomically, but inside OpenCV, where ThreadSanitizer cannot see it).
      batch_input first = input;
      first.image.mat = input.image.mat.clone();
      warm_up(std::move(first));
      out = warm_up(std::move(input));
    } catch (const std::exception& e) {
      fail(std::string("the warm-up forward failed: ") + e.what());
    }
    std::vector<tensor_meta> meta;
    for (const auto& t : out) {
      auto shape = t.shape;
      if (!shape.empty()) shape[0] = -1;
      meta.push_back({t.name, t.datatype, shape});
    }
    if (outputs_.empty()) {
      outputs_ = std::move(meta);
    } else {
      for (size_t i = 0; i < outputs_.size() && i < meta.size(); ++i)
        outputs_[i].shape = merge_shapes(outputs_[i].shape, meta[i].shape);
    }
  }
}

served_model::~served_model() = default;

std::vector<host_tensor> served_model::warm_up(batch_input input) {
  auto future = batcher_->submit(std::move(input), batcher::clock::now() + std::chrono::hours(1));
  return future.get().outputs;
}

cv::Mat served_model::decode(std::string_view encoded) const {
  return decode_image(encoded, resolved_.spec.mode, decode_);
}

std::string served_model::pipeline_yaml() const {
  if (!image_input()) return "";
  const YAML::Node& given = resolved_.spec.preprocess;
  YAML::Emitter out;
  out << (!given || given.IsNull() ? imagenet_preset() : given);
  return out.c_str();
}

sample served_model::preprocess(cv::Mat decoded) const {
  sample s;
  s.mat = std::move(decoded);
  try {
    s = resolved_.preprocess.run(std::move(s));
  } catch (const error&) {
    throw;
  } catch (const std::exception& e) {
    throw error(error_code::internal, std::string("preprocessing failed: ") + e.what());
  }
  if (!s.is_tensor)
    throw error(error_code::internal, "the pipeline ends with an image, not a tensor: add ToTensor or PILToTensor");
  return s;
}

std::future<batch_result> served_model::submit(batch_input input, batcher::clock::time_point deadline) {
  return batcher_->submit(std::move(input), deadline);
}

size_t served_model::queue_depth() const { return batcher_->queue_depth(); }

}  // namespace ptjs
