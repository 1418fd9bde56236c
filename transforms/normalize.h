// Normalize: torchvision.transforms.Normalize.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "registry.h"
#include "transform.h"

namespace ptjs {

// (x - mean[c]) / std[c] in float32 with mean and std rounded to float32 first (torch.as_tensor),
// a true division (no reciprocal). Float tensors only. mean/std of one value apply to every
// channel (torch broadcasting); otherwise their length must match the channels at apply time.
class normalize : public transform {
 public:
  // Throws ptjs::error(invalid_config) when a std is zero in float32 or a list is empty.
  normalize(std::vector<double> mean, std::vector<double> std, bool inplace = false);
  static std::unique_ptr<transform> from_args(transform_args& args);

  sample apply(sample in) const override;
  std::string repr() const override;
  size_effect effect_on_size() const override { return {true, {}}; }

  // What v / 255.f (ToTensor, ConvertImageDtype to float32) then this step give for the uint8
  // image `u8`, in one pass: each channel's 256 results are computed once, with the same float
  // operations, and looked up. Empty when the channels do not fit mean and std (apply() then
  // reports it, naming the tensor it got).
  std::optional<cv::Mat> apply_to_unit_floats(const cv::Mat& u8) const;

  // The float tensor sample `next` makes of the uint8 pixels `u8` once they are divided by 255,
  // when `next` is a Normalize that fits them; empty otherwise. What the steps converting to
  // float32 call in their apply_then.
  static std::optional<sample> after_unit_floats(const cv::Mat& u8, const transform& next);

 private:
  // Whether mean and std (one value, or one per channel) fit `channels`.
  bool fits(int channels) const;

  std::vector<double> mean_, std_;  // as written, for repr()
  std::vector<float> mean_f_, std_f_;
};

}  // namespace ptjs
