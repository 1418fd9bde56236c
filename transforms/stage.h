// Checks shared by transforms: which stage (PIL image or tensor) and element type a sample is.
#pragma once

#include <string>

#include "sample.h"

namespace ptjs {

// "a PIL RGB image of 32x48 (HxW)", "a float32 tensor of 3x224x224 (CxHxW)".
std::string describe_sample(const sample& s);

// The most pixels one step may produce: Pillow's decompression-bomb limit (2 x
// Image.MAX_IMAGE_PIXELS), also decoding's default. Without it a spec's size (Resize to
// [60000, 60000], CenterCrop or Pad past the image), or an extreme aspect ratio under a
// one-number Resize, would allocate until the system killed the process.
constexpr long long max_step_pixels = 178956970;

// Empty when an output of height x width fits within max_step_pixels, else the size and the
// limit: "60000x60000 (HxW) = 3600000000 pixels, over the limit of 178956970 pixels per image".
std::string output_size_problem(long long height, long long width);

// Throw ptjs::error(invalid_input) naming the transform, what it takes and what it got.
void require_pil_image(const sample& s, const std::string& transform);  // uint8 L or RGB
void require_tensor(const sample& s, const std::string& transform);     // float32 or uint8
void require_float_tensor(const sample& s, const std::string& transform);

}  // namespace ptjs
