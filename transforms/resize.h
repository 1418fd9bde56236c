// Resize: torchvision.transforms.Resize.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "registry.h"
#include "transform.h"

namespace ptjs {

enum class interpolation { nearest, bilinear, bicubic, box, hamming, lanczos };

// torchvision's InterpolationMode value ("bilinear", ...) and back; parse throws std::invalid_argument.
std::string interpolation_name(interpolation mode);
interpolation parse_interpolation(const std::string& name);
const std::vector<std::string>& interpolation_names();

// torchvision 0.14 _compute_resized_output_size: size is [h, w] or [short side]; with one value
// the long side is int(size * long / short) in double, then capped by max_size.
cv::Size resized_output_size(cv::Size image, const std::vector<int>& size, std::optional<int> max_size);

// PIL-stage images (uint8 L/RGB) resize as Pillow does (bit-exact); with antialias == false they
// take torchvision's tensor path instead (F_t.resize on a uint8 tensor). Tensor-stage samples
// follow F_t.resize (antialias off; nearest, bilinear, bicubic). An unchanged size returns the
// input untouched, as torchvision does.
class resize : public transform {
 public:
  // size: 1 or 2 positive values; max_size only with one value and > size[0].
  // size_is_int only changes repr() (torchvision prints the argument as given).
  // Throws ptjs::error(invalid_config) for invalid combinations.
  resize(std::vector<int> size, interpolation mode, std::optional<int> max_size, std::optional<bool> antialias,
         bool size_is_int = false);
  static std::unique_ptr<transform> from_args(transform_args& args);

  sample apply(sample in) const override;
  std::string repr() const override;
  // Draft requests: S (or [S]) asks for (S, S), [h, w] for (w, h): both keep each side of the
  // reduced image at least as large as the side it is resized to. With max_size: none
  // (a conservative choice: the full decode).
  size_effect effect_on_size() const override;
  // A PIL-stage resize (antialiased, not nearest) followed by a step that keeps a region of
  // it (CenterCrop) computes only that region: Resize(256) + CenterCrop(224) on a 640x480
  // photo resamples 224x224 pixels instead of 341x256.
  std::optional<sample> apply_then(const sample& in, const transform& next) const override;

 private:
  std::vector<int> size_;
  interpolation mode_;
  std::optional<int> max_size_;
  std::optional<bool> antialias_;  // nullopt = torchvision's None
  bool size_is_int_;
};

}  // namespace ptjs
