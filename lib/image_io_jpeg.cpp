// JPEG as PIL decodes it, straight from libjpeg: RGB into the image's rows (no BGR pass), and
// CMYK with PIL's conversion (OpenCV converts CMYK to BGR with its own rounding,
// k - ((255 - c) * k >> 8), and cannot return the raw samples).
#include <algorithm>
#include <csetjmp>
#include <cstdio>

#include "error.h"
#include "image_io_internal.h"

#ifdef PTJS_WITH_LIBJPEG
#include <jpeglib.h>
#else
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace ptjs::image_io_detail {

#ifdef PTJS_WITH_LIBJPEG
namespace {

struct jpeg_failure {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void on_error(j_common_ptr cinfo) {
  auto* failure = reinterpret_cast<jpeg_failure*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, failure->message);
  std::longjmp(failure->jump, 1);
}

void on_message(j_common_ptr) {}  // PIL ignores libjpeg warnings too

// (a * b + 127) / 255 rounded, as Pillow's MULDIV255.
inline unsigned muldiv255(unsigned a, unsigned b) {
  const unsigned t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

// All libjpeg calls live here, with no C++ object of this frame alive across them, so the
// longjmp from on_error skips no destructor. Decodes 1- and 3-component JPEGs to RGB (libjpeg's
// default colour conversion and upsampling, as PIL), or with `cmyk` 4-component ones through
// PIL's inverted-CMYK conversion. Returns false after a libjpeg error.
bool run_libjpeg(jpeg_decompress_struct* cinfo, jpeg_failure* failure, std::string_view bytes,
                 int scale, bool cmyk, cv::Mat* out) {
  if (setjmp(failure->jump)) return false;
  jpeg_mem_src(cinfo, reinterpret_cast<const unsigned char*>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(cinfo, TRUE);
  cinfo->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  cinfo->scale_num = 1;
  cinfo->scale_denom = static_cast<unsigned>(scale);
  jpeg_start_decompress(cinfo);
  out->create(static_cast<int>(cinfo->output_height), static_cast<int>(cinfo->output_width),
              CV_8UC3);
  if (!cmyk) {
    // Straight into the image, as many rows at a time as libjpeg hands out.
    JSAMPROW rows[16];
    while (cinfo->output_scanline < cinfo->output_height) {
      const JDIMENSION y = cinfo->output_scanline;
      const JDIMENSION n = std::min<JDIMENSION>(16, cinfo->output_height - y);
      for (JDIMENSION i = 0; i < n; ++i) rows[i] = out->ptr<unsigned char>(static_cast<int>(y + i));
      jpeg_read_scanlines(cinfo, rows, n);
    }
    jpeg_abort_decompress(cinfo);
    return true;
  }
  JSAMPARRAY row = (*cinfo->mem->alloc_sarray)(reinterpret_cast<j_common_ptr>(cinfo),
                                               JPOOL_IMAGE, cinfo->output_width * 4, 1);
  while (cinfo->output_scanline < cinfo->output_height) {
    const int y = static_cast<int>(cinfo->output_scanline);
    jpeg_read_scanlines(cinfo, row, 1);
    const unsigned char* in = row[0];
    unsigned char* o = out->ptr<unsigned char>(y);
    for (JDIMENSION x = 0; x < cinfo->output_width; ++x, in += 4, o += 3) {
      // PIL reads 4-component JPEGs as Adobe-inverted ("CMYK;I"): C = 255 - raw. Its
      // CMYK -> RGB is then R = (255 - K) - C * (255 - K) / 255, and 255 - K = raw k.
      const unsigned nk = in[3];
      for (int c = 0; c < 3; ++c) o[c] = static_cast<unsigned char>(nk - muldiv255(255u - in[c], nk));
    }
  }
  jpeg_abort_decompress(cinfo);
  return true;
}

cv::Mat decode_with_libjpeg(std::string_view bytes, int scale, bool cmyk) {
  jpeg_decompress_struct cinfo{};
  jpeg_failure failure{};
  cinfo.err = jpeg_std_error(&failure.mgr);
  failure.mgr.error_exit = on_error;
  failure.mgr.output_message = on_message;
  jpeg_create_decompress(&cinfo);
  struct destroy_guard {
    jpeg_decompress_struct* cinfo;
    ~destroy_guard() { jpeg_destroy_decompress(cinfo); }
  } guard{&cinfo};
  cv::Mat out;
  if (!run_libjpeg(&cinfo, &failure, bytes, scale, cmyk, &out)) {
    throw error(error_code::invalid_input,
                std::string("cannot decode image: corrupt JPEG file (") + failure.message + ")");
  }
  return out;
}

}  // namespace

cv::Mat decode_rgb_jpeg(std::string_view bytes, int scale) { return decode_with_libjpeg(bytes, scale, false); }

cv::Mat decode_cmyk_jpeg(std::string_view bytes, int scale) { return decode_with_libjpeg(bytes, scale, true); }

#else

namespace {

cv::Mat opencv_jpeg(std::string_view bytes, int scale) {
  const cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
  const int reduced = scale == 8   ? cv::IMREAD_REDUCED_COLOR_8
                      : scale == 4 ? cv::IMREAD_REDUCED_COLOR_4
                      : scale == 2 ? cv::IMREAD_REDUCED_COLOR_2
                                   : cv::IMREAD_COLOR;
  cv::Mat bgr = cv::imdecode(buf, reduced | cv::IMREAD_IGNORE_ORIENTATION);
  if (bgr.empty()) throw error(error_code::invalid_input, "cannot decode image: corrupt JPEG file");
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

}  // namespace

cv::Mat decode_rgb_jpeg(std::string_view bytes, int scale) { return opencv_jpeg(bytes, scale); }

// Without libjpeg linked directly: OpenCV's CMYK conversion, which differs from PIL's by a few
// levels. Build with PTJS_WITH_LIBJPEG for bit-exact CMYK.
cv::Mat decode_cmyk_jpeg(std::string_view bytes, int scale) { return opencv_jpeg(bytes, scale); }

#endif

}  // namespace ptjs::image_io_detail
