// CenterCrop: torchvision.transforms.CenterCrop.
#pragma once

#include <memory>
#include <string>

#include "registry.h"
#include "transform.h"

namespace ptjs {

// Crops (height, width) at the center, offsets int(round((H - h) / 2.0)) with Python's
// round-half-to-even; pads with zeros first where the crop is larger than the image, exactly as
// torchvision's F.center_crop. Works on PIL images and tensors of any channel count.
class center_crop : public transform {
 public:
  // height, width > 0. repr_size is the argument as torchvision prints it: "(224, 224)" or "[224, 200]".
  center_crop(int height, int width, std::string repr_size);
  static std::unique_ptr<transform> from_args(transform_args& args);

  sample apply(sample in) const override;
  std::string repr() const override;
  std::optional<cv::Rect> kept_region(cv::Size size) const override;

 private:
  int height_, width_;
  std::string repr_size_;
};

}  // namespace ptjs
