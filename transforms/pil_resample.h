// Pillow 9.4's Image.resize for 8-bit images, reimplemented so that results match bit for bit.
#pragma once

#include <opencv2/core.hpp>

namespace ptjs {

enum class pil_filter { nearest, box, bilinear, hamming, bicubic, lanczos };

// Image.resize((width, height), filter) on an 8-bit image with any number of interleaved
// channels (CV_8UC1 = mode L, CV_8UC3 = mode RGB). Same size returns a copy, as Pillow does.
//  - nearest: Pillow's affine ScaleAffine path (incremental double source coordinates);
//  - the others: ImagingResample's separable convolution with double coefficients turned into
//    22-bit fixed point, horizontal pass first over only the rows the vertical pass reads, each
//    pass rounded and clipped to uint8, and an axis whose size does not change skipped.
cv::Mat pil_resize(const cv::Mat& src, cv::Size size, pil_filter filter);

// pil_resize(src, size, filter)(region), computing only that region (and reading only the
// input it depends on): the same pixels, for a resize followed by a crop. `region` must lie
// inside `size`.
cv::Mat pil_resize_region(const cv::Mat& src, cv::Size size, cv::Rect region, pil_filter filter);

// The transpose of an 8-bit image (rows become columns), as cv::transpose gives it. RGB
// images on a CPU with AVX2 go through 8x8-pixel blocks in registers (cv::transpose moves
// 3-byte pixels one at a time: 0.5 ms for a 1130x750 region, four times a copy); anything
// else through cv::transpose. Exposed for its test.
void transpose_pixels(const cv::Mat& in, cv::Mat& out);

}  // namespace ptjs
