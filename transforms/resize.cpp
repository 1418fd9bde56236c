#include "resize.h"

#include <algorithm>
#include <climits>
#include <stdexcept>

#include "error.h"
#include "pil_resample.h"
#include "py_format.h"
#include "stage.h"
#include "tensor_resize.h"

namespace ptjs {

namespace {

bool tensor_capable(interpolation m) {
  return m == interpolation::nearest || m == interpolation::bilinear || m == interpolation::bicubic;
}

tensor_interp to_tensor_interp(interpolation m) {
  switch (m) {
    case interpolation::nearest: return tensor_interp::nearest;
    case interpolation::bicubic: return tensor_interp::bicubic;
    default: return tensor_interp::bilinear;
  }
}

pil_filter to_pil_filter(interpolation m) {
  switch (m) {
    case interpolation::nearest: return pil_filter::nearest;
    case interpolation::bilinear: return pil_filter::bilinear;
    case interpolation::bicubic: return pil_filter::bicubic;
    case interpolation::box: return pil_filter::box;
    case interpolation::hamming: return pil_filter::hamming;
    case interpolation::lanczos: return pil_filter::lanczos;
  }
  return pil_filter::bilinear;
}

[[noreturn]] void config_error(const std::string& what) { throw error(error_code::invalid_config, "Resize: " + what); }

}  // namespace

const std::vector<std::string>& interpolation_names() {
  static const std::vector<std::string> names = {"nearest", "bilinear", "bicubic", "box", "hamming", "lanczos"};
  return names;
}

std::string interpolation_name(interpolation mode) { return interpolation_names()[static_cast<size_t>(mode)]; }

interpolation parse_interpolation(const std::string& name) {
  const auto& names = interpolation_names();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<interpolation>(i);
  }
  throw std::invalid_argument("unknown interpolation '" + name + "'");
}

cv::Size resized_output_size(cv::Size image, const std::vector<int>& size, std::optional<int> max_size) {
  if (size.size() == 2) return cv::Size(size[1], size[0]);
  const int h = image.height, w = image.width;
  const int short_side = w <= h ? w : h;
  const int long_side = w <= h ? h : w;
  const long long requested = size.at(0);
  // Python: int(requested * long / short), one true division of exact integers in double.
  long long new_short = requested;
  long long new_long =
      static_cast<long long>(static_cast<double>(requested * long_side) / static_cast<double>(short_side));
  if (max_size && new_long > *max_size) {
    new_short = static_cast<long long>(static_cast<double>(static_cast<long long>(*max_size) * new_short) /
                                       static_cast<double>(new_long));
    new_long = *max_size;
  }
  // An extreme aspect ratio can pass int: saturated, it fails the output size check.
  const auto to_int = [](long long v) { return static_cast<int>(std::min<long long>(v, INT_MAX)); };
  if (w <= h) return cv::Size(to_int(new_short), to_int(new_long));
  return cv::Size(to_int(new_long), to_int(new_short));
}

resize::resize(std::vector<int> size, interpolation mode, std::optional<int> max_size,
               std::optional<bool> antialias, bool size_is_int)
    : size_(std::move(size)), mode_(mode), max_size_(max_size), antialias_(antialias), size_is_int_(size_is_int) {
  if (size_.empty() || size_.size() > 2) config_error("'size' must have 1 or 2 values");
  for (int s : size_) {
    if (s <= 0) config_error("'size' must be positive, got " + std::to_string(s));
  }
  if (size_.size() == 2) {
    const std::string problem = output_size_problem(size_[0], size_[1]);
    if (!problem.empty()) config_error("'size' " + py_list(size_) + " asks for " + problem);  // presets
  }
  if (max_size_) {
    if (size_.size() != 1) {
      config_error("'max_size' is only allowed when 'size' is one value (the smaller edge)");
    }
    if (*max_size_ <= size_[0]) {
      config_error("'max_size' = " + std::to_string(*max_size_) +
                   " must be strictly greater than the requested size for the smaller edge = " +
                   std::to_string(size_[0]));
    }
  }
  if (antialias_ == false && !tensor_capable(mode_)) {
    config_error("antialias: false resizes as torchvision resizes tensors, which supports nearest, bilinear and "
                 "bicubic only, got " + interpolation_name(mode_));
  }
}

std::unique_ptr<transform> resize::from_args(transform_args& args) {
  const YAML::Node size_node = args.node("size");
  const bool size_is_int = size_node.IsScalar();
  const std::vector<int> size = args.get_int_list("size", {1, 2});
  for (int s : size) {
    if (s <= 0) args.fail("size", "'size' must be positive, got " + std::to_string(s));
  }
  if (size.size() == 2) {
    const std::string problem = output_size_problem(size[0], size[1]);
    if (!problem.empty()) args.fail("size", "'size' " + py_list(size) + " asks for " + problem);
  }
  const interpolation mode =
      parse_interpolation(args.get_choice("interpolation", interpolation_names(), std::string("bilinear")));
  const std::optional<int> max_size = args.get_optional_int("max_size");
  if (max_size && size.size() != 1) {
    args.fail("max_size", "'max_size' is only allowed when 'size' is one value (the smaller edge)");
  }
  if (max_size && *max_size <= size[0]) {
    args.fail("max_size", "'max_size' must be greater than 'size' (" + std::to_string(size[0]) + "), got " +
                              std::to_string(*max_size));
  }
  std::optional<bool> antialias;
  if (args.has("antialias")) antialias = args.get_bool("antialias");
  args.node("antialias");
  if (antialias == false && !tensor_capable(mode)) {
    args.fail("antialias", "antialias: false resizes as torchvision resizes tensors, which supports nearest, "
                           "bilinear and bicubic only, got interpolation " + interpolation_name(mode));
  }
  return std::make_unique<resize>(size, mode, max_size, antialias, size_is_int);
}

sample resize::apply(sample in) const {
  if (in.mat.empty()) throw error(error_code::invalid_input, "Resize: empty image");
  const cv::Size out_size = resized_output_size(in.mat.size(), size_, max_size_);
  if (out_size == in.mat.size()) return in;
  if (out_size.width <= 0 || out_size.height <= 0) {
    throw error(error_code::invalid_input, "Resize: output size " + std::to_string(out_size.height) + "x" +
                                               std::to_string(out_size.width) + " is empty for an image of " +
                                               std::to_string(in.mat.rows) + "x" + std::to_string(in.mat.cols));
  }
  const std::string problem = output_size_problem(out_size.height, out_size.width);
  if (!problem.empty()) {
    throw error(error_code::invalid_input, "Resize: an image of " + std::to_string(in.mat.rows) + "x" +
                                               std::to_string(in.mat.cols) + " would become " + problem);
  }
  if (!in.is_tensor) {
    if (in.mat.depth() != CV_8U || (in.mat.channels() != 1 && in.mat.channels() != 3)) {
      throw error(error_code::invalid_input, "Resize: expects an 8-bit L or RGB image");
    }
    if (antialias_ == false) {
      in.mat = tensor_resize(in.mat, out_size, to_tensor_interp(mode_));
    } else {
      in.mat = pil_resize(in.mat, out_size, to_pil_filter(mode_));
    }
    return in;
  }
  if (!tensor_capable(mode_)) {
    throw error(error_code::invalid_input, "Resize: interpolation " + interpolation_name(mode_) +
                                               " exists only for PIL images; put Resize before ToTensor");
  }
  if (antialias_ == true && mode_ != interpolation::nearest) {
    throw error(error_code::invalid_input,
                "Resize: antialias=True on a tensor is not supported; put Resize before ToTensor/PILToTensor "
                "(PIL path) or set antialias: false");
  }
  in.mat = tensor_resize(in.mat, out_size, to_tensor_interp(mode_));
  return in;
}

std::optional<sample> resize::apply_then(const sample& in, const transform& next) const {
  if (in.is_tensor || in.mat.empty() || in.mat.depth() != CV_8U || (in.mat.channels() != 1 && in.mat.channels() != 3) ||
      antialias_ == false || mode_ == interpolation::nearest)
    return std::nullopt;
  const cv::Size out_size = resized_output_size(in.mat.size(), size_, max_size_);
  if (out_size == in.mat.size() || out_size.width <= 0 || out_size.height <= 0) return std::nullopt;
  if (!output_size_problem(out_size.height, out_size.width).empty()) return std::nullopt;  // apply() says so
  const std::optional<cv::Rect> kept = next.kept_region(out_size);
  if (!kept) return std::nullopt;
  sample out;
  out.mat = pil_resize_region(in.mat, out_size, *kept, to_pil_filter(mode_));
  return out;
}

size_effect resize::effect_on_size() const {
  if (max_size_) return {};
  if (size_.size() == 1) return {false, cv::Size(size_[0], size_[0])};
  return {false, cv::Size(size_[1], size_[0])};
}

std::string resize::repr() const {
  const std::string size = size_is_int_ ? std::to_string(size_[0]) : py_list(size_);
  const std::string max_size = max_size_ ? std::to_string(*max_size_) : "None";
  const std::string antialias = antialias_ ? (*antialias_ ? "True" : "False") : "None";
  return "Resize(size=" + size + ", interpolation=" + interpolation_name(mode_) + ", max_size=" + max_size +
         ", antialias=" + antialias + ")";
}

}  // namespace ptjs
