// The model spec (YAML): what a model expects, how to preprocess its input and how to read
// its output. Parsed strictly: unknown keys and bad values are errors with file:line:column.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "image_io.h"

namespace ptjs {

class pipeline;

// One declared input or output tensor (for `input: {type: tensor, ...}` models).
struct tensor_decl {
  std::string name;            // empty: named after the forward argument
  std::vector<int64_t> shape;  // -1 for a variable dimension (the batch first)
  std::string datatype = "FP32";
};

struct postprocess_step {
  std::string name;  // Softmax | Sigmoid | TopK | Argmax | Raw
  int dim = 1;       // Softmax
  int k = 5;         // TopK
};

struct model_spec {
  std::string source;          // the file (or "model.pt!ptjs.yaml") it was read from, for messages
  std::string base_dir;        // relative paths resolve against it
  std::string name;
  std::string model_path;      // resolved path of the .pt; empty when the spec is embedded
  std::string device = "cpu";
  std::string precision = "fp32";    // fp32 | fp16 | bf16
  bool optimize = true;              // may the first batch pick a faster equivalent module (model.h)
  std::string input_type = "image";  // image | tensor
  color_mode mode = color_mode::rgb;
  bool exif_transpose = false;
  bool draft = false;                // input.draft: decode JPEGs reduced, as PIL's Image.draft
  std::vector<tensor_decl> inputs;   // tensor models
  YAML::Node preprocess;             // null: none given (image models then get the ImageNet preset)
  std::vector<postprocess_step> postprocess;  // empty: none given
  std::vector<std::string> labels;
  int max_batch_size = 16;
  int max_delay_ms = 5;

  // Which top-level keys the YAML gave, so a pipeline file can override only those.
  std::vector<std::string> given_keys;
  bool gives(const std::string& key) const;
};

// Parses spec text. `source` names it in errors; `base_dir` resolves `model:` and `labels:`.
// Throws ptjs::error(invalid_config) "<source>:<line>:<col>: <what>".
model_spec parse_model_spec(const std::string& text, const std::string& source,
                            const std::string& base_dir);
model_spec load_model_spec(const std::string& path);

// Applies the keys `overlay` gives on top of `base` (used for --pipeline over a model's own spec).
model_spec merge_specs(const model_spec& base, const model_spec& overlay);

// How to decode inputs for this spec and its pipeline: `base` (limits) with the spec's
// exif_transpose and, when the spec asks for draft, the pipeline's draft request.
decode_options decode_options_for(const model_spec& spec, const pipeline& steps, decode_options base = {});

// ImageNet classification defaults: torchvision's ImageClassification preset (resize 256,
// crop 224, bilinear, ImageNet mean/std), Softmax + TopK 5.
YAML::Node imagenet_preset();

// One label per line; a trailing empty line is ignored. Throws invalid_config naming the path.
std::vector<std::string> load_labels(const std::string& path);

}  // namespace ptjs
