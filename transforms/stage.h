// Checks shared by transforms: which stage (PIL image or tensor) and element type a sample is.
#pragma once

#include <string>

#include "sample.h"

namespace ptjs {

// "a PIL RGB image of 32x48 (HxW)", "a float32 tensor of 3x224x224 (CxHxW)".
std::string describe_sample(const sample& s);

// Throw ptjs::error(invalid_input) naming the transform, what it takes and what it got.
void require_pil_image(const sample& s, const std::string& transform);  // uint8 L or RGB
void require_tensor(const sample& s, const std::string& transform);     // float32 or uint8
void require_float_tensor(const sample& s, const std::string& transform);

}  // namespace ptjs
