#include "pil_resample.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cpu_clones.h"
#include "error.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PTJS_AVX2_TRANSPOSE 1
#endif

namespace ptjs {

namespace {

// Pillow keeps 8 bits for the result and 2 for overflow of the signed sum.
constexpr int precision_bits = 32 - 8 - 2;

double box_filter(double x) { return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0; }

double bilinear_filter(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

double hamming_filter(double x) {
  if (x < 0.0) x = -x;
  if (x == 0.0) return 1.0;
  if (x >= 1.0) return 0.0;
  x = x * M_PI;
  // Pillow writes the window constants as float literals; keep their float values.
  return std::sin(x) / x * (static_cast<double>(0.54f) + static_cast<double>(0.46f) * std::cos(x));
}

double bicubic_filter(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

double sinc_filter(double x) {
  if (x == 0.0) return 1.0;
  x = x * M_PI;
  return std::sin(x) / x;
}

double lanczos_filter(double x) {
  if (-3.0 <= x && x < 3.0) return sinc_filter(x) * sinc_filter(x / 3);
  return 0.0;
}

struct filter_def {
  double (*fn)(double);
  double support;
};

filter_def filter_for(pil_filter f) {
  switch (f) {
    case pil_filter::box: return {box_filter, 0.5};
    case pil_filter::bilinear: return {bilinear_filter, 1.0};
    case pil_filter::hamming: return {hamming_filter, 1.0};
    case pil_filter::bicubic: return {bicubic_filter, 2.0};
    case pil_filter::lanczos: return {lanczos_filter, 3.0};
    case pil_filter::nearest: break;
  }
  throw error(error_code::internal, "pil_resize: nearest has no convolution filter");
}

// For each output index: the first input index, the number of taps, and ksize fixed-point weights.
struct coeffs {
  int ksize = 0;
  std::vector<int> bounds;  // (xmin, count) pairs
  std::vector<int32_t> k;   // out_size * ksize
};

coeffs precompute_coeffs(int in_size, float in0, float in1, int out_size, const filter_def& filter) {
  double scale = static_cast<double>(in1 - in0) / out_size;
  double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = filter.support * filterscale;
  coeffs c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.bounds.resize(static_cast<size_t>(out_size) * 2);
  c.k.assign(static_cast<size_t>(out_size) * c.ksize, 0);
  std::vector<double> w(static_cast<size_t>(c.ksize));
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      w[x] = filter.fn((x + xmin - center + 0.5) * ss);
      ww += w[x];
    }
    int32_t* k = &c.k[static_cast<size_t>(xx) * c.ksize];
    for (int x = 0; x < xmax; ++x) {
      const double v = ww != 0.0 ? w[x] / ww : w[x];
      // Pillow rounds half away from zero when it converts to fixed point.
      k[x] = v < 0 ? static_cast<int32_t>(-0.5 + v * (1 << precision_bits))
                   : static_cast<int32_t>(0.5 + v * (1 << precision_bits));
    }
    c.bounds[xx * 2] = xmin;
    c.bounds[xx * 2 + 1] = xmax;
  }
  return c;
}

// The coefficients of outputs [first, first + count), with the input rows (or columns) they
// read, [input_begin, input_end); bounds rebased to input_begin.
struct coeffs_slice {
  coeffs c;
  int input_begin = 0, input_end = 0;
};

coeffs_slice slice(const coeffs& all, int first, int count) {
  coeffs_slice out;
  out.c.ksize = all.ksize;
  out.c.bounds.assign(all.bounds.begin() + first * 2, all.bounds.begin() + (first + count) * 2);
  out.c.k.assign(all.k.begin() + static_cast<std::ptrdiff_t>(first) * all.ksize,
                 all.k.begin() + static_cast<std::ptrdiff_t>(first + count) * all.ksize);
  out.input_begin = out.c.bounds[0];
  out.input_end = out.c.bounds[count * 2 - 2] + out.c.bounds[count * 2 - 1];
  for (int i = 0; i < count; ++i) out.c.bounds[i * 2] -= out.input_begin;
  return out;
}

inline uint8_t clip8(int v) {
  v >>= precision_bits;
  return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

// Widening 32-bit multiply-adds over whole rows: baseline x86-64 (SSE2) has no 32-bit vector
// multiply, hence the AVX2 and AVX-512 versions.
PTJS_CPU_CLONES
void resample_vertical(const cv::Mat& in, cv::Mat& out, const coeffs& c) {
  const int cn = in.channels();
  const int row_len = out.cols * cn;
  std::vector<int> acc(static_cast<size_t>(row_len));
  for (int yy = 0; yy < out.rows; ++yy) {
    const int ymin = c.bounds[yy * 2];
    const int ymax = c.bounds[yy * 2 + 1];
    const int32_t* k = &c.k[static_cast<size_t>(yy) * c.ksize];
    // Integer sums: accumulating row by row gives the same result as Pillow's order.
    std::fill(acc.begin(), acc.end(), 1 << (precision_bits - 1));
    for (int y = 0; y < ymax; ++y) {
      const uint8_t* row = in.ptr<uint8_t>(y + ymin);
      const int32_t ky = k[y];
      for (int i = 0; i < row_len; ++i) acc[i] += row[i] * ky;
    }
    uint8_t* dst = out.ptr<uint8_t>(yy);
    for (int i = 0; i < row_len; ++i) dst[i] = clip8(acc[i]);
  }
}

#ifdef PTJS_AVX2_TRANSPOSE
// The low 12 bytes of v, exactly.
__attribute__((target("avx2"))) inline void store12(uint8_t* dst, __m128i v) {
  _mm_storel_epi64(reinterpret_cast<__m128i*>(dst), v);
  const int32_t last = _mm_extract_epi32(v, 2);
  std::memcpy(dst + 8, &last, 4);
}

// One 8x8 block of 3-byte pixels: eight rows of 24 bytes in, eight rows of 24 bytes out. Each
// row is widened to eight 32-bit pixels (two 16-byte loads that stay inside the row's 24
// bytes), the 8x8 matrix of 32-bit pixels is transposed with unpacks and lane swaps, and each
// column is packed back to 24 bytes with exact 8- and 4-byte stores.
__attribute__((target("avx2"))) inline void transpose_block_rgb(const uint8_t* in, size_t in_step, uint8_t* out,
                                                                size_t out_step) {
  const __m256i widen = _mm256_setr_epi8(0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11, -1,  //
                                         4, 5, 6, -1, 7, 8, 9, -1, 10, 11, 12, -1, 13, 14, 15, -1);
  __m256i r[8];
  for (int i = 0; i < 8; ++i) {
    const uint8_t* p = in + i * in_step;
    const __m256i v = _mm256_set_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 8)),
                                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    r[i] = _mm256_shuffle_epi8(v, widen);
  }
  __m256i t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_epi32(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);
    u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);
    u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]);
    u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  // u[0..3] hold rows 0-3 of columns (0, 4), (1, 5), (2, 6), (3, 7) in their two lanes; u[4..7]
  // rows 4-7 of the same columns.
  const __m256i narrow = _mm256_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1,  //
                                          0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
  for (int c = 0; c < 4; ++c) {
    const __m256i first = _mm256_shuffle_epi8(_mm256_permute2x128_si256(u[c], u[c + 4], 0x20), narrow);
    const __m256i second = _mm256_shuffle_epi8(_mm256_permute2x128_si256(u[c], u[c + 4], 0x31), narrow);
    uint8_t* a = out + c * out_step;
    uint8_t* b = out + (c + 4) * out_step;
    store12(a, _mm256_castsi256_si128(first));
    store12(a + 12, _mm256_extracti128_si256(first, 1));
    store12(b, _mm256_castsi256_si128(second));
    store12(b + 12, _mm256_extracti128_si256(second, 1));
  }
}

__attribute__((target("avx2"))) void transpose_rgb_avx2(const cv::Mat& in, cv::Mat& out) {
  const int rows = in.rows, cols = in.cols;
  const int full_rows = rows / 8 * 8, full_cols = cols / 8 * 8;
  for (int y = 0; y < full_rows; y += 8)
    for (int x = 0; x < full_cols; x += 8)
      transpose_block_rgb(in.ptr<uint8_t>(y) + x * 3, in.step[0], out.ptr<uint8_t>(x) + y * 3, out.step[0]);
  // The edges that do not fill a block, pixel by pixel.
  for (int y = 0; y < rows; ++y) {
    const uint8_t* row = in.ptr<uint8_t>(y);
    for (int x = y < full_rows ? full_cols : 0; x < cols; ++x) std::memcpy(out.ptr<uint8_t>(x) + y * 3, row + x * 3, 3);
  }
}
#endif

// Pillow: COORD(v) is -1 for negative v, else truncation.
inline int coord(double v) { return v < 0.0 ? -1 : static_cast<int>(v); }

// ImagingScaleAffine with a = (in_w / out_w, 0, 0, 0, in_h / out_h, 0) and fill on.
cv::Mat nearest_resize(const cv::Mat& src, cv::Size size) {
  const size_t pixel = src.elemSize();
  // The box is float in Pillow; the ratio is taken in double.
  const double a0 = static_cast<double>(static_cast<float>(src.cols) - 0.0f) / size.width;
  const double a4 = static_cast<double>(static_cast<float>(src.rows) - 0.0f) / size.height;
  std::vector<int> xintab(static_cast<size_t>(size.width), 0);
  double xo = 0.0 + a0 * 0.5;
  double yo = 0.0 + a4 * 0.5;
  int xmin = size.width, xmax = 0;
  for (int x = 0; x < size.width; ++x) {
    const int xin = coord(xo);
    if (xin >= 0 && xin < src.cols) {
      xmax = x + 1;
      if (x < xmin) xmin = x;
      xintab[x] = xin;
    }
    xo += a0;
  }
  cv::Mat out(size, src.type(), cv::Scalar::all(0));
  for (int y = 0; y < size.height; ++y) {
    const int yi = coord(yo);
    if (yi >= 0 && yi < src.rows) {
      const uint8_t* in = src.ptr<uint8_t>(yi);
      uint8_t* o = out.ptr<uint8_t>(y);
      for (int x = xmin; x < xmax; ++x) std::copy_n(in + xintab[x] * pixel, pixel, o + x * pixel);
    }
    yo += a4;
  }
  return out;
}

}  // namespace

void transpose_pixels(const cv::Mat& in, cv::Mat& out) {
#ifdef PTJS_AVX2_TRANSPOSE
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2 && in.type() == CV_8UC3 && !in.empty() && in.data != out.data) {
    out.create(in.cols, in.rows, in.type());
    transpose_rgb_avx2(in, out);
    return;
  }
#endif
  cv::transpose(in, out);
}

cv::Mat pil_resize(const cv::Mat& src, cv::Size size, pil_filter filter) {
  return pil_resize_region(src, size, cv::Rect(0, 0, size.width, size.height), filter);
}

cv::Mat pil_resize_region(const cv::Mat& src, cv::Size size, cv::Rect region, pil_filter filter) {
  if (src.depth() != CV_8U || src.empty()) {
    throw error(error_code::internal, "pil_resize: expects a non-empty 8-bit image");
  }
  if (size.width <= 0 || size.height <= 0) {
    throw error(error_code::invalid_input, "pil_resize: output size must be positive");
  }
  if (region.empty() || (region & cv::Rect(0, 0, size.width, size.height)) != region) {
    throw error(error_code::internal, "pil_resize: the region is not inside the output");
  }
  if (size == src.size()) return src(region).clone();
  if (filter == pil_filter::nearest) return nearest_resize(src, size)(region).clone();

  const filter_def f = filter_for(filter);
  const bool need_horizontal = size.width != src.cols;
  const bool need_vertical = size.height != src.rows;
  // Every output pixel depends only on its own coefficients (computed for the whole output):
  // the region's rows and columns are taken from them, and only the input they read is used.
  coeffs_slice vert;
  if (need_vertical) {
    vert = slice(precompute_coeffs(src.rows, 0.0f, static_cast<float>(src.rows), size.height, f), region.y,
                 region.height);
  } else {
    vert.input_begin = region.y;
    vert.input_end = region.y + region.height;
  }

  cv::Mat cur = src.rowRange(vert.input_begin, vert.input_end);
  if (need_horizontal) {
    const coeffs_slice horiz = slice(precompute_coeffs(src.cols, 0.0f, static_cast<float>(src.cols), size.width, f),
                                     region.x, region.width);
    // The horizontal pass runs as a vertical pass over the transposed rows Pillow would read:
    // whole contiguous rows vectorise, where Pillow's per-pixel gather does not. The sums are
    // integers, so the order of the additions cannot change the result.
    cv::Mat src_t;
    transpose_pixels(cur.colRange(horiz.input_begin, horiz.input_end), src_t);
    cv::Mat tmp_t(region.width, src_t.cols, src.type());
    resample_vertical(src_t, tmp_t, horiz.c);
    transpose_pixels(tmp_t, cur);
  } else {
    cur = cur.colRange(region.x, region.x + region.width);
  }
  if (!need_vertical) return cur;  // the horizontal pass made it: size != src.size() here
  cv::Mat out(region.height, cur.cols, src.type());
  resample_vertical(cur, out, vert.c);
  return out;
}

}  // namespace ptjs
