// Pieces of image_io shared by its .cpp files: container parsing that needs no decoder.
// Private to lib/; everything here works on untrusted bytes and never reads past them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <opencv2/core.hpp>

#include "image_io.h"

namespace ptjs::image_io_detail {

// What the container says about the pixels, beyond image_header (0 when unknown).
struct image_layout {
  image_header header;
  int bit_depth = 0;      // bits per sample (PNG bit depth, TIFF BitsPerSample, JPEG precision)
  int channels = 0;       // JPEG components, TIFF SamplesPerPixel
  int png_color_type = -1;
  int tiff_photometric = -1;
  int orientation = 1;    // EXIF Orientation, 1..8 (1 = as stored)
};

// Format and layout from the first bytes; nullopt when not a recognised format.
// A recognised file whose header is cut short has width == height == 0.
std::optional<image_layout> sniff_layout(std::string_view bytes);

// Empty when the JPEG's marker structure is complete up to EOI (what PIL needs to finish
// decoding; bytes after EOI are ignored), else why not ("truncated", ...).
std::string check_jpeg_structure(std::string_view bytes);

// Empty when the PNG is whole as far as PIL is concerned, else why not: chunks before IDAT
// must have valid CRCs, IDAT data must be complete. PIL stops reading once the pixels are in,
// so a file cut after its image data (no IEND, a partial last CRC) still opens; libpng wants
// IEND, so for those `*rewritten` receives the file with its tail rebuilt. It also receives the
// file without its iCCP chunk, if any (libpng warns about many profiles on stderr).
std::string check_png_structure(std::string_view bytes, std::string* rewritten);

// Expected pixel-data end for uncompressed BMPs (0 when compressed or unknown), so a file cut
// short is refused instead of decoded half black.
uint64_t bmp_required_size(std::string_view bytes);

// EXIF Orientation from a TIFF-structured EXIF block ("II*\0..." / "MM\0*..."); 1 if absent.
int exif_orientation(std::string_view tiff);

// Throws ptjs::error(too_large) when the size is over options' limits.
void check_limits(const image_header& header, const decode_options& options);

// 1- or 3-component JPEG decoded as PIL does (libjpeg's RGB output, default settings), at
// 1/scale (scale 1, 2, 4, 8: PIL's draft). CV_8UC3 RGB. Throws ptjs::error.
cv::Mat decode_rgb_jpeg(std::string_view bytes, int scale = 1);

// 4-component (Adobe CMYK/YCCK) JPEG decoded as PIL does: libjpeg CMYK output, inverted
// ("CMYK;I"), then PIL's CMYK->RGB. scale (1, 2, 4, 8) is libjpeg's scale_denom (PIL's draft).
// Returns CV_8UC3 in RGB order. Throws ptjs::error.
cv::Mat decode_cmyk_jpeg(std::string_view bytes, int scale = 1);

// First frame of a GIF as PIL's Image.open(f).convert("RGB"): CV_8UC3 RGB. Throws ptjs::error.
cv::Mat decode_gif(std::string_view bytes, const decode_options& options);

// 16-bit BMP (RGB555, or RGB565/555 bitfields) expanded as PIL does (v * 255 / 31), which
// OpenCV does not (v << 3). CV_8UC3 RGB; empty when the layout is not one of those.
cv::Mat decode_bmp16(std::string_view bytes);

// The first frame of an animated WebP (VP8X with ANMF chunks) as a still WebP file, and where
// it sits on the canvas. nullopt when there is no complete first frame.
struct webp_frame {
  std::string still;
  int64_t x = 0, y = 0;
};
std::optional<webp_frame> webp_first_frame(std::string_view bytes);

}  // namespace ptjs::image_io_detail
