// ConvertImageDtype: torchvision.transforms.ConvertImageDtype.
#pragma once

#include <memory>
#include <string>

#include "registry.h"
#include "transform.h"

namespace ptjs {

// Tensors only, as torchvision 0.14's convert_image_dtype: uint8 -> float32 v / 255.f;
// float32 -> uint8 as (uint8)(v * 255.999f); same dtype is returned unchanged.
class convert_image_dtype : public transform {
 public:
  explicit convert_image_dtype(int cv_depth);  // CV_32F or CV_8U
  static std::unique_ptr<transform> from_args(transform_args& args);

  sample apply(sample in) const override;
  std::string repr() const override;
  size_effect effect_on_size() const override { return {true, {}}; }
  // uint8 to float32 followed by Normalize: both in one pass (normalize::apply_to_unit_floats).
  std::optional<sample> apply_then(const sample& in, const transform& next) const override;

 private:
  int depth_;
};

}  // namespace ptjs
