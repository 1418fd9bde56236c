#include "grayscale.h"

#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

#include "error.h"
#include "stage.h"

namespace ptjs {

namespace {

cv::Mat pil_rgb_to_l(const cv::Mat& rgb) {
  cv::Mat out(rgb.size(), CV_8UC1);
  for (int y = 0; y < rgb.rows; ++y) {
    const uint8_t* p = rgb.ptr<uint8_t>(y);
    uint8_t* q = out.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols; ++x) {
      const uint32_t v = p[3 * x] * 19595u + p[3 * x + 1] * 38470u + p[3 * x + 2] * 7471u + 0x8000u;
      q[x] = static_cast<uint8_t>(v >> 16);
    }
  }
  return out;
}

template <typename T>
cv::Mat tensor_rgb_to_gray(const cv::Mat& rgb) {
  cv::Mat out(rgb.size(), CV_MAKETYPE(rgb.depth(), 1));
  // Python float scalars times a float32 tensor: the scalar is used as float32.
  const float wr = static_cast<float>(0.2989), wg = static_cast<float>(0.587), wb = static_cast<float>(0.114);
  for (int y = 0; y < rgb.rows; ++y) {
    const T* p = rgb.ptr<T>(y);
    T* q = out.ptr<T>(y);
    for (int x = 0; x < rgb.cols; ++x) {
      const float r = static_cast<float>(p[3 * x]), g = static_cast<float>(p[3 * x + 1]);
      const float b = static_cast<float>(p[3 * x + 2]);
      const float l = wr * r + wg * g + wb * b;
      q[x] = static_cast<T>(l);
    }
  }
  return out;
}

cv::Mat repeat3(const cv::Mat& one) {
  cv::Mat out;
  cv::merge(std::vector<cv::Mat>{one, one, one}, out);
  return out;
}

}  // namespace

grayscale::grayscale(int num_output_channels) : num_output_channels_(num_output_channels) {
  if (num_output_channels_ != 1 && num_output_channels_ != 3) {
    throw error(error_code::invalid_config, "Grayscale: 'num_output_channels' must be 1 or 3, got " +
                                                std::to_string(num_output_channels_));
  }
}

std::unique_ptr<transform> grayscale::from_args(transform_args& args) {
  const int n = args.get_int("num_output_channels", 1);
  if (n != 1 && n != 3) {
    args.fail("num_output_channels", "'num_output_channels' must be 1 or 3, got " + std::to_string(n));
  }
  return std::make_unique<grayscale>(n);
}

sample grayscale::apply(sample in) const {
  cv::Mat l;
  if (!in.is_tensor) {
    require_pil_image(in, "Grayscale");
    l = in.mat.channels() == 3 ? pil_rgb_to_l(in.mat) : in.mat.clone();
  } else {
    require_tensor(in, "Grayscale");
    if (in.mat.channels() == 1) {
      l = in.mat.clone();
    } else if (in.mat.channels() == 3) {
      l = in.mat.depth() == CV_32F ? tensor_rgb_to_gray<float>(in.mat) : tensor_rgb_to_gray<uint8_t>(in.mat);
    } else {
      throw error(error_code::invalid_input, "Grayscale: expects 1 or 3 channels, got " + describe_sample(in));
    }
  }
  // torchvision expands a tensor to the input's shape, so a 1-channel tensor stays 1-channel.
  const bool expand = num_output_channels_ == 3 && !(in.is_tensor && in.mat.channels() == 1);
  in.mat = expand ? repeat3(l) : l;
  return in;
}

std::string grayscale::repr() const {
  return "Grayscale(num_output_channels=" + std::to_string(num_output_channels_) + ")";
}

}  // namespace ptjs
