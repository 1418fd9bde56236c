// torch.nn.functional.interpolate as torchvision 0.14's tensor Resize calls it (antialias off,
// align_corners=False, output size given), on HWC images.
#pragma once

#include <opencv2/core.hpp>

namespace ptjs {

enum class tensor_interp { nearest, bilinear, bicubic };

// CV_32FC(n) in -> CV_32FC(n) out, computed in float32 as ATen's CPU kernels do.
// CV_8UC(n) in -> CV_8UC(n) out, as torchvision does for uint8 tensors: converted to float,
// interpolated, clamped to [0, 255] (bicubic), rounded half to even, converted back.
// Float results match torch 1.13 exactly for bilinear downscales and within ~1e-6 otherwise;
// uint8 results can land one level away after rounding (within 1/255 after ToTensor).
cv::Mat tensor_resize(const cv::Mat& src, cv::Size size, tensor_interp interp);

}  // namespace ptjs
