#include "tensor_resize.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "error.h"

namespace ptjs {

namespace {

// ATen's area_pixel_compute_scale without a scale factor: input / output in float.
float compute_scale(int in, int out) { return static_cast<float>(in) / static_cast<float>(out); }

// ATen's area_pixel_compute_source_index: scale * (dst + 0.5) - 0.5 with a float scale; the
// arithmetic is double (dst + 0.5 is). Matching torch 1.13's output needed the double kept.
double source_index(float scale, int dst, bool cubic) {
  const double src = scale * (dst + 0.5) - 0.5;
  return (!cubic && src < 0) ? 0.0 : src;
}

struct linear_tap {
  int i0, i1;
  float w0, w1;
};

std::vector<linear_tap> linear_taps(int in, int out) {
  std::vector<linear_tap> taps(static_cast<size_t>(out));
  const float scale = compute_scale(in, out);
  for (int o = 0; o < out; ++o) {
    if (in == out) {
      taps[o] = {o, o, 1.0f, 0.0f};
      continue;
    }
    const double real = source_index(scale, o, false);
    const int i0 = static_cast<int>(real);
    const int i1 = i0 + (i0 < in - 1 ? 1 : 0);
    const float w1 = static_cast<float>(std::min(std::max(real - i0, 0.0), 1.0));
    taps[o] = {i0, i1, 1.0f - w1, w1};
  }
  return taps;
}

cv::Mat bilinear(const cv::Mat& src, cv::Size size) {
  const int cn = src.channels();
  const auto tx = linear_taps(src.cols, size.width);
  const auto ty = linear_taps(src.rows, size.height);
  cv::Mat out(size, CV_32FC(cn));
  for (int y = 0; y < size.height; ++y) {
    const float* r0 = src.ptr<float>(ty[y].i0);
    const float* r1 = src.ptr<float>(ty[y].i1);
    float* o = out.ptr<float>(y);
    for (int x = 0; x < size.width; ++x) {
      const linear_tap& t = tx[x];
      for (int c = 0; c < cn; ++c) {
        // Accumulated in double and rounded once: this matched torch 1.13 exactly on downscales
        // (float accumulation was up to 1e-5 off); upscales can still differ by one ulp.
        const double a = static_cast<double>(r0[t.i0 * cn + c]) * t.w0 + static_cast<double>(r0[t.i1 * cn + c]) * t.w1;
        const double b = static_cast<double>(r1[t.i0 * cn + c]) * t.w0 + static_cast<double>(r1[t.i1 * cn + c]) * t.w1;
        o[x * cn + c] = static_cast<float>(a * ty[y].w0 + b * ty[y].w1);
      }
    }
  }
  return out;
}

// Keys' cubic convolution with A = -0.75 (ATen's get_cubic_upsample_coefficients), evaluated in
// double from the double source position and stored as float: closest to torch 1.13 (~1e-7).
void cubic_coeffs(double t, float c[4]) {
  constexpr double A = -0.75;
  const auto cc1 = [](double x) { return ((A + 2) * x - (A + 3)) * x * x + 1; };
  const auto cc2 = [](double x) { return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; };
  c[0] = static_cast<float>(cc2(t + 1.0));
  c[1] = static_cast<float>(cc1(t));
  c[2] = static_cast<float>(cc1(1.0 - t));
  c[3] = static_cast<float>(cc2(2.0 - t));
}

struct cubic_tap {
  int idx[4];
  float w[4];
};

std::vector<cubic_tap> cubic_taps(int in, int out) {
  std::vector<cubic_tap> taps(static_cast<size_t>(out));
  const float scale = compute_scale(in, out);
  for (int o = 0; o < out; ++o) {
    cubic_tap& t = taps[o];
    if (in == out) {
      for (int k = 0; k < 4; ++k) t.idx[k] = o;
      t.w[0] = 0, t.w[1] = 1, t.w[2] = 0, t.w[3] = 0;
      continue;
    }
    const double real = source_index(scale, o, true);
    const int i = static_cast<int>(std::floor(real));
    cubic_coeffs(real - i, t.w);
    for (int k = 0; k < 4; ++k) t.idx[k] = std::min(std::max(i - 1 + k, 0), in - 1);
  }
  return taps;
}

cv::Mat bicubic(const cv::Mat& src, cv::Size size) {
  const int cn = src.channels();
  const auto tx = cubic_taps(src.cols, size.width);
  const auto ty = cubic_taps(src.rows, size.height);
  cv::Mat out(size, CV_32FC(cn));
  for (int y = 0; y < size.height; ++y) {
    const cubic_tap& v = ty[y];
    const float* rows[4];
    for (int k = 0; k < 4; ++k) rows[k] = src.ptr<float>(v.idx[k]);
    float* o = out.ptr<float>(y);
    for (int x = 0; x < size.width; ++x) {
      const cubic_tap& h = tx[x];
      for (int c = 0; c < cn; ++c) {
        double acc = 0.0;
        for (int k = 0; k < 4; ++k) {
          const float* row = rows[k];
          double r = 0.0;
          for (int j = 0; j < 4; ++j) r += static_cast<double>(row[h.idx[j] * cn + c]) * h.w[j];
          acc += r * v.w[k];
        }
        o[x * cn + c] = static_cast<float>(acc);
      }
    }
  }
  return out;
}

// ATen's legacy 'nearest': floor(dst * scale) in float, clamped.
std::vector<int> nearest_index(int in, int out) {
  std::vector<int> idx(static_cast<size_t>(out));
  const float scale = compute_scale(in, out);
  for (int o = 0; o < out; ++o) {
    if (in == out) {
      idx[o] = o;
    } else if (out == 2 * in) {
      idx[o] = o >> 1;
    } else {
      idx[o] = std::min(static_cast<int>(std::floor(static_cast<float>(o) * scale)), in - 1);
    }
  }
  return idx;
}

cv::Mat nearest(const cv::Mat& src, cv::Size size) {
  const auto ix = nearest_index(src.cols, size.width);
  const auto iy = nearest_index(src.rows, size.height);
  const size_t pixel = src.elemSize();
  cv::Mat out(size, src.type());
  for (int y = 0; y < size.height; ++y) {
    const uint8_t* in = src.ptr<uint8_t>(iy[y]);
    uint8_t* o = out.ptr<uint8_t>(y);
    for (int x = 0; x < size.width; ++x) std::copy_n(in + ix[x] * pixel, pixel, o + x * pixel);
  }
  return out;
}

}  // namespace

cv::Mat tensor_resize(const cv::Mat& src, cv::Size size, tensor_interp interp) {
  if (src.empty() || (src.depth() != CV_32F && src.depth() != CV_8U)) {
    throw error(error_code::internal, "tensor_resize: expects a non-empty float32 or uint8 image");
  }
  if (interp == tensor_interp::nearest) return nearest(src, size);  // exact on any dtype
  cv::Mat f;
  src.convertTo(f, CV_32F);
  cv::Mat out = interp == tensor_interp::bilinear ? bilinear(f, size) : bicubic(f, size);
  if (src.depth() == CV_32F) return out;
  cv::Mat u8(size, src.type());
  const float* p = out.ptr<float>(0);
  uint8_t* q = u8.ptr<uint8_t>(0);
  const size_t n = out.total() * out.channels();
  for (size_t i = 0; i < n; ++i) {
    float v = p[i];
    if (interp == tensor_interp::bicubic) v = std::min(std::max(v, 0.0f), 255.0f);
    q[i] = static_cast<uint8_t>(static_cast<int>(std::nearbyint(v)));
  }
  return u8;
}

}  // namespace ptjs
