// ToTensor: the PIL image becomes a float32 tensor (still HWC in memory).
#pragma once

#include <memory>
#include <string>

#include "registry.h"
#include "transform.h"

namespace ptjs {

// torchvision.transforms.ToTensor: uint8 -> float32 as v / 255.f (a true division, as torch's div).
class to_tensor : public transform {
 public:
  static std::unique_ptr<transform> from_args(transform_args& args);
  sample apply(sample in) const override;
  std::string repr() const override { return "ToTensor()"; }
  size_effect effect_on_size() const override { return {true, {}}; }
  // Followed by Normalize: both in one pass (normalize::apply_to_unit_floats).
  std::optional<sample> apply_then(const sample& in, const transform& next) const override;
};

// uint8 -> float32 v / 255.f, the conversion ToTensor and ConvertImageDtype share.
cv::Mat uint8_to_unit_float(const cv::Mat& src);

}  // namespace ptjs
