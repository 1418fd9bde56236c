#include "presets.h"

#include <optional>

#include "center_crop.h"
#include "convert_image_dtype.h"
#include "normalize.h"
#include "pil_to_tensor.h"
#include "py_format.h"
#include "registry.h"
#include "resize.h"

namespace ptjs {

namespace {

const std::vector<double> imagenet_mean = {0.485, 0.456, 0.406};
const std::vector<double> imagenet_std = {0.229, 0.224, 0.225};

int positive_int(transform_args& args, const std::string& key, std::optional<int> fallback) {
  const int v = args.get_int(key, fallback);
  if (v <= 0) args.fail(key, "'" + key + "' must be positive, got " + std::to_string(v));
  return v;
}

std::optional<bool> optional_bool(transform_args& args, const std::string& key) {
  std::optional<bool> v;
  if (args.has(key)) v = args.get_bool(key);
  args.node(key);
  return v;
}

// Resize as the preset calls F.resize(img, [size], interpolation), and the tail every preset shares.
void add_resize(std::vector<std::unique_ptr<transform>>& steps, transform_args& args, int size,
                interpolation mode, std::optional<bool> antialias) {
  if (antialias == false && mode != interpolation::nearest && mode != interpolation::bilinear &&
      mode != interpolation::bicubic) {
    args.fail("antialias", "antialias: false supports nearest, bilinear and bicubic only");
  }
  steps.push_back(std::make_unique<resize>(std::vector<int>{size}, mode, std::nullopt, antialias));
}

void add_tail(std::vector<std::unique_ptr<transform>>& steps, const std::vector<double>* mean,
              const std::vector<double>* std) {
  steps.push_back(std::make_unique<pil_to_tensor>());
  steps.push_back(std::make_unique<convert_image_dtype>(CV_32F));
  if (mean) steps.push_back(std::make_unique<normalize>(*mean, *std));
}

void check_mean_std(transform_args& args, const std::vector<double>& mean, const std::vector<double>& std) {
  for (double s : std) {
    if (static_cast<float>(s) == 0.0f) args.fail("std", "'std' must not contain zero, got " + py_list(std));
  }
  if (mean.size() != std.size() && mean.size() != 1 && std.size() != 1) {
    args.fail("std", "'mean' has " + std::to_string(mean.size()) + " values but 'std' has " +
                         std::to_string(std.size()));
  }
}

}  // namespace

const std::vector<std::string>& preset_names() {
  static const std::vector<std::string> names = {"ImageClassification", "SemanticSegmentation", "ObjectDetection"};
  return names;
}

std::vector<std::unique_ptr<transform>> expand_preset(const YAML::Node& node, const std::string& source) {
  const YAML::Node preset_node = node["preset"];
  transform_args outer(source, "preset", node, node.Mark());
  const std::string name = outer.get_choice("preset", preset_names());
  // The remaining keys are the preset's arguments; errors name the preset.
  transform_args args(source, name, node, preset_node.Mark());
  args.node("preset");
  std::vector<std::unique_ptr<transform>> steps;
  if (name == "ImageClassification") {
    const int crop_size = positive_int(args, "crop_size", std::nullopt);
    const int resize_size = positive_int(args, "resize_size", 256);
    const interpolation mode =
        parse_interpolation(args.get_choice("interpolation", interpolation_names(), std::string("bilinear")));
    const std::vector<double> mean = args.get_double_list("mean", imagenet_mean);
    const std::vector<double> std = args.get_double_list("std", imagenet_std);
    const std::optional<bool> antialias = optional_bool(args, "antialias");
    check_mean_std(args, mean, std);
    add_resize(steps, args, resize_size, mode, antialias);
    steps.push_back(std::make_unique<center_crop>(crop_size, crop_size, py_list(std::vector<int>{crop_size})));
    add_tail(steps, &mean, &std);
  } else if (name == "SemanticSegmentation") {
    if (!node["resize_size"]) args.fail("", "'resize_size' is required (an integer, or null for no resize)");
    const std::optional<int> resize_size = args.get_optional_int("resize_size");
    if (resize_size && *resize_size <= 0) {
      args.fail("resize_size", "'resize_size' must be positive, got " + std::to_string(*resize_size));
    }
    const interpolation mode =
        parse_interpolation(args.get_choice("interpolation", interpolation_names(), std::string("bilinear")));
    const std::vector<double> mean = args.get_double_list("mean", imagenet_mean);
    const std::vector<double> std = args.get_double_list("std", imagenet_std);
    const std::optional<bool> antialias = optional_bool(args, "antialias");
    check_mean_std(args, mean, std);
    if (resize_size) add_resize(steps, args, *resize_size, mode, antialias);
    add_tail(steps, &mean, &std);
  } else {
    add_tail(steps, nullptr, nullptr);
  }
  args.finish();
  return steps;
}

}  // namespace ptjs
