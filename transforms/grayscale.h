// Grayscale: torchvision.transforms.Grayscale.
#pragma once

#include <memory>
#include <string>

#include "registry.h"
#include "transform.h"

namespace ptjs {

// PIL images: convert('L'), (19595 R + 38470 G + 7471 B + 0x8000) >> 16, then repeated to RGB
// when num_output_channels is 3. Tensors (1 or 3 channels, float32 or uint8): torchvision's
// rgb_to_grayscale, (0.2989 r + 0.587 g + 0.114 b) in float32, truncated back for uint8; a
// 1-channel tensor stays 1-channel even for num_output_channels 3 (torchvision expands to the input shape).
class grayscale : public transform {
 public:
  explicit grayscale(int num_output_channels);  // 1 or 3, else ptjs::error(invalid_config)
  static std::unique_ptr<transform> from_args(transform_args& args);

  sample apply(sample in) const override;
  std::string repr() const override;
  size_effect effect_on_size() const override { return {true, {}}; }

 private:
  int num_output_channels_;
};

}  // namespace ptjs
