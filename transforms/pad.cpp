#include "pad.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "error.h"
#include "py_format.h"
#include "stage.h"

namespace ptjs {

namespace {

const std::vector<std::string>& mode_names() {
  static const std::vector<std::string> names = {"constant", "edge", "reflect", "symmetric"};
  return names;
}

// numpy.pad's index for position i (may be outside [0, n)) of an axis of length n.
int map_index(int i, int n, padding_mode mode) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case padding_mode::edge: return i < 0 ? 0 : n - 1;
    case padding_mode::reflect: {
      if (n == 1) return 0;
      const int period = 2 * (n - 1);
      int j = ((i % period) + period) % period;
      return j >= n ? period - j : j;
    }
    case padding_mode::symmetric: {
      const int period = 2 * n;
      int j = ((i % period) + period) % period;
      return j >= n ? period - 1 - j : j;
    }
    case padding_mode::constant: break;
  }
  return -1;
}

// One pixel of `fill` in the element type of `type`.
std::vector<uint8_t> fill_pixel(int type, const std::vector<double>& fill) {
  const int cn = CV_MAT_CN(type);
  const int depth = CV_MAT_DEPTH(type);
  const size_t esize = CV_ELEM_SIZE1(type);
  std::vector<uint8_t> px(esize * cn, 0);
  for (int c = 0; c < cn; ++c) {
    const double v = fill.empty() ? 0.0 : fill[fill.size() == 1 ? 0 : static_cast<size_t>(c)];
    if (depth == CV_32F) {
      const float f = static_cast<float>(v);
      std::memcpy(&px[c * esize], &f, sizeof f);
    } else if (depth == CV_8U) {
      px[c] = static_cast<uint8_t>(v);
    } else {
      throw error(error_code::internal, "pad_image: unsupported element type");
    }
  }
  return px;
}

}  // namespace

cv::Mat pad_image(const cv::Mat& src, int left, int top, int right, int bottom, padding_mode mode,
                  const std::vector<double>& fill) {
  const long long out_w = static_cast<long long>(src.cols) + left + right;
  const long long out_h = static_cast<long long>(src.rows) + top + bottom;
  if (out_w <= 0 || out_h <= 0) {
    throw error(error_code::invalid_input, "padding (" + std::to_string(left) + ", " + std::to_string(top) + ", " +
                                               std::to_string(right) + ", " + std::to_string(bottom) +
                                               ") leaves nothing of an image of " + std::to_string(src.rows) +
                                               "x" + std::to_string(src.cols));
  }
  const std::string problem = output_size_problem(out_h, out_w);
  if (!problem.empty()) {
    throw error(error_code::invalid_input, "padding an image of " + std::to_string(src.rows) + "x" +
                                               std::to_string(src.cols) + " would make it " + problem);
  }
  const size_t pixel = src.elemSize();
  cv::Mat out(static_cast<int>(out_h), static_cast<int>(out_w), src.type());
  if (mode == padding_mode::constant) {
    const std::vector<uint8_t> px = fill_pixel(src.type(), fill);
    for (int y = 0; y < out.rows; ++y) {
      uint8_t* o = out.ptr<uint8_t>(y);
      const int sy = y - top;
      for (int x = 0; x < out.cols; ++x) {
        const int sx = x - left;
        const uint8_t* from = (sy >= 0 && sy < src.rows && sx >= 0 && sx < src.cols)
                                  ? src.ptr<uint8_t>(sy) + static_cast<size_t>(sx) * pixel
                                  : px.data();
        std::memcpy(o + static_cast<size_t>(x) * pixel, from, pixel);
      }
    }
    return out;
  }
  // Negative amounts crop first, then the rest is padded (torchvision's PIL path).
  const int cl = std::max(-left, 0), ct = std::max(-top, 0), cr = std::max(-right, 0), cb = std::max(-bottom, 0);
  const int n_w = src.cols - cl - cr, n_h = src.rows - ct - cb;
  if (n_w <= 0 || n_h <= 0) {
    throw error(error_code::invalid_input, "negative padding crops away the whole image of " +
                                               std::to_string(src.rows) + "x" + std::to_string(src.cols));
  }
  const int pl = std::max(left, 0), pt = std::max(top, 0);
  std::vector<int> xs(static_cast<size_t>(out.cols));
  for (int x = 0; x < out.cols; ++x) xs[x] = cl + map_index(x - pl, n_w, mode);
  for (int y = 0; y < out.rows; ++y) {
    const uint8_t* in = src.ptr<uint8_t>(ct + map_index(y - pt, n_h, mode));
    uint8_t* o = out.ptr<uint8_t>(y);
    for (int x = 0; x < out.cols; ++x) {
      std::memcpy(o + static_cast<size_t>(x) * pixel, in + static_cast<size_t>(xs[x]) * pixel, pixel);
    }
  }
  return out;
}

namespace {

struct edges {
  int left = 0, top = 0, right = 0, bottom = 0;
};

// torchvision's padding of 1 (all sides), 2 (left/right, top/bottom) or 4 values (left, top,
// right, bottom); throws invalid_config for any other count.
edges edges_of(const std::vector<int>& padding) {
  if (padding.size() == 1) return {padding[0], padding[0], padding[0], padding[0]};
  if (padding.size() == 2) return {padding[0], padding[1], padding[0], padding[1]};
  if (padding.size() == 4) return {padding[0], padding[1], padding[2], padding[3]};
  throw error(error_code::invalid_config, "Pad: 'padding' must have 1, 2 or 4 values");
}

// What even a 1x1 image would become, when that is over the pixel limit; empty otherwise.
std::string padding_problem(const edges& e) {
  const std::string problem = output_size_problem(1LL + e.top + e.bottom, 1LL + e.left + e.right);
  return problem.empty() ? problem : "makes even a 1x1 image " + problem;
}

}  // namespace

pad::pad(std::vector<int> padding, std::vector<double> fill, padding_mode mode, std::string repr_padding,
         std::string repr_fill)
    : fill_(std::move(fill)), mode_(mode), repr_padding_(std::move(repr_padding)), repr_fill_(std::move(repr_fill)) {
  const edges e = edges_of(padding);
  left_ = e.left, top_ = e.top, right_ = e.right, bottom_ = e.bottom;
  if (fill_.empty()) fill_ = {0.0};
  const std::string problem = padding_problem(e);
  if (!problem.empty()) throw error(error_code::invalid_config, "Pad: 'padding' " + repr_padding_ + " " + problem);
}

std::unique_ptr<transform> pad::from_args(transform_args& args) {
  const YAML::Node padding_node = args.node("padding");
  const std::vector<int> padding = args.get_int_list("padding", {1, 2, 4});
  const std::string problem = padding_problem(edges_of(padding));
  if (!problem.empty()) args.fail("padding", "'padding' " + py_list(padding) + " " + problem);
  const YAML::Node fill_node = args.node("fill");
  const std::vector<double> fill = args.get_double_list("fill", std::vector<double>{0.0});
  const std::string mode = args.get_choice("padding_mode", mode_names(), std::string("constant"));
  std::string repr_padding = padding_node.IsScalar() ? padding_node.Scalar() : py_list(padding);
  std::string repr_fill = "0";
  if (fill_node.IsDefined() && !fill_node.IsNull()) {
    const auto fmt = [](const YAML::Node& n) {
      int i = 0;
      return YAML::convert<int>::decode(n, i) ? std::to_string(i) : py_float(n.as<double>());
    };
    if (fill_node.IsScalar()) {
      repr_fill = fmt(fill_node);
    } else {
      repr_fill = "[";
      for (size_t i = 0; i < fill_node.size(); ++i) repr_fill += (i ? ", " : "") + fmt(fill_node[i]);
      repr_fill += "]";
    }
  }
  const auto it = std::find(mode_names().begin(), mode_names().end(), mode);
  return std::make_unique<pad>(padding, fill, static_cast<padding_mode>(it - mode_names().begin()),
                               repr_padding, repr_fill);
}

sample pad::apply(sample in) const {
  const int cn = in.mat.channels();
  std::vector<double> fill;
  if (mode_ == padding_mode::constant) {
    if (!in.is_tensor) {
      require_pil_image(in, "Pad");
      if (fill_.size() != 1 && fill_.size() != static_cast<size_t>(cn)) {
        throw error(error_code::invalid_input, "Pad: 'fill' has " + std::to_string(fill_.size()) +
                                                   " values but the image has " + std::to_string(cn) + " channels");
      }
      for (double v : fill_) {
        const double t = std::trunc(v);  // PIL takes int(fill)
        if (!(t >= 0 && t <= 255)) {
          throw error(error_code::invalid_input, "Pad: 'fill' must be within 0..255 for an 8-bit image, got " +
                                                     py_float(v));
        }
        fill.push_back(t);
      }
    } else {
      require_tensor(in, "Pad");
      if (fill_.size() != 1) {
        throw error(error_code::invalid_input, "Pad: 'fill' must be one number for a tensor (torchvision)");
      }
      double v = fill_[0];
      if (in.mat.depth() == CV_8U) {
        v = std::trunc(v);
        if (!(v >= 0 && v <= 255)) {
          throw error(error_code::invalid_input, "Pad: 'fill' must be within 0..255 for a uint8 tensor, got " +
                                                     py_float(fill_[0]));
        }
      }
      fill.push_back(v);
    }
  } else if (in.is_tensor) {
    require_tensor(in, "Pad");
    // torch.nn.functional.pad (reflect) and torchvision's symmetric indexing refuse pads this wide.
    const int limit_w = in.mat.cols - (mode_ == padding_mode::reflect ? 1 : 0);
    const int limit_h = in.mat.rows - (mode_ == padding_mode::reflect ? 1 : 0);
    if (mode_ != padding_mode::edge &&
        (std::max(left_, right_) > limit_w || std::max(top_, bottom_) > limit_h)) {
      throw error(error_code::invalid_input, "Pad: padding " + repr_padding_ + " is too wide for " +
                                                 describe_sample(in) + " in mode " +
                                                 mode_names()[static_cast<size_t>(mode_)]);
    }
  } else {
    require_pil_image(in, "Pad");
  }
  try {
    in.mat = pad_image(in.mat, left_, top_, right_, bottom_, mode_, fill);
  } catch (const error& e) {
    throw error(e.code(), std::string("Pad: ") + e.what());
  }
  return in;
}

std::string pad::repr() const {
  return "Pad(padding=" + repr_padding_ + ", fill=" + repr_fill_ +
         ", padding_mode=" + mode_names()[static_cast<size_t>(mode_)] + ")";
}

}  // namespace ptjs
