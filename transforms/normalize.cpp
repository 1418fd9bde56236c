#include "normalize.h"

#include <cstdint>

#include "cpu_clones.h"
#include "error.h"
#include "py_format.h"
#include "stage.h"

namespace ptjs {

normalize::normalize(std::vector<double> mean, std::vector<double> std, bool)
    : mean_(std::move(mean)), std_(std::move(std)) {
  if (mean_.empty() || std_.empty()) {
    throw error(error_code::invalid_config, "Normalize: 'mean' and 'std' must not be empty");
  }
  for (double m : mean_) mean_f_.push_back(static_cast<float>(m));
  for (double s : std_) {
    std_f_.push_back(static_cast<float>(s));
    if (std_f_.back() == 0.0f) {
      throw error(error_code::invalid_config, "Normalize: std evaluated to zero after conversion to float32, "
                                              "leading to division by zero, got " + py_list(std_));
    }
  }
}

std::unique_ptr<transform> normalize::from_args(transform_args& args) {
  const std::vector<double> mean = args.get_double_list("mean");
  const std::vector<double> std = args.get_double_list("std");
  const bool inplace = args.get_bool("inplace", false);
  for (double s : std) {
    if (static_cast<float>(s) == 0.0f) {
      args.fail("std", "'std' must not contain zero (in float32), got " + py_list(std));
    }
  }
  if (mean.size() != std.size() && mean.size() != 1 && std.size() != 1) {
    args.fail("std", "'mean' has " + std::to_string(mean.size()) + " values but 'std' has " +
                         std::to_string(std.size()));
  }
  return std::make_unique<normalize>(mean, std, inplace);
}

namespace {

// (x - mean) / std element by element, as torchvision's sub_ then div_ (a true division).
PTJS_CPU_CLONES
void normalize_row(const float* in, const float* mean, const float* std, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = (in[i] - mean[i]) / std[i];
}

}  // namespace

bool normalize::fits(int channels) const {
  const auto fits_list = [channels](const std::vector<float>& list) {
    return list.size() == 1 || list.size() == static_cast<size_t>(channels);
  };
  return fits_list(mean_f_) && fits_list(std_f_);
}

std::optional<cv::Mat> normalize::apply_to_unit_floats(const cv::Mat& u8) const {
  const int cn = u8.channels();
  if (u8.depth() != CV_8U || !fits(cn)) return std::nullopt;
  std::vector<float> table(static_cast<size_t>(cn) * 256);
  for (int c = 0; c < cn; ++c) {
    const float m = mean_f_[mean_f_.size() == 1 ? 0 : c];
    const float s = std_f_[std_f_.size() == 1 ? 0 : c];
    for (int v = 0; v < 256; ++v) {
      const float unit = static_cast<float>(v) / 255.0f;  // as uint8_to_unit_float
      table[static_cast<size_t>(c) * 256 + v] = (unit - m) / s;  // as normalize_row
    }
  }
  cv::Mat out(u8.size(), CV_32FC(cn));
  for (int y = 0; y < u8.rows; ++y) {
    const uint8_t* p = u8.ptr<uint8_t>(y);
    float* q = out.ptr<float>(y);
    if (cn == 3) {
      const float *t0 = table.data(), *t1 = t0 + 256, *t2 = t1 + 256;
      for (int x = 0; x < u8.cols; ++x, p += 3, q += 3) {
        q[0] = t0[p[0]];
        q[1] = t1[p[1]];
        q[2] = t2[p[2]];
      }
      continue;
    }
    const size_t row_len = static_cast<size_t>(u8.cols) * cn;
    for (size_t i = 0; i < row_len; ++i) q[i] = table[(i % cn) * 256 + p[i]];
  }
  return out;
}

std::optional<sample> normalize::after_unit_floats(const cv::Mat& u8, const transform& next) {
  const auto* norm = dynamic_cast<const normalize*>(&next);
  if (norm == nullptr) return std::nullopt;
  auto mat = norm->apply_to_unit_floats(u8);
  if (!mat) return std::nullopt;
  return sample{std::move(*mat), true};
}

sample normalize::apply(sample in) const {
  require_float_tensor(in, "Normalize");
  const int cn = in.mat.channels();
  for (const auto* list : {&mean_f_, &std_f_}) {
    if (list->size() != 1 && list->size() != static_cast<size_t>(cn)) {
      throw error(error_code::invalid_input,
                  "Normalize: " + std::string(list == &mean_f_ ? "'mean'" : "'std'") + " has " +
                      std::to_string(list->size()) + " values but the tensor has " + std::to_string(cn) +
                      " channels (" + describe_sample(in) + ")");
    }
  }
  // Mean and std repeated along a whole row, so that each row is one flat loop.
  const size_t channels = static_cast<size_t>(cn);
  const size_t row_len = static_cast<size_t>(in.mat.cols) * channels;
  std::vector<float> m_row(row_len), s_row(row_len);
  for (size_t i = 0; i < row_len; ++i) {
    m_row[i] = mean_f_[mean_f_.size() == 1 ? 0 : i % channels];
    s_row[i] = std_f_[std_f_.size() == 1 ? 0 : i % channels];
  }
  cv::Mat out(in.mat.size(), in.mat.type());
  for (int y = 0; y < in.mat.rows; ++y)
    normalize_row(in.mat.ptr<float>(y), m_row.data(), s_row.data(), out.ptr<float>(y), row_len);
  in.mat = out;
  return in;
}

std::string normalize::repr() const {
  return "Normalize(mean=" + py_list(mean_) + ", std=" + py_list(std_) + ")";
}

}  // namespace ptjs
