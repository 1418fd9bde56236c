#include "stage.h"

#include "error.h"

namespace ptjs {

std::string describe_sample(const sample& s) {
  const cv::Mat& m = s.mat;
  const std::string hw = std::to_string(m.rows) + "x" + std::to_string(m.cols);
  if (m.empty()) return "an empty image";
  if (!s.is_tensor) {
    const std::string mode = m.depth() == CV_8U && m.channels() == 1   ? "L"
                             : m.depth() == CV_8U && m.channels() == 3 ? "RGB"
                                                                       : "unsupported";
    return "a PIL " + mode + " image of " + hw + " (HxW)";
  }
  const std::string dtype = m.depth() == CV_32F ? "float32" : m.depth() == CV_8U ? "uint8" : "unsupported";
  return "a " + dtype + " tensor of " + std::to_string(m.channels()) + "x" + hw + " (CxHxW)";
}

std::string output_size_problem(long long height, long long width) {
  if (height <= 0 || width <= 0 || height <= max_step_pixels / width) return {};
  return std::to_string(height) + "x" + std::to_string(width) + " (HxW) = " + std::to_string(height * width) +
         " pixels, over the limit of " + std::to_string(max_step_pixels) + " pixels per image";
}

void require_pil_image(const sample& s, const std::string& transform) {
  if (s.is_tensor || s.mat.empty() || s.mat.depth() != CV_8U || (s.mat.channels() != 1 && s.mat.channels() != 3)) {
    throw error(error_code::invalid_input,
                transform + ": expects a PIL image (mode L or RGB), got " + describe_sample(s) +
                    (s.is_tensor ? "; put it before ToTensor/PILToTensor" : ""));
  }
}

void require_tensor(const sample& s, const std::string& transform) {
  if (!s.is_tensor || s.mat.empty() || (s.mat.depth() != CV_32F && s.mat.depth() != CV_8U)) {
    throw error(error_code::invalid_input, transform + ": expects a tensor, got " + describe_sample(s) +
                                               (s.is_tensor ? "" : "; put ToTensor or PILToTensor before it"));
  }
}

void require_float_tensor(const sample& s, const std::string& transform) {
  if (!s.is_tensor || s.mat.empty() || s.mat.depth() != CV_32F) {
    throw error(error_code::invalid_input,
                transform + ": expects a float tensor, got " + describe_sample(s) +
                    (s.is_tensor ? "; add ConvertImageDtype: {dtype: float32} before it"
                                 : "; put ToTensor before it"));
  }
}

}  // namespace ptjs
