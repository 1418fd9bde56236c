// Container parsing for image_io: headers, EXIF orientation, and the structural checks PIL
// makes that OpenCV does not (a JPEG without EOI, a PNG chunk with a bad CRC). Bounds-checked
// throughout: the input is untrusted.
#include <array>
#include <cstring>

#include "image_io_internal.h"

namespace ptjs::image_io_detail {
namespace {

using u8 = unsigned char;

struct reader {
  std::string_view b;
  bool little = false;

  bool has(uint64_t pos, uint64_t len) const { return pos <= b.size() && len <= b.size() - pos; }
  uint32_t byte(size_t p) const { return static_cast<u8>(b[p]); }
  uint32_t u16(size_t p) const {
    return little ? byte(p) | byte(p + 1) << 8 : byte(p) << 8 | byte(p + 1);
  }
  uint32_t u32(size_t p) const {
    return little ? u16(p) | u16(p + 2) << 16 : u16(p) << 16 | u16(p + 2);
  }
  uint64_t u64(size_t p) const {
    return little ? u32(p) | uint64_t(u32(p + 4)) << 32 : uint64_t(u32(p)) << 32 | u32(p + 4);
  }
};

bool starts_with(std::string_view b, std::string_view prefix, size_t at = 0) {
  return b.size() >= at + prefix.size() && b.compare(at, prefix.size(), prefix) == 0;
}

uint32_t crc32(std::string_view data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (char ch : data) c = table[(c ^ static_cast<u8>(ch)) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

bool is_jpeg_sof(uint32_t m) {
  return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

bool is_jpeg_standalone(uint32_t m) {
  return m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01 || m == 0x00;
}

void sniff_jpeg(const reader& r, image_layout& out) {
  size_t p = 2;
  const size_t n = r.b.size();
  while (p < n) {
    if (r.byte(p) != 0xFF) {  // junk between segments: PIL and libjpeg skip it
      ++p;
      continue;
    }
    while (p < n && r.byte(p) == 0xFF) ++p;
    if (p >= n) return;
    const uint32_t m = r.byte(p++);
    if (is_jpeg_standalone(m)) continue;
    if (m == 0xD9 || m == 0xDA || !r.has(p, 2)) return;
    const uint32_t len = r.u16(p);
    if (len < 2 || !r.has(p, len)) return;
    const std::string_view seg = r.b.substr(p + 2, len - 2);
    if (is_jpeg_sof(m) && seg.size() >= 6) {
      const reader s{seg};
      out.bit_depth = static_cast<int>(s.byte(0));
      out.header.height = s.u16(1);
      out.header.width = s.u16(3);
      out.channels = static_cast<int>(s.byte(5));
    } else if (m == 0xE1 && starts_with(seg, std::string_view("Exif\0\0", 6)) &&
               out.orientation == 1) {
      out.orientation = exif_orientation(seg.substr(6));
    }
    p += len;
  }
}

void sniff_png(const reader& r, image_layout& out) {
  if (!r.has(8, 25) || !starts_with(r.b, "IHDR", 12)) return;
  out.header.width = r.u32(16);
  out.header.height = r.u32(20);
  out.bit_depth = static_cast<int>(r.byte(24));
  out.png_color_type = static_cast<int>(r.byte(25));
  // eXIf may sit before or after IDAT; PIL's exif_transpose finds it in either place.
  uint64_t p = 8;
  while (r.has(p, 12)) {
    const uint64_t len = r.u32(p);
    if (!r.has(p + 8, len)) return;
    if (starts_with(r.b, "eXIf", p + 4)) {
      out.orientation = exif_orientation(r.b.substr(p + 8, len));
      return;
    }
    if (starts_with(r.b, "IEND", p + 4)) return;
    p += 12 + len;
  }
}

void sniff_bmp(const reader& r, image_layout& out) {
  if (!r.has(14, 4)) return;
  const uint32_t dib = r.u32(14);
  if (dib == 12 && r.has(18, 8)) {  // OS/2 BITMAPCOREHEADER
    out.header.width = r.u16(18);
    out.header.height = r.u16(20);
    out.bit_depth = static_cast<int>(r.u16(24));
  } else if (dib >= 40 && r.has(18, 12)) {
    out.header.width = static_cast<int32_t>(r.u32(18));
    const int64_t h = static_cast<int32_t>(r.u32(22));
    out.header.height = h < 0 ? -h : h;
    out.bit_depth = static_cast<int>(r.u16(28));
  }
}

void sniff_tiff(reader r, image_layout& out) {
  const bool big = r.u16(2) == 43;
  const uint64_t ifd = big ? (r.has(8, 8) ? r.u64(8) : 0) : r.u32(4);
  const uint64_t entry_size = big ? 20 : 12;
  const uint64_t count_size = big ? 8 : 2;
  if (!r.has(ifd, count_size)) return;
  const uint64_t count = big ? r.u64(ifd) : r.u16(ifd);
  out.bit_depth = 1;   // TIFF defaults
  out.channels = 1;
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t e = ifd + count_size + i * entry_size;
    if (!r.has(e, entry_size)) return;
    const uint32_t tag = r.u16(e);
    const uint32_t type = r.u16(e + 2);
    const uint64_t n = big ? r.u64(e + 4) : r.u32(e + 4);
    const uint64_t at = e + (big ? 12 : 8);
    uint64_t value_at = at;
    const uint64_t width = type == 3 ? 2 : 4;
    if (n * width > (big ? 8u : 4u)) value_at = big ? r.u64(at) : r.u32(at);
    if ((type != 3 && type != 4) || n == 0 || !r.has(value_at, width)) continue;
    const int64_t v = type == 3 ? r.u16(value_at) : r.u32(value_at);
    switch (tag) {
      case 256: out.header.width = v; break;
      case 257: out.header.height = v; break;
      case 258: out.bit_depth = static_cast<int>(v); break;
      case 262: out.tiff_photometric = static_cast<int>(v); break;
      case 274: out.orientation = (v >= 1 && v <= 8) ? static_cast<int>(v) : 1; break;
      case 277: out.channels = static_cast<int>(v); break;
      default: break;
    }
  }
}

void sniff_webp(const reader& r, image_layout& out) {
  if (!r.has(12, 8)) return;
  const reader le{r.b, true};
  if (starts_with(r.b, "VP8 ", 12) && r.has(20, 10) && r.byte(23) == 0x9D &&
      r.byte(24) == 0x01 && r.byte(25) == 0x2A) {
    out.header.width = le.u16(26) & 0x3FFF;
    out.header.height = le.u16(28) & 0x3FFF;
  } else if (starts_with(r.b, "VP8L", 12) && r.has(20, 5) && r.byte(20) == 0x2F) {
    const uint32_t bits = le.u32(21);
    out.header.width = (bits & 0x3FFF) + 1;
    out.header.height = ((bits >> 14) & 0x3FFF) + 1;
  } else if (starts_with(r.b, "VP8X", 12) && r.has(20, 10)) {
    out.header.width = (le.u16(24) | le.byte(26) << 16) + 1;  // 24-bit fields: bytes 24-26, 27-29
    out.header.height = (le.u16(27) | le.byte(29) << 16) + 1;
    uint64_t p = 12;
    while (r.has(p, 8)) {
      const uint64_t len = le.u32(p + 4);
      if (!r.has(p + 8, len)) return;
      if (starts_with(r.b, "EXIF", p)) {
        std::string_view exif = r.b.substr(p + 8, len);
        if (starts_with(exif, std::string_view("Exif\0\0", 6))) exif.remove_prefix(6);
        out.orientation = exif_orientation(exif);
        return;
      }
      p += 8 + len + (len & 1);
    }
  }
}

}  // namespace

int exif_orientation(std::string_view tiff) {
  if (tiff.size() < 8) return 1;
  reader r{tiff, tiff[0] == 'I'};
  if (!(starts_with(tiff, "II") || starts_with(tiff, "MM")) || r.u16(2) != 42) return 1;
  const uint64_t ifd = r.u32(4);
  if (!r.has(ifd, 2)) return 1;
  const uint32_t count = r.u16(ifd);
  for (uint32_t i = 0; i < count && r.has(ifd + 2 + i * 12, 12); ++i) {
    const uint64_t e = ifd + 2 + i * 12;
    if (r.u16(e) == 0x0112 && r.u16(e + 2) == 3) {
      const uint32_t v = r.u16(e + 8);
      return v >= 1 && v <= 8 ? static_cast<int>(v) : 1;
    }
  }
  return 1;
}

std::optional<image_layout> sniff_layout(std::string_view b) {
  image_layout out;
  reader r{b};
  std::string& f = out.header.format;
  if (starts_with(b, "\xFF\xD8\xFF")) {
    f = "JPEG";
    sniff_jpeg(r, out);
  } else if (starts_with(b, "\x89PNG\r\n\x1A\n")) {
    f = "PNG";
    sniff_png(r, out);
  } else if (starts_with(b, "BM")) {
    f = "BMP";
    sniff_bmp(reader{b, true}, out);
  } else if (starts_with(b, "GIF87a") || starts_with(b, "GIF89a")) {
    f = "GIF";
    if (b.size() >= 10) {
      out.header.width = reader{b, true}.u16(6);
      out.header.height = reader{b, true}.u16(8);
    }
  } else if (b.size() >= 8 && (starts_with(b, std::string_view("II*\0", 4)) ||
                               starts_with(b, std::string_view("MM\0*", 4)) ||
                               starts_with(b, std::string_view("II+\0", 4)) ||
                               starts_with(b, std::string_view("MM\0+", 4)))) {
    f = "TIFF";
    sniff_tiff(reader{b, b[0] == 'I'}, out);
  } else if (starts_with(b, "RIFF") && starts_with(b, "WEBP", 8)) {
    f = "WEBP";
    sniff_webp(r, out);
  } else {
    return std::nullopt;
  }
  if (out.header.width <= 0 || out.header.height <= 0) out.header.width = out.header.height = 0;
  return out;
}

std::string check_jpeg_structure(std::string_view b) {
  const reader r{b};
  const size_t n = b.size();
  size_t p = 2;
  for (;;) {
    if (p >= n) return "truncated";
    if (r.byte(p) != 0xFF) {
      ++p;
      continue;
    }
    while (p < n && r.byte(p) == 0xFF) ++p;
    if (p >= n) return "truncated";
    const uint32_t m = r.byte(p++);
    if (m == 0xD9) return "";
    if (is_jpeg_standalone(m)) continue;
    if (!r.has(p, 2)) return "truncated";
    const uint32_t len = r.u16(p);
    if (len < 2) return "corrupt (bad marker length)";
    if (!r.has(p, len)) return "truncated";
    p += len;
    if (m != 0xDA) continue;
    // Entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or an RSTn.
    for (;;) {
      const void* ff = p < n ? std::memchr(b.data() + p, 0xFF, n - p) : nullptr;
      if (ff == nullptr) return "truncated";
      const size_t q = static_cast<size_t>(static_cast<const char*>(ff) - b.data());
      if (q + 1 >= n) return "truncated";
      const uint32_t next = r.byte(q + 1);
      if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
        p = q + 2;
      } else if (next == 0xFF) {
        p = q + 1;
      } else {
        p = q;
        break;
      }
    }
  }
}

std::string check_png_structure(std::string_view b, std::string* rewritten) {
  static const std::string_view iend("\0\0\0\0IEND\xAE\x42\x60\x82", 12);
  const reader r{b};
  uint64_t p = 8, iccp_at = 0, iccp_size = 0;
  bool in_data = false;  // at or after the first IDAT
  std::string tail;      // what follows b[0, p) in the rewritten file
  for (;;) {
    if (!r.has(p, 8)) {
      if (!in_data) return "truncated";
      tail = iend;  // cut between chunks after the image data: PIL has what it needs
      break;
    }
    const uint64_t len = r.u32(p);
    const std::string_view type = b.substr(p + 4, 4);
    if (len > 0x7FFFFFFFu) return "corrupt (bad chunk length)";
    in_data = in_data || type == "IDAT";
    if (type == "IEND" && in_data && !r.has(p + 8, len + 4)) {
      tail = iend;
      break;
    }
    if (!r.has(p + 8, len)) return "truncated";
    if (!r.has(p + 8 + len, 4)) {
      if (!in_data) return "truncated";
      // Data complete, CRC cut: PIL does not read it; libpng needs a correct one.
      const uint32_t crc = crc32(b.substr(p + 4, len + 4));
      for (int k = 3; k >= 0; --k) tail.push_back(static_cast<char>(crc >> (8 * k)));
      tail += iend;
      p += 8 + len;
      break;
    }
    if (!in_data && crc32(b.substr(p + 4, len + 4)) != r.u32(p + 8 + len)) {
      return "corrupt (bad CRC in chunk '" + std::string(type) + "')";
    }
    // Neither PIL nor OpenCV applies the ICC profile; dropping it keeps libpng from printing
    // "iCCP: known incorrect sRGB profile" and the like on stderr for every such file.
    if (type == "iCCP" && !in_data) {
      iccp_at = p;
      iccp_size = 12 + len;
    }
    p += 12 + len;
    if (type == "IEND") {
      if (!in_data) return "corrupt (no image data)";
      if (iccp_size == 0) return "";
      break;
    }
  }
  rewritten->reserve(p - iccp_size + tail.size());
  rewritten->assign(b.substr(0, iccp_size ? iccp_at : p));
  if (iccp_size) rewritten->append(b.substr(iccp_at + iccp_size, p - iccp_at - iccp_size));
  rewritten->append(tail);
  return "";
}

uint64_t bmp_required_size(std::string_view b) {
  const reader r{b, true};
  if (!r.has(14, 4)) return 0;
  const uint32_t dib = r.u32(14);
  uint64_t w = 0, h = 0, bpp = 0, compression = 0;
  if (dib == 12 && r.has(18, 8)) {
    w = r.u16(18);
    h = r.u16(20);
    bpp = r.u16(24);
  } else if (dib >= 40 && r.has(18, 16)) {
    const int64_t sw = static_cast<int32_t>(r.u32(18));
    const int64_t sh = static_cast<int32_t>(r.u32(22));
    w = static_cast<uint64_t>(sw < 0 ? 0 : sw);
    h = static_cast<uint64_t>(sh < 0 ? -sh : sh);
    bpp = r.u16(28);
    compression = r.u32(30);
  } else {
    return 0;
  }
  if (compression != 0 && compression != 3 && compression != 6) return 0;  // RLE, JPEG, PNG
  const uint64_t stride = (w * bpp + 31) / 32 * 4;
  return r.u32(10) + stride * h;
}

}  // namespace ptjs::image_io_detail
