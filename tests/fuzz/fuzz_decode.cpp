// Fuzz target (a): image bytes -> decode_image -> a full preprocessing pipeline, as `ptjs run`
// and `POST /predictions` do with every file or request body. Two pipelines per input: an
// ImageNet-like preset in RGB and a grayscale one in L (the digits model's shape). Errors that
// ptjs reports (ptjs::error) are expected; anything else (a crash, a sanitizer report, another
// exception type escaping) is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "error.h"
#include "image_io.h"
#include "registry.h"

namespace {

struct pipelines {
  ptjs::transform_registry registry;
  ptjs::pipeline imagenet;
  ptjs::pipeline gray;
  pipelines() {
    ptjs::register_builtin_transforms(registry);
    imagenet = ptjs::build_pipeline(
        YAML::Load("{preset: ImageClassification, resize_size: 64, crop_size: 56, interpolation: bilinear}"),
        registry, "fuzz-imagenet");
    gray = ptjs::build_pipeline(YAML::Load(R"(
- Grayscale: {num_output_channels: 1}
- Resize: {size: [28, 28], interpolation: bicubic}
- Pad: {padding: [2, 3], fill: 0}
- CenterCrop: {size: 28}
- ToTensor: {}
- Normalize: {mean: [0.5], std: [0.5]}
)"),
                                registry, "fuzz-gray");
  }
};

void run(const ptjs::pipeline& p, std::string_view bytes, ptjs::color_mode mode, const ptjs::decode_options& o) {
  ptjs::sample s;
  try {
    s.mat = ptjs::decode_image(bytes, mode, o);
  } catch (const ptjs::error&) {
    return;  // a refused image: what ptjs reports as an error record / HTTP 400 or 413
  }
  // A decoded image must be what the header promised: 8-bit, 1 or 3 channels, not empty.
  const int want = mode == ptjs::color_mode::rgb ? CV_8UC3 : CV_8UC1;
  if (s.mat.empty() || s.mat.type() != want || !s.mat.isContinuous()) __builtin_trap();
  const ptjs::sample out = p.run(std::move(s));
  if (!out.is_tensor || out.mat.empty()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const pipelines p;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ptjs::decode_options o;
  // Smaller than the default (178M pixels) so one input costs milliseconds, not seconds; the
  // limit checks themselves are the same code whatever the number.
  o.max_pixels = 1u << 22;
  o.max_side = 16384;
  o.exif_transpose = (size & 1) != 0;  // both orientation paths, deterministically per input
  ptjs::sniff_image_header(bytes);
  run(p.imagenet, bytes, ptjs::color_mode::rgb, o);
  run(p.gray, bytes, ptjs::color_mode::l, o);
  return 0;
}
