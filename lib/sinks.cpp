#include "sinks.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "error.h"

namespace ptjs {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid.
size_t utf8_length(const std::string& s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t min;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) n = 2, min = 0x80;
  else if ((c & 0xf0) == 0xe0) n = 3, min = 0x800;
  else if ((c & 0xf8) == 0xf0) n = 4, min = 0x10000;
  else return 0;
  if (i + n > s.size()) return 0;
  uint32_t cp = c & (0x7f >> n);
  for (size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

template <typename T>
std::string shortest(T value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, res.ptr);
}

// JSON has no NaN or Infinity: they are written as null, which every parser reads.
std::string json_float(float value) { return std::isfinite(value) ? format_float(value) : "null"; }
std::string json_double(double value) { return std::isfinite(value) ? format_double(value) : "null"; }

void append_element(std::string& out, const host_tensor& t, int64_t i) {
  if (t.datatype == "FP32") {
    out += json_float(t.fp32()[i]);
  } else if (t.datatype == "BOOL") {
    out += t.at(i) != 0.0 ? "true" : "false";
  } else if (t.datatype == "INT64") {
    int64_t v;
    std::memcpy(&v, t.data.data() + i * 8, 8);
    out += std::to_string(v);
  } else if (t.datatype == "FP64" || t.datatype == "FP16" || t.datatype == "BF16") {
    out += json_double(t.at(i));
  } else {
    out += std::to_string(static_cast<int64_t>(t.at(i)));
  }
}

}  // namespace

std::string json_quote(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"') out += "\\\"";
    else if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      const size_t n = utf8_length(text, i);
      if (n == 0) {
        out += "\xef\xbf\xbd";
        ++i;
        continue;
      }
      out.append(text, i, n);
      i += n;
      continue;
    }
    ++i;
  }
  out += '"';
  return out;
}

std::string format_float(float value) { return shortest(value); }
std::string format_double(double value) { return shortest(value); }

std::string format_fixed(double value, int digits) {
  if (std::isnan(value)) return "-";
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

std::string tensor_to_json(const host_tensor& t) {
  std::string out = "{\"name\":" + json_quote(t.name) + ",\"shape\":[";
  for (size_t i = 0; i < t.shape.size(); ++i) out += (i ? "," : "") + std::to_string(t.shape[i]);
  out += "],\"datatype\":" + json_quote(t.datatype) + ",\"data\":[";
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i) {
    if (i) out += ',';
    append_element(out, t, i);
  }
  return out + "]}";
}

std::string record_to_json(const record& r) {
  std::string out = "{\"file\":" + json_quote(r.file);
  if (r.failed()) return out + ",\"error\":" + json_quote(r.error) + "}";
  if (!r.outputs.empty()) {
    out += ",\"outputs\":[";
    for (size_t i = 0; i < r.outputs.size(); ++i) out += (i ? "," : "") + tensor_to_json(r.outputs[i]);
    out += "]";
  }
  if (!r.predictions.empty() || r.outputs.empty()) {
    out += ",\"predictions\":[";
    for (size_t i = 0; i < r.predictions.size(); ++i) {
      const auto& p = r.predictions[i];
      out += (i ? "," : "");
      out += "{\"index\":" + std::to_string(p.index);
      if (!p.label.empty()) out += ",\"label\":" + json_quote(p.label);
      out += ",\"score\":" + json_float(p.score) + "}";
    }
    out += "]";
  }
  return out + "}";
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_header() { return "file,rank,index,label,score,error\n"; }

std::string record_to_csv(const record& r) {
  const std::string file = csv_field(r.file);
  if (r.failed()) return file + ",,,,," + csv_field(r.error) + "\n";
  std::string out;
  for (size_t i = 0; i < r.predictions.size(); ++i) {
    const auto& p = r.predictions[i];
    out += file + "," + std::to_string(i + 1) + "," + std::to_string(p.index) + "," + csv_field(p.label) + "," +
           format_float(p.score) + ",\n";
  }
  if (r.predictions.empty()) out += file + ",,,,,\n";
  return out;
}

record_writer::record_writer(int fd, output_format format, bool write_header) : fd_(fd), format_(format) {
  if (write_header && format_ == output_format::csv) {
    const auto header = csv_header();
    if (::write(fd_, header.data(), header.size()) < 0) throw error(error_code::internal, "cannot write output");
  }
}

void record_writer::write(const std::vector<record>& records) {
  std::string text;
  for (const auto& r : records) text += format_ == output_format::jsonl ? record_to_json(r) + "\n" : record_to_csv(r);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw error(error_code::internal, std::string("cannot write output: ") + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace ptjs
