#include "to_tensor.h"

#include <cstdint>

#include "normalize.h"
#include "stage.h"

namespace ptjs {

cv::Mat uint8_to_unit_float(const cv::Mat& src) {
  cv::Mat out(src.size(), CV_32FC(src.channels()));
  const size_t row_len = static_cast<size_t>(src.cols) * src.channels();
  for (int y = 0; y < src.rows; ++y) {
    const uint8_t* p = src.ptr<uint8_t>(y);
    float* q = out.ptr<float>(y);
    for (size_t i = 0; i < row_len; ++i) q[i] = static_cast<float>(p[i]) / 255.0f;
  }
  return out;
}

std::unique_ptr<transform> to_tensor::from_args(transform_args&) { return std::make_unique<to_tensor>(); }

sample to_tensor::apply(sample in) const {
  require_pil_image(in, "ToTensor");
  in.mat = uint8_to_unit_float(in.mat);
  in.is_tensor = true;
  return in;
}

std::optional<sample> to_tensor::apply_then(const sample& in, const transform& next) const {
  if (dynamic_cast<const normalize*>(&next) == nullptr) return std::nullopt;
  require_pil_image(in, "ToTensor");
  return normalize::after_unit_floats(in.mat, next);
}

}  // namespace ptjs
