#include "convert_image_dtype.h"

#include <cstdint>

#include "error.h"
#include "normalize.h"
#include "stage.h"
#include "to_tensor.h"

namespace ptjs {

convert_image_dtype::convert_image_dtype(int cv_depth) : depth_(cv_depth) {
  if (depth_ != CV_32F && depth_ != CV_8U) {
    throw error(error_code::invalid_config, "ConvertImageDtype: dtype must be float32 or uint8");
  }
}

std::unique_ptr<transform> convert_image_dtype::from_args(transform_args& args) {
  const std::string dtype = args.get_choice(
      "dtype", {"float32", "float", "torch.float32", "torch.float", "uint8", "torch.uint8"});
  return std::make_unique<convert_image_dtype>(dtype.find("uint8") != std::string::npos ? CV_8U : CV_32F);
}

sample convert_image_dtype::apply(sample in) const {
  require_tensor(in, "ConvertImageDtype");
  if (in.mat.depth() == depth_) return in;
  if (depth_ == CV_32F) {
    in.mat = uint8_to_unit_float(in.mat);
    return in;
  }
  // torchvision: image.mul(255 + 1 - 1e-3).to(uint8), the scalar taken as float32 and the cast
  // truncating (x86 conversion: through int32, keeping the low byte).
  const float scale = static_cast<float>(255.0 + 1.0 - 1e-3);
  cv::Mat out(in.mat.size(), CV_8UC(in.mat.channels()));
  const size_t row_len = static_cast<size_t>(in.mat.cols) * in.mat.channels();
  for (int y = 0; y < in.mat.rows; ++y) {
    const float* p = in.mat.ptr<float>(y);
    uint8_t* q = out.ptr<uint8_t>(y);
    for (size_t i = 0; i < row_len; ++i) {
      const float v = p[i] * scale;
      const bool fits = v > -2147483648.0f && v < 2147483648.0f;  // else x86 yields INT32_MIN
      q[i] = static_cast<uint8_t>(fits ? static_cast<int32_t>(v) : 0);
    }
  }
  in.mat = out;
  return in;
}

std::optional<sample> convert_image_dtype::apply_then(const sample& in, const transform& next) const {
  if (depth_ != CV_32F || dynamic_cast<const normalize*>(&next) == nullptr) return std::nullopt;
  require_tensor(in, "ConvertImageDtype");
  if (in.mat.depth() != CV_8U) return std::nullopt;
  return normalize::after_unit_floats(in.mat, next);
}

std::string convert_image_dtype::repr() const {
  return std::string("ConvertImageDtype(dtype=") + (depth_ == CV_32F ? "torch.float32" : "torch.uint8") + ")";
}

}  // namespace ptjs
