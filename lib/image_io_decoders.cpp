// Decoders for what OpenCV 4.6 lacks or decodes differently from PIL: GIF (absent from
// OpenCV before 4.11) and 16-bit BMP (OpenCV expands 5 bits as v << 3, PIL as v * 255 / 31).
// Both follow Pillow 9.4: GifImagePlugin/GifDecode.c and BmpImagePlugin/Unpack.c.
#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <vector>

#include "error.h"
#include "image_io_internal.h"

namespace ptjs::image_io_detail {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw error(error_code::invalid_input, "cannot decode image: " + what);
}

uint32_t byte_at(std::string_view b, size_t p) { return static_cast<unsigned char>(b[p]); }
uint32_t le16(std::string_view b, size_t p) { return byte_at(b, p) | byte_at(b, p + 1) << 8; }
uint32_t le32(std::string_view b, size_t p) { return le16(b, p) | le16(b, p + 2) << 16; }

// The LZW data of one GIF image: sub-blocks read one bit-packed code at a time.
class gif_codes {
 public:
  gif_codes(std::string_view b, size_t pos) : b_(b), pos_(pos) {}

  // Next code of `width` bits; false when the data runs out (file or block terminator).
  bool next(int width, uint32_t* code) {
    while (nbits_ < width) {
      if (left_ == 0) {
        if (pos_ >= b_.size() || (left_ = byte_at(b_, pos_++)) == 0) return false;
      }
      if (pos_ >= b_.size()) return false;
      bits_ |= byte_at(b_, pos_++) << nbits_;
      nbits_ += 8;
      --left_;
    }
    *code = bits_ & ((1u << width) - 1);
    bits_ >>= width;
    nbits_ -= width;
    return true;
  }

 private:
  std::string_view b_;
  size_t pos_;
  uint32_t left_ = 0;  // bytes left in the current sub-block
  uint32_t bits_ = 0;
  int nbits_ = 0;
};

// Fills `out` (w * h indices, in file order) from the LZW stream; PIL refuses an image whose
// data ends (EOI code or end of file) before every pixel is in.
void gif_lzw(std::string_view b, size_t pos, int min_bits, std::vector<uint8_t>& out) {
  if (min_bits < 1 || min_bits > 8) fail("corrupt GIF file (bad LZW code size)");
  const uint32_t clear = 1u << min_bits, end = clear + 1;
  std::vector<uint16_t> prefix(4096);
  std::vector<uint8_t> suffix(4096), first(4096), stack(4097);
  for (uint32_t i = 0; i < clear; ++i) suffix[i] = first[i] = static_cast<uint8_t>(i);
  gif_codes codes(b, pos);
  int width = min_bits + 1;
  uint32_t next = clear + 2;
  int64_t prev = -1;
  size_t filled = 0;
  uint32_t code = 0;
  while (filled < out.size()) {
    if (!codes.next(width, &code) || code == end) fail("GIF file is truncated");
    if (code == clear) {
      width = min_bits + 1;
      next = clear + 2;
      prev = -1;
      continue;
    }
    if (code > next || (prev < 0 && code >= clear) || (code == next && prev < 0)) {
      fail("corrupt GIF file (bad LZW code)");
    }
    if (prev >= 0 && next < 4096) {
      prefix[next] = static_cast<uint16_t>(prev);
      suffix[next] = code == next ? first[prev] : first[code];
      first[next] = first[prev];
      ++next;
      if (next == (1u << width) && width < 12) ++width;
    }
    size_t depth = 0;
    for (uint32_t c = code;; c = prefix[c]) {
      stack[depth++] = suffix[c];
      if (c < clear) break;
    }
    while (depth > 0 && filled < out.size()) out[filled++] = stack[--depth];
    prev = code;
  }
}

}  // namespace

cv::Mat decode_gif(std::string_view b, const decode_options& options) {
  if (b.size() < 13) fail("GIF file is truncated");
  const int64_t screen_w = le16(b, 6), screen_h = le16(b, 8);
  // Palette entries the file does not set keep PIL's default grey ramp.
  std::array<uint8_t, 768> global{}, palette{};
  for (int i = 0; i < 768; ++i) global[i] = static_cast<uint8_t>(i / 3);
  size_t p = 13;
  const auto read_palette = [&](uint32_t flags, std::array<uint8_t, 768>& pal) {
    const size_t size = 3u << ((flags & 7) + 1);
    if (p + size > b.size()) fail("GIF file is truncated");
    for (size_t i = 0; i < size; ++i) pal[i] = static_cast<uint8_t>(byte_at(b, p + i));
    p += size;
  };
  if (byte_at(b, 10) & 0x80) read_palette(byte_at(b, 10), global);
  const auto skip_sub_blocks = [&] {
    while (p < b.size() && byte_at(b, p) != 0) p += 1 + byte_at(b, p);
    ++p;
  };
  int transparency = -1;
  for (;;) {
    if (p >= b.size()) fail("GIF file is truncated");
    const uint32_t c = byte_at(b, p++);
    if (c == ';') fail("corrupt GIF file (no image)");
    if (c == '!') {
      if (p >= b.size()) fail("GIF file is truncated");
      const uint32_t label = byte_at(b, p++);
      if (label == 0xF9 && p + 5 <= b.size() && byte_at(b, p) >= 4) {
        transparency = (byte_at(b, p + 1) & 1) ? static_cast<int>(byte_at(b, p + 4)) : -1;
      }
      skip_sub_blocks();
      continue;
    }
    if (c != ',') continue;  // PIL skips stray bytes between blocks
    if (p + 10 > b.size()) fail("GIF file is truncated");
    const int64_t x0 = le16(b, p), y0 = le16(b, p + 2), w = le16(b, p + 4), h = le16(b, p + 6);
    const uint32_t flags = byte_at(b, p + 8);
    p += 9;
    palette = global;
    if (flags & 0x80) read_palette(flags, palette);
    if (p >= b.size()) fail("GIF file is truncated");
    const int min_bits = static_cast<int>(byte_at(b, p++));
    // PIL grows the canvas to hold a frame that overflows the logical screen.
    image_header canvas{"GIF", std::max(screen_w, x0 + w), std::max(screen_h, y0 + h)};
    check_limits(canvas, options);
    std::vector<uint8_t> index(static_cast<size_t>(w * h));
    gif_lzw(b, p, min_bits, index);
    cv::Mat idx(static_cast<int>(canvas.height), static_cast<int>(canvas.width), CV_8UC1,
                cv::Scalar(transparency >= 0 ? transparency : 0));
    const bool interlaced = flags & 0x40;
    int64_t row = 0;
    for (int pass = interlaced ? 0 : 3, src = 0; pass < 4; ++pass) {
      static const int start[] = {0, 4, 2, 1}, step[] = {8, 8, 4, 2};
      const int64_t s0 = interlaced ? start[pass] : 0, st = interlaced ? step[pass] : 1;
      for (row = s0; row < h && w > 0; row += st, ++src) {
        std::memcpy(idx.ptr<uint8_t>(static_cast<int>(y0 + row)) + x0,
                    index.data() + static_cast<size_t>(src) * w, static_cast<size_t>(w));
      }
    }
    cv::Mat rgb(idx.size(), CV_8UC3);
    for (int y = 0; y < idx.rows; ++y) {
      const uint8_t* in = idx.ptr<uint8_t>(y);
      uint8_t* o = rgb.ptr<uint8_t>(y);
      for (int x = 0; x < idx.cols; ++x, o += 3) std::memcpy(o, &palette[in[x] * 3u], 3);
    }
    return rgb;
  }
}

cv::Mat decode_bmp16(std::string_view b) {
  if (b.size() < 54 || le16(b, 28) != 16) return {};
  const uint32_t dib = le32(b, 14), compression = le32(b, 30);
  int green_bits = 5;
  if (compression == 3) {
    if (dib < 40 || b.size() < 66) return {};
    const uint32_t r = le32(b, 54), g = le32(b, 58), bl = le32(b, 62);
    if (r == 0xF800 && g == 0x07E0 && bl == 0x001F) {
      green_bits = 6;
    } else if (!(r == 0x7C00 && g == 0x03E0 && bl == 0x001F)) {
      return {};
    }
  } else if (compression != 0) {
    return {};
  }
  const int64_t w = static_cast<int32_t>(le32(b, 18));
  const int64_t sh = static_cast<int32_t>(le32(b, 22));
  const int64_t h = sh < 0 ? -sh : sh;
  const uint64_t offset = le32(b, 10), stride = static_cast<uint64_t>(w * 2 + 3) & ~3ull;
  if (w <= 0 || h <= 0 || offset + stride * h > b.size()) return {};
  cv::Mat rgb(static_cast<int>(h), static_cast<int>(w), CV_8UC3);
  for (int64_t y = 0; y < h; ++y) {
    const size_t row = offset + stride * static_cast<uint64_t>(sh < 0 ? y : h - 1 - y);
    uint8_t* o = rgb.ptr<uint8_t>(static_cast<int>(y));
    for (int64_t x = 0; x < w; ++x, o += 3) {
      const uint32_t v = le16(b, row + 2 * x);
      const uint32_t gmax = (1u << green_bits) - 1;
      o[0] = static_cast<uint8_t>(((v >> (5 + green_bits)) & 31) * 255 / 31);
      o[1] = static_cast<uint8_t>(((v >> 5) & gmax) * 255 / gmax);
      o[2] = static_cast<uint8_t>((v & 31) * 255 / 31);
    }
  }
  return rgb;
}

std::optional<webp_frame> webp_first_frame(std::string_view b) {
  size_t p = 12;
  while (p + 8 <= b.size()) {
    const size_t len = le32(b, p + 4);
    if (len > b.size() - p - 8) return std::nullopt;
    if (b.compare(p, 4, "ANMF") != 0 || len < 16) {
      p += 8 + len + (len & 1);
      continue;
    }
    const std::string_view anmf = b.substr(p + 8, len);
    const auto u24 = [&](size_t at) { return le16(anmf, at) | byte_at(anmf, at + 2) << 16; };
    webp_frame frame;
    frame.x = 2 * int64_t{u24(0)};
    frame.y = 2 * int64_t{u24(3)};
    std::string alpha, image;
    for (size_t q = 16; q + 8 <= anmf.size();) {
      const size_t n = le32(anmf, q + 4);
      if (n > anmf.size() - q - 8) return std::nullopt;
      std::string chunk(anmf.substr(q, 8 + n));
      if (n & 1) chunk.push_back('\0');  // RIFF pads odd chunks; the last one may lack it
      if (anmf.compare(q, 4, "ALPH") == 0) alpha = chunk;
      if (anmf.compare(q, 4, "VP8 ") == 0 || anmf.compare(q, 4, "VP8L") == 0) image = chunk;
      q += 8 + n + (n & 1);
    }
    if (image.empty()) return std::nullopt;
    std::string body = "WEBP";
    if (!alpha.empty()) {  // lossy with alpha needs the extended container
      const uint32_t w = u24(6), h = u24(9);
      body += std::string("VP8X\x0A\0\0\0\x10\0\0\0", 12);
      for (uint32_t v : {w, h}) {
        for (int k = 0; k < 3; ++k) body.push_back(static_cast<char>(v >> (8 * k)));
      }
      body += alpha;
    }
    body += image;
    frame.still = "RIFF";
    for (int k = 0; k < 4; ++k) frame.still.push_back(static_cast<char>(body.size() >> (8 * k)));
    frame.still += body;
    return frame;
  }
  return std::nullopt;
}

}  // namespace ptjs::image_io_detail
