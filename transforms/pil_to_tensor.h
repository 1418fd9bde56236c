// PILToTensor: the PIL image becomes a uint8 tensor (still HWC in memory).
#pragma once

#include <memory>
#include <string>

#include "registry.h"
#include "transform.h"

namespace ptjs {

// torchvision.transforms.PILToTensor: the same uint8 values as a uint8 tensor.
class pil_to_tensor : public transform {
 public:
  static std::unique_ptr<transform> from_args(transform_args& args);
  sample apply(sample in) const override;
  std::string repr() const override { return "PILToTensor()"; }
  size_effect effect_on_size() const override { return {true, {}}; }
};

}  // namespace ptjs
