#include "npy.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "error.h"

namespace ptjs {

namespace {

[[noreturn]] void bad(const std::string& name, const std::string& what) {
  throw error(error_code::invalid_input, name + ": not a supported .npy file: " + what);
}

// The value text after 'key': in the header dict, up to the matching delimiter.
std::string dict_value(const std::string& header, const std::string& key, const std::string& name) {
  const size_t k = header.find("'" + key + "'");
  if (k == std::string::npos) bad(name, "header has no '" + key + "'");
  size_t p = header.find(':', k);
  if (p == std::string::npos) bad(name, "malformed header");
  ++p;
  while (p < header.size() && header[p] == ' ') ++p;
  if (p >= header.size()) bad(name, "malformed header");
  if (header[p] == '\'' || header[p] == '"') {
    const size_t e = header.find(header[p], p + 1);
    if (e == std::string::npos) bad(name, "malformed header");
    return header.substr(p + 1, e - p - 1);
  }
  if (header[p] == '(') {
    const size_t e = header.find(')', p);
    if (e == std::string::npos) bad(name, "malformed header");
    return header.substr(p, e - p + 1);
  }
  size_t e = p;
  while (e < header.size() && header[e] != ',' && header[e] != '}') ++e;
  return header.substr(p, e - p);
}

size_t descr_itemsize(const std::string& descr) {
  if (descr.size() < 3 || (descr[0] != '<' && descr[0] != '|' && descr[0] != '=')) return 0;
  const std::string kind = descr.substr(1, 1);
  if (kind != "f" && kind != "u" && kind != "i" && kind != "b") return 0;
  size_t n = 0;
  for (size_t i = 2; i < descr.size(); ++i) {
    if (descr[i] < '0' || descr[i] > '9') return 0;
    n = n * 10 + static_cast<size_t>(descr[i] - '0');
  }
  return (n == 1 || n == 2 || n == 4 || n == 8) ? n : 0;
}

}  // namespace

int64_t npy_array::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

size_t npy_array::itemsize() const { return descr_itemsize(dtype); }

npy_array parse_npy(const std::string& bytes, const std::string& name) {
  static const char magic[] = "\x93NUMPY";
  if (bytes.size() < 10 || std::memcmp(bytes.data(), magic, 6) != 0) bad(name, "missing the \\x93NUMPY magic");
  const auto major = static_cast<uint8_t>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<uint8_t>(bytes[8]) | (static_cast<size_t>(static_cast<uint8_t>(bytes[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) bad(name, "truncated header");
    for (int i = 3; i >= 0; --i) header_len = (header_len << 8) | static_cast<uint8_t>(bytes[8 + i]);
    offset = 12;
  } else {
    bad(name, "format version " + std::to_string(major));
  }
  if (bytes.size() < offset + header_len) bad(name, "truncated header");
  const std::string header = bytes.substr(offset, header_len);
  npy_array a;
  a.dtype = dict_value(header, "descr", name);
  if (a.itemsize() == 0) bad(name, "dtype '" + a.dtype + "' (little-endian bool/int/uint/float only)");
  if (dict_value(header, "fortran_order", name).find("False") == std::string::npos) {
    bad(name, "Fortran order");
  }
  const std::string shape = dict_value(header, "shape", name);
  std::string digits;
  for (size_t i = 1; i < shape.size(); ++i) {
    const char c = shape[i];
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (c == ',' || c == ')') {
      if (!digits.empty()) {
        if (digits.size() > 12) bad(name, "dimension too large");
        a.shape.push_back(std::stoll(digits));
      }
      digits.clear();
    } else if (c != ' ' && c != 'L') {
      bad(name, "malformed shape " + shape);
    }
  }
  const size_t data_bytes = static_cast<size_t>(a.numel()) * a.itemsize();
  if (bytes.size() - offset - header_len != data_bytes) {
    bad(name, "expected " + std::to_string(data_bytes) + " data bytes for shape " + shape + ", found " +
                  std::to_string(bytes.size() - offset - header_len));
  }
  a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(offset + header_len), bytes.end());
  return a;
}

npy_array load_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw error(error_code::not_found, path + ": cannot open");
  const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return parse_npy(bytes, path);
}

void save_npy(const std::string& path, const npy_array& array) {
  if (array.itemsize() == 0) throw error(error_code::internal, "save_npy: unsupported dtype " + array.dtype);
  if (array.data.size() != static_cast<size_t>(array.numel()) * array.itemsize()) {
    throw error(error_code::internal, "save_npy: data size does not match the shape");
  }
  std::string shape = "(";
  for (size_t i = 0; i < array.shape.size(); ++i) {
    shape += std::to_string(array.shape[i]) + (array.shape.size() == 1 ? "," : (i + 1 < array.shape.size() ? ", " : ""));
  }
  shape += ")";
  std::string header = "{'descr': '" + array.dtype + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad with spaces so that the data starts on a 64-byte boundary, ending in '\n' (numpy's layout).
  const size_t unpadded = 10 + header.size() + 1;
  header += std::string((64 - unpadded % 64) % 64, ' ') + "\n";
  std::string out = std::string("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  std::ofstream f(path, std::ios::binary);
  if (!f) throw error(error_code::not_found, path + ": cannot create");
  f.write(out.data(), static_cast<std::streamsize>(out.size()));
  f.write(array.data.data(), static_cast<std::streamsize>(array.data.size()));
  if (!f) throw error(error_code::internal, path + ": write failed");
}

npy_array sample_to_npy(const sample& s) {
  const cv::Mat& m = s.mat;
  npy_array a;
  if (m.depth() == CV_32F) {
    a.dtype = "<f4";
  } else if (m.depth() == CV_8U) {
    a.dtype = "|u1";
  } else {
    throw error(error_code::internal, "sample_to_npy: unsupported element type");
  }
  const int c = m.channels(), h = m.rows, w = m.cols;
  const size_t es = m.elemSize1();
  a.data.resize(static_cast<size_t>(c) * h * w * es);
  if (!s.is_tensor) {
    a.shape = c == 1 ? std::vector<int64_t>{h, w} : std::vector<int64_t>{h, w, c};
    const size_t row = static_cast<size_t>(w) * c * es;
    for (int y = 0; y < h; ++y) std::memcpy(&a.data[y * row], m.ptr(y), row);
    return a;
  }
  a.shape = {c, h, w};
  char* out = a.data.data();
  for (int y = 0; y < h; ++y) {
    const char* row = reinterpret_cast<const char*>(m.ptr(y));
    for (int x = 0; x < w; ++x) {
      for (int ch = 0; ch < c; ++ch) {
        std::memcpy(out + ((static_cast<size_t>(ch) * h + y) * w + x) * es, row + (static_cast<size_t>(x) * c + ch) * es, es);
      }
    }
  }
  return a;
}

sample npy_to_image(const npy_array& array) {
  const bool hw = array.shape.size() == 2;
  const bool hwc = array.shape.size() == 3 && (array.shape[2] == 1 || array.shape[2] == 3);
  if (array.dtype != "|u1" || !(hw || hwc) || array.shape[0] <= 0 || array.shape[1] <= 0 ||
      array.shape[0] > INT32_MAX || array.shape[1] > INT32_MAX) {
    std::ostringstream shape;
    for (int64_t d : array.shape) shape << d << ' ';
    throw error(error_code::invalid_input, "expected a (H, W) or (H, W, 1|3) uint8 array, got dtype " +
                                               array.dtype + " shape [ " + shape.str() + "]");
  }
  const int c = hw ? 1 : static_cast<int>(array.shape[2]);
  sample s;
  s.mat.create(static_cast<int>(array.shape[0]), static_cast<int>(array.shape[1]), CV_8UC(c));
  std::memcpy(s.mat.data, array.data.data(), array.data.size());
  return s;
}

}  // namespace ptjs
