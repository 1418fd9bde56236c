#include "center_crop.h"

#include <cmath>

#include "error.h"
#include "pad.h"
#include "py_format.h"
#include "stage.h"

namespace ptjs {

center_crop::center_crop(int height, int width, std::string repr_size)
    : height_(height), width_(width), repr_size_(std::move(repr_size)) {
  if (height_ <= 0 || width_ <= 0) {
    throw error(error_code::invalid_config, "CenterCrop: 'size' must be positive, got " + repr_size_);
  }
  const std::string problem = output_size_problem(height_, width_);
  if (!problem.empty()) throw error(error_code::invalid_config, "CenterCrop: 'size' " + repr_size_ + " asks for " + problem);
}

std::unique_ptr<transform> center_crop::from_args(transform_args& args) {
  const std::vector<int> size = args.get_int_list("size", {1, 2});
  for (int s : size) {
    if (s <= 0) args.fail("size", "'size' must be positive, got " + std::to_string(s));
  }
  const std::string problem = output_size_problem(size[0], size.back());
  if (!problem.empty()) args.fail("size", "'size' " + py_list(size) + " asks for " + problem);
  // torchvision's _setup_size makes a tuple of one value, and keeps a list of two as given.
  if (size.size() == 1) return std::make_unique<center_crop>(size[0], size[0], py_tuple({size[0], size[0]}));
  return std::make_unique<center_crop>(size[0], size[1], py_list(size));
}

sample center_crop::apply(sample in) const {
  if (in.is_tensor) {
    require_tensor(in, "CenterCrop");
  } else {
    require_pil_image(in, "CenterCrop");
  }
  int h = in.mat.rows, w = in.mat.cols;
  if (width_ > w || height_ > h) {
    const int left = width_ > w ? (width_ - w) / 2 : 0;
    const int top = height_ > h ? (height_ - h) / 2 : 0;
    const int right = width_ > w ? (width_ - w + 1) / 2 : 0;
    const int bottom = height_ > h ? (height_ - h + 1) / 2 : 0;
    in.mat = pad_image(in.mat, left, top, right, bottom, padding_mode::constant, {0.0});
    h = in.mat.rows, w = in.mat.cols;
    if (width_ == w && height_ == h) return in;
  }
  in.mat = in.mat(*kept_region(in.mat.size())).clone();
  return in;
}

std::optional<cv::Rect> center_crop::kept_region(cv::Size size) const {
  if (width_ > size.width || height_ > size.height) return std::nullopt;  // pads
  // Python's round() on an exact half goes to even; nearbyint does the same in the default mode.
  const int top = static_cast<int>(std::nearbyint((size.height - height_) / 2.0));
  const int left = static_cast<int>(std::nearbyint((size.width - width_) / 2.0));
  return cv::Rect(left, top, width_, height_);
}

std::string center_crop::repr() const { return "CenterCrop(size=" + repr_size_ + ")"; }

}  // namespace ptjs
