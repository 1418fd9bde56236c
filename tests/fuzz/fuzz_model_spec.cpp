// Fuzz target (d): the model spec loader (parse_model_spec) and the pipeline it builds
// (build_pipeline, the ImageNet preset when none is given), then, when the numbers in the
// spec are small enough to be cheap, the pipeline runs on a small image in the spec's mode.
// Specs are trusted configuration, but a typo must give an error, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include <yaml-cpp/yaml.h>

#include "error.h"
#include "model_spec.h"
#include "registry.h"

namespace {

// Whether running the pipeline stays cheap: few steps, every number in it small. (A spec may
// legitimately ask for a 100000-pixel Resize; the fuzzer should not spend its time on it.)
bool cheap(const YAML::Node& node, int depth = 0) {
  if (depth > 8) return false;
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    if (s.find_first_of("0123456789") == std::string::npos) return true;
    try {
      const double v = std::stod(s);
      return v > -1024 && v < 1024;
    } catch (...) {
      return true;
    }
  }
  if (node.IsSequence() && node.size() > 8) return false;
  for (const auto& child : node) {
    if (node.IsMap()) {
      if (!cheap(child.second, depth + 1)) return false;
    } else if (!cheap(child, depth + 1)) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ptjs::transform_registry registry = [] {
    ptjs::transform_registry r;
    ptjs::register_builtin_transforms(r);
    return r;
  }();
  const std::string text(reinterpret_cast<const char*>(data), size);
  // `labels: FILE` is read at parse time: keep the fuzzer away from device files and /proc.
  if (text.find("/dev") != std::string::npos || text.find("/proc") != std::string::npos ||
      text.find("/sys") != std::string::npos)
    return 0;
  ptjs::model_spec spec;
  ptjs::pipeline pipeline;
  try {
    spec = ptjs::parse_model_spec(text, "fuzz.yaml", "/nonexistent-ptjs-fuzz");
    const YAML::Node pre = spec.preprocess ? spec.preprocess : ptjs::imagenet_preset();
    if (spec.input_type != "image") return 0;
    pipeline = ptjs::build_pipeline(pre, registry, "fuzz.yaml");
    pipeline.describe();
    if (!cheap(pre)) return 0;
  } catch (const ptjs::error& e) {
    // Specs are configuration: every refusal must be invalid_config with a location.
    if (e.code() != ptjs::error_code::invalid_config) __builtin_trap();
    return 0;
  }
  ptjs::sample s;
  s.mat = cv::Mat(37, 23, spec.mode == ptjs::color_mode::rgb ? CV_8UC3 : CV_8UC1, cv::Scalar::all(77));
  try {
    pipeline.run(std::move(s));
  } catch (const ptjs::error&) {
    // e.g. Normalize before ToTensor: refused with a message, at run time.
  }
  return 0;
}
