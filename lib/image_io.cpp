// Decoding as PIL does. OpenCV decodes what it decodes exactly as PIL (8-bit JPEG/PNG/BMP/
// TIFF/WebP through the same system libjpeg/libpng/libtiff/libwebp); the rest is here: the
// checks PIL makes before and after decoding, 16-bit samples, CMYK, GIF, and the L formula.
#include "image_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "error.h"
#include "image_io_internal.h"

namespace ptjs {
namespace {

using image_io_detail::image_layout;

[[noreturn]] void fail(const std::string& what) {
  throw error(error_code::invalid_input, "cannot decode image: " + what);
}

}  // namespace

void image_io_detail::check_limits(const image_header& h, const decode_options& options) {
  const uint64_t pixels = static_cast<uint64_t>(h.width) * static_cast<uint64_t>(h.height);
  const std::string size = std::to_string(h.width) + "x" + std::to_string(h.height);
  if (h.width > options.max_side || h.height > options.max_side) {
    throw error(error_code::too_large, "image too large: " + h.format + " of " + size +
                                           " pixels, over the limit of " +
                                           std::to_string(options.max_side) + " pixels a side");
  }
  if (pixels > options.max_pixels) {
    throw error(error_code::too_large,
                "image too large: " + h.format + " of " + size + " = " + std::to_string(pixels) +
                    " pixels, over the limit of " + std::to_string(options.max_pixels) +
                    " pixels (a possible decompression bomb)");
  }
}

namespace {

// imdecode without a copy of the bytes; decoder failures become invalid_input.
cv::Mat opencv_decode(std::string_view bytes, int flags, const std::string& format) {
  const cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8UC1,
                    const_cast<char*>(bytes.data()));
  cv::Mat out;
  try {
    out = cv::imdecode(buf, flags | cv::IMREAD_IGNORE_ORIENTATION);
  } catch (const cv::Exception& e) {
    fail("corrupt " + format + " file (" + e.msg + ")");
  }
  if (out.empty()) fail("corrupt or truncated " + format + " file");
  return out;
}

// 16-bit samples as PIL reduces them: grey files open as mode I / I;16, whose conversion to
// L or RGB clips at 255; colour files open as RGB(A) from the high byte ("RGB;16B").
cv::Mat reduce_16bit(const cv::Mat& m16, bool clip) {
  CV_Assert(m16.depth() == CV_16U);
  cv::Mat out(m16.size(), CV_MAKETYPE(CV_8U, m16.channels()));
  const int n = m16.cols * m16.channels();
  for (int y = 0; y < m16.rows; ++y) {
    const uint16_t* in = m16.ptr<uint16_t>(y);
    uchar* o = out.ptr<uchar>(y);
    for (int x = 0; x < n; ++x) o[x] = clip ? static_cast<uchar>(in[x] > 255 ? 255 : in[x])
                                            : static_cast<uchar>(in[x] >> 8);
  }
  return out;
}

cv::Mat bgr_to_rgb(const cv::Mat& bgr) {
  cv::Mat rgb;
  if (bgr.channels() == 1) {
    cv::cvtColor(bgr, rgb, cv::COLOR_GRAY2RGB);
  } else {
    cv::cvtColor(bgr, rgb, bgr.channels() == 4 ? cv::COLOR_BGRA2RGB : cv::COLOR_BGR2RGB);
  }
  return rgb;
}

// scale (1, 2, 4 or 8) is libjpeg's scale_denom, as PIL's draft sets it: the IDCT itself
// outputs the reduced blocks, and OpenCV's IMREAD_REDUCED_COLOR_N asks libjpeg for exactly that.
cv::Mat decode_jpeg(std::string_view bytes, const image_layout& layout, int scale) {
  const std::string problem = image_io_detail::check_jpeg_structure(bytes);
  if (!problem.empty()) fail("JPEG file is " + problem);
  if (layout.bit_depth != 8) {
    fail("JPEG with " + std::to_string(layout.bit_depth) + "-bit samples is not supported");
  }
  cv::Mat rgb;
  if (layout.channels == 4) {
    rgb = image_io_detail::decode_cmyk_jpeg(bytes, scale);
  } else if (layout.channels != 1 && layout.channels != 3) {
    fail("JPEG with " + std::to_string(layout.channels) + " components is not supported");
  } else {
    rgb = image_io_detail::decode_rgb_jpeg(bytes, scale);
  }
  // PIL sizes the reduced image from the header; a decoder that disagreed would shift every
  // later step, so that is refused rather than passed on.
  const int64_t w = (layout.header.width + scale - 1) / scale;
  const int64_t h = (layout.header.height + scale - 1) / scale;
  if (scale > 1 && (rgb.cols != w || rgb.rows != h)) {
    fail("corrupt JPEG file (decoded at 1/" + std::to_string(scale) + " to " + std::to_string(rgb.cols) + "x" +
         std::to_string(rgb.rows) + ", the header says " + std::to_string(w) + "x" + std::to_string(h) + ")");
  }
  return rgb;
}

cv::Mat decode_png(std::string_view bytes, const image_layout& layout) {
  std::string rewritten;
  const std::string problem = image_io_detail::check_png_structure(bytes, &rewritten);
  if (!problem.empty()) fail("PNG file is " + problem);
  if (!rewritten.empty()) bytes = rewritten;
  if (layout.bit_depth == 16) {
    const cv::Mat m = opencv_decode(bytes, cv::IMREAD_COLOR | cv::IMREAD_ANYDEPTH, "PNG");
    if (m.depth() == CV_16U) return bgr_to_rgb(reduce_16bit(m, layout.png_color_type == 0));
    return bgr_to_rgb(m);
  }
  return bgr_to_rgb(opencv_decode(bytes, cv::IMREAD_COLOR, "PNG"));
}

cv::Mat decode_bmp(std::string_view bytes) {
  const uint64_t need = image_io_detail::bmp_required_size(bytes);
  if (need > bytes.size()) fail("BMP file is truncated");
  cv::Mat rgb = image_io_detail::decode_bmp16(bytes);
  if (!rgb.empty()) return rgb;
  return bgr_to_rgb(opencv_decode(bytes, cv::IMREAD_COLOR, "BMP"));
}

cv::Mat decode_tiff(std::string_view bytes, const image_layout& layout) {
  if (layout.bit_depth == 16) {
    const cv::Mat m = opencv_decode(bytes, cv::IMREAD_COLOR | cv::IMREAD_ANYDEPTH, "TIFF");
    const bool grey = layout.tiff_photometric == 0 || layout.tiff_photometric == 1;
    if (m.depth() == CV_16U) return bgr_to_rgb(reduce_16bit(m, grey));
    return bgr_to_rgb(m);
  }
  if (layout.bit_depth > 16) fail("TIFF with " + std::to_string(layout.bit_depth) +
                                  "-bit samples is not supported");
  return bgr_to_rgb(opencv_decode(bytes, cv::IMREAD_COLOR, "TIFF"));
}

// An animated WebP decodes, in PIL, to its first frame on a canvas cleared to transparent
// black (alpha then dropped); OpenCV 4.6 refuses animations, so the frame is cut out here.
cv::Mat decode_webp(std::string_view bytes, const image_header& h) {
  const bool animated = bytes.size() > 20 && bytes.compare(12, 4, "VP8X") == 0 &&
                        (static_cast<unsigned char>(bytes[20]) & 0x02);
  if (!animated) return bgr_to_rgb(opencv_decode(bytes, cv::IMREAD_COLOR, "WEBP"));
  const auto frame = image_io_detail::webp_first_frame(bytes);
  if (!frame) fail("corrupt or truncated WEBP file (no complete first frame)");
  cv::Mat rgb = bgr_to_rgb(opencv_decode(frame->still, cv::IMREAD_COLOR, "WEBP"));
  if (frame->x == 0 && frame->y == 0 && rgb.cols == h.width && rgb.rows == h.height) return rgb;
  cv::Mat canvas(static_cast<int>(h.height), static_cast<int>(h.width), CV_8UC3, cv::Scalar::all(0));
  const cv::Rect at = cv::Rect(static_cast<int>(frame->x), static_cast<int>(frame->y), rgb.cols,
                               rgb.rows) & cv::Rect(0, 0, canvas.cols, canvas.rows);
  if (!at.empty()) rgb(cv::Rect(0, 0, at.width, at.height)).copyTo(canvas(at));
  return canvas;
}

// PIL's ImageOps.exif_transpose, on the RGB image.
cv::Mat transpose_by_orientation(const cv::Mat& m, int orientation) {
  cv::Mat out;
  switch (orientation) {
    case 2: cv::flip(m, out, 1); break;
    case 3: cv::rotate(m, out, cv::ROTATE_180); break;
    case 4: cv::flip(m, out, 0); break;
    case 5: cv::transpose(m, out); break;
    case 6: cv::rotate(m, out, cv::ROTATE_90_CLOCKWISE); break;
    case 7:
      cv::transpose(m, out);
      cv::rotate(out, out, cv::ROTATE_180);
      break;
    case 8: cv::rotate(m, out, cv::ROTATE_90_COUNTERCLOCKWISE); break;
    default: return m;
  }
  return out;
}

// PIL's RGB -> L: (19595 R + 38470 G + 7471 B + 0x8000) >> 16. cv::cvtColor rounds
// differently. Grey files come here as (g, g, g), which this maps back to g exactly.
cv::Mat rgb_to_l(const cv::Mat& rgb) {
  cv::Mat out(rgb.size(), CV_8UC1);
  for (int y = 0; y < rgb.rows; ++y) {
    const uchar* in = rgb.ptr<uchar>(y);
    uchar* o = out.ptr<uchar>(y);
    for (int x = 0; x < rgb.cols; ++x, in += 3) {
      o[x] = static_cast<uchar>((19595u * in[0] + 38470u * in[1] + 7471u * in[2] + 0x8000u) >> 16);
    }
  }
  return out;
}

}  // namespace

color_mode parse_color_mode(const std::string& name) {
  if (name == "RGB") return color_mode::rgb;
  if (name == "L") return color_mode::l;
  throw error(error_code::invalid_config,
              "unknown image mode '" + name + "'; accepted values: RGB, L");
}

const char* color_mode_name(color_mode mode) { return mode == color_mode::l ? "L" : "RGB"; }

int jpeg_draft_scale(int64_t width, int64_t height, cv::Size request) {
  if (request.width <= 0 || request.height <= 0 || width <= 0 || height <= 0) return 1;
  const int64_t scale = std::min(width / request.width, height / request.height);
  for (const int s : {8, 4, 2}) {
    if (scale >= s) return s;
  }
  return 1;
}

std::optional<image_header> sniff_image_header(std::string_view bytes) {
  auto layout = image_io_detail::sniff_layout(bytes);
  if (!layout) return std::nullopt;
  return layout->header;
}

cv::Mat decode_image(std::string_view bytes, color_mode mode, const decode_options& options) {
  if (bytes.empty()) fail("empty file");
  const auto layout = image_io_detail::sniff_layout(bytes);
  if (!layout) fail("not a JPEG/PNG/BMP/TIFF/WebP/GIF file");
  const image_header& h = layout->header;
  if (h.width == 0) fail(h.format + " file is truncated or corrupt (no valid header)");
  image_io_detail::check_limits(h, options);
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) {
    throw error(error_code::too_large, "image too large: files over 2 GiB are not supported");
  }
  cv::Mat rgb;
  try {
    if (h.format == "JPEG") {
      rgb = decode_jpeg(bytes, *layout, jpeg_draft_scale(h.width, h.height, options.draft_size));
    } else if (h.format == "PNG") {
      rgb = decode_png(bytes, *layout);
    } else if (h.format == "BMP") {
      rgb = decode_bmp(bytes);
    } else if (h.format == "TIFF") {
      rgb = decode_tiff(bytes, *layout);
    } else if (h.format == "WEBP") {
      rgb = decode_webp(bytes, h);
    } else {
      rgb = image_io_detail::decode_gif(bytes, options);
    }
    if (rgb.type() != CV_8UC3) fail("unsupported " + h.format + " pixel layout");
    if (options.exif_transpose) rgb = transpose_by_orientation(rgb, layout->orientation);
  } catch (const cv::Exception& e) {  // a decoder's odd output must not escape as cv::Exception
    fail("corrupt " + h.format + " file (" + e.msg + ")");
  }
  return mode == color_mode::l ? rgb_to_l(rgb) : rgb;
}

std::string read_file_bytes(const std::string& path) {
  const auto os_error = [&](int err) {
    return error(error_code::invalid_input,
                 "cannot read '" + path + "': " + std::strerror(err));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw os_error(errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    const int err = S_ISDIR(st.st_mode) ? EISDIR : errno;
    ::close(fd);
    throw os_error(err);
  }
  std::string out;
  if (S_ISREG(st.st_mode) && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw os_error(err);
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace ptjs
