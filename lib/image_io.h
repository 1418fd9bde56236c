// Decoding image files as PIL does: bytes -> 8-bit RGB or L cv::Mat, with limits.
// No libtorch here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <opencv2/core.hpp>

namespace ptjs {

enum class color_mode { rgb, l };

// "RGB" | "L" (PIL mode names); throws ptjs::error(invalid_config) otherwise.
color_mode parse_color_mode(const std::string& name);
const char* color_mode_name(color_mode mode);

struct decode_options {
  // PIL raises DecompressionBombError above 2 * Image.MAX_IMAGE_PIXELS = 178,956,970 pixels.
  uint64_t max_pixels = 178956970;
  // Applied to each side, whatever the pixel count.
  int max_side = 65500;
  // Rotate/flip by the EXIF Orientation tag (PIL's ImageOps.exif_transpose). Off, as PIL's
  // Image.open ignores it.
  bool exif_transpose = false;
  // PIL's Image.draft('RGB', (w, h)) before decoding, when not empty: a JPEG whose sides are
  // at least twice w and h decodes reduced in libjpeg's DCT (1/2, 1/4 or 1/8: the largest
  // that jpeg_draft_scale allows), as Image.open(f) then draft('RGB', draft_size) would.
  // Other formats ignore it. The limits still apply to the full size, as in PIL.
  cv::Size draft_size;
};

// PIL 9.4's JpegImageFile.draft: scale = min(W // w, H // h), then the largest of 8, 4, 2, 1
// not above it. The decoded size is ((W + s - 1) / s, (H + s - 1) / s). 1 when the request is
// empty or not positive.
int jpeg_draft_scale(int64_t width, int64_t height, cv::Size request);

struct image_header {
  std::string format;  // "JPEG", "PNG", "BMP", "GIF", "TIFF", "WEBP", ...
  int64_t width = 0;
  int64_t height = 0;
};

// Reads the format and dimensions from the first bytes, without decoding pixels.
// Returns nullopt when the bytes are not a recognised image format.
std::optional<image_header> sniff_image_header(std::string_view bytes);

// Decodes as `Image.open(f).convert(mode)` would: CV_8UC3 in RGB order or CV_8UC1.
// EXIF orientation ignored (unless asked), alpha dropped without compositing, grey replicated,
// L computed with PIL's integer formula. Throws ptjs::error:
//   invalid_input - empty, not an image, truncated, corrupt ("cannot decode image: ...")
//   too_large     - over max_pixels or max_side, checked from the header before decoding.
cv::Mat decode_image(std::string_view bytes, color_mode mode, const decode_options& options = {});

// Reads a whole file; throws ptjs::error(invalid_input) naming the path and the OS reason.
std::string read_file_bytes(const std::string& path);

}  // namespace ptjs
