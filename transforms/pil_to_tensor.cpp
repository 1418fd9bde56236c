#include "pil_to_tensor.h"

#include "stage.h"

namespace ptjs {

std::unique_ptr<transform> pil_to_tensor::from_args(transform_args&) { return std::make_unique<pil_to_tensor>(); }

sample pil_to_tensor::apply(sample in) const {
  require_pil_image(in, "PILToTensor");
  in.is_tensor = true;
  return in;
}

}  // namespace ptjs
