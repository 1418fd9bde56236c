// From what a user names (`--model M [--pipeline P]`) to a loaded model, its spec and its
// preprocessing pipeline, in the design's order: --pipeline; the spec embedded in the .pt as
// the extra file ptjs.yaml; a sibling <stem>.yaml; else the ImageNet classification preset.
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "model.h"
#include "model_spec.h"
#include "registry.h"

namespace ptjs {

struct resolved_model {
  std::shared_ptr<const model> net;
  model_spec spec;
  pipeline preprocess;          // empty for tensor-input models
  std::string pipeline_origin;  // where the pipeline came from, for notices and `ptjs info`
};

struct resolve_options {
  std::string model;          // a .pt (TorchScript) or a .yaml spec
  std::string pipeline;       // optional --pipeline file
  std::string device;         // optional override of the spec's device
  bool optimize = true;       // false: the model runs as loaded, whatever the spec says
};

// Throws ptjs::error (invalid_config / not_found) naming the file. Notices (e.g. "no spec
// found, using the ImageNet preset") go to `notices` when it is not null.
resolved_model resolve_model(const resolve_options& options, const transform_registry& registry,
                             std::ostream* notices);

// The default registry with every built-in transform.
const transform_registry& builtin_registry();

}  // namespace ptjs
