// The interface every preprocessing step implements.
#pragma once

#include <string>

#include "sample.h"

namespace ptjs {

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
};

}  // namespace ptjs
