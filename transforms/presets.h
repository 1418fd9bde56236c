// Presets: torchvision.transforms._presets as a `preprocess:` map, expanded to the transforms
// their forward() runs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "transform.h"

namespace ptjs {

// `node` is a map with `preset: ImageClassification | SemanticSegmentation | ObjectDetection`
// and that preset's arguments (torchvision's names and defaults, plus `antialias` for Resize):
//   ImageClassification: crop_size (required), resize_size=256, interpolation=bilinear,
//     mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]
//     -> Resize([resize_size]), CenterCrop([crop_size]), PILToTensor, ConvertImageDtype(float), Normalize
//   SemanticSegmentation: resize_size (required, may be null), interpolation, mean, std
//     -> [Resize([resize_size])], PILToTensor, ConvertImageDtype(float), Normalize
//   ObjectDetection: no arguments -> PILToTensor, ConvertImageDtype(float)
// Errors are ptjs::error(invalid_config) located in `source` like every transform argument.
std::vector<std::unique_ptr<transform>> expand_preset(const YAML::Node& node, const std::string& source);

const std::vector<std::string>& preset_names();

}  // namespace ptjs
