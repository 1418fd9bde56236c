// The interface every preprocessing step implements.
#pragma once

#include <optional>
#include <string>

#include <opencv2/core.hpp>

#include "sample.h"

namespace ptjs {

// What a step does to the image's size, for decoding JPEGs already reduced (`input.draft`).
struct size_effect {
  bool keeps_size = false;  // true: the output has the input's height and width
  // When the step changes the size: the (w, h) to request as PIL's Image.draft('RGB', (w, h))
  // does before decoding; empty when the step cannot tolerate a reduced input.
  cv::Size draft_request;
};

// One torchvision transform, constructed from validated arguments.
// apply() is const and thread-safe: one instance serves every worker thread.
class transform {
 public:
  virtual ~transform() = default;

  // Returns the transformed sample. Throws ptjs::error(invalid_input) when the sample is of a
  // stage or type the transform does not take (e.g. Normalize before ToTensor), naming both.
  virtual sample apply(sample in) const = 0;

  // torchvision-style repr with every argument resolved, e.g.
  // "Resize(size=[32], interpolation=bilinear, max_size=None, antialias=True)".
  virtual std::string repr() const = 0;

  // The default is the safe one: the size changes and no draft is requested.
  virtual size_effect effect_on_size() const { return {}; }

  // When this step only cuts a rectangle out of a PIL-stage image of `size` (a crop that fits),
  // that rectangle; empty otherwise. Lets the step before compute just that part.
  virtual std::optional<cv::Rect> kept_region(cv::Size size) const {
    (void)size;
    return std::nullopt;
  }

  // apply(in), then next.apply() on the result, done at once when this step can compute only
  // the region `next` keeps (the same pixels); empty when it cannot, and then nothing ran.
  virtual std::optional<sample> apply_then(const sample& in, const transform& next) const {
    (void)in, (void)next;
    return std::nullopt;
  }
};

}  // namespace ptjs
