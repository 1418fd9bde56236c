// Pad: torchvision.transforms.Pad, and the padding helper CenterCrop shares.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "registry.h"
#include "transform.h"

namespace ptjs {

enum class padding_mode { constant, edge, reflect, symmetric };

// Pads an HWC image of any depth and channel count by (left, top, right, bottom); negative
// amounts crop. Non-constant modes follow numpy.pad (what torchvision's PIL path calls), which
// repeats the reflection when a pad is wider than the image. `fill` holds one value per channel,
// already converted to what the element type can hold. Throws ptjs::error(invalid_input) when the
// result would be empty.
cv::Mat pad_image(const cv::Mat& src, int left, int top, int right, int bottom, padding_mode mode,
                  const std::vector<double>& fill);

class pad : public transform {
 public:
  // padding: 1, 2 (left/right, top/bottom) or 4 (left, top, right, bottom) values.
  // fill: one value, or one per channel (PIL images only). repr_padding / repr_fill are the
  // arguments as written, for repr().
  pad(std::vector<int> padding, std::vector<double> fill, padding_mode mode, std::string repr_padding,
      std::string repr_fill);
  static std::unique_ptr<transform> from_args(transform_args& args);

  sample apply(sample in) const override;
  std::string repr() const override;

 private:
  int left_, top_, right_, bottom_;
  std::vector<double> fill_;
  padding_mode mode_;
  std::string repr_padding_, repr_fill_;
};

}  // namespace ptjs
