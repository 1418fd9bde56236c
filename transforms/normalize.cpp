#include "normalize.h"

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
