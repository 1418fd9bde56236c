// What flows through a preprocessing pipeline.
#pragma once

#include <opencv2/core.hpp>

namespace ptjs {

// One image on its way through the pipeline, always stored HWC (interleaved channels).
//
// While `is_tensor` is false it stands for a PIL image: CV_8UC3 (mode RGB) or CV_8UC1 (mode L).
// ToTensor / PILToTensor turn it into a tensor: CV_32FC(c) or CV_8UC(c), still HWC in memory;
// the batcher transposes to CHW when it collates. Transforms that exist for both PIL images and
// tensors in torchvision (CenterCrop, Pad, Resize, Grayscale, ...) accept both stages and follow
// torchvision's semantics for each.
struct sample {
  cv::Mat mat;
  bool is_tensor = false;
};

}  // namespace ptjs
