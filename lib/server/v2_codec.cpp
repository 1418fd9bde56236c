#include "v2_codec.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>

#include <nlohmann/json.hpp>

#include "error.h"
#include "sinks.h"

namespace ptjs {
namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string& message) { throw error(error_code::invalid_input, message); }

const std::vector<std::string> numeric_types = {"FP32", "FP64", "FP16", "BF16", "INT64", "INT32",
                                                "INT16", "INT8", "UINT8", "BOOL"};

uint16_t float_to_half(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  const uint32_t sign = (bits >> 16) & 0x8000u;
  const uint32_t abs = bits & 0x7fffffffu;
  if (abs >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0));
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds past 65504
  if (abs < 0x38800000u) {                                                // subnormal or zero
    const float magnitude = std::fabs(value) * 16777216.f;                 // 2^24: units of 2^-24
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(std::nearbyint(magnitude)));
  }
  const uint32_t rounded = abs + 0x0fffu + ((abs >> 13) & 1u);  // round half to even
  return static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
}

uint16_t float_to_bf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  return static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

template <typename T>
void put(std::vector<char>& data, size_t i, T v) {
  std::memcpy(data.data() + i * sizeof(T), &v, sizeof(T));
}

// Appends the leaves of a (possibly nested) JSON array in row-major order.
void flatten(const json& node, std::vector<const json*>& out) {
  if (node.is_array()) {
    for (const auto& child : node) flatten(child, out);
  } else {
    out.push_back(&node);
  }
}

template <typename T>
T integer_in_range(const json& v, const std::string& where) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u <= static_cast<uint64_t>(std::numeric_limits<T>::max())) return static_cast<T>(u);
  } else if (v.is_number_integer()) {
    const auto s = v.get<int64_t>();
    if (s >= static_cast<int64_t>(std::numeric_limits<T>::min()) && s <= static_cast<int64_t>(std::numeric_limits<T>::max()))
      return static_cast<T>(s);
  } else {
    bad(where + ": expected an integer, got " + v.dump());
  }
  bad(where + ": " + v.dump() + " is out of range");
}

// Fills t.data (t.datatype and element count known) from JSON leaves.
void json_to_tensor(const std::vector<const json*>& values, host_tensor& t) {
  const size_t elem = datatype_size(t.datatype);
  t.data.assign(values.size() * elem, 0);
  const std::string& type = t.datatype;
  for (size_t i = 0; i < values.size(); ++i) {
    const json& v = *values[i];
    const std::string where = "input '" + t.name + "' element " + std::to_string(i);
    if (type == "BOOL") {
      if (!v.is_boolean()) bad(where + ": expected true or false, got " + v.dump());
      put<uint8_t>(t.data, i, v.get<bool>() ? 1 : 0);
    } else if (type == "FP32" || type == "FP64" || type == "FP16" || type == "BF16") {
      if (!v.is_number()) bad(where + ": expected a number, got " + v.dump());
      const double d = v.get<double>();
      if (type == "FP64") put<double>(t.data, i, d);
      else if (type == "FP32") put<float>(t.data, i, static_cast<float>(d));
      else if (type == "FP16") put<uint16_t>(t.data, i, float_to_half(static_cast<float>(d)));
      else put<uint16_t>(t.data, i, float_to_bf16(static_cast<float>(d)));
    } else if (type == "INT64") {
      put<int64_t>(t.data, i, integer_in_range<int64_t>(v, where));
    } else if (type == "INT32") {
      put<int32_t>(t.data, i, integer_in_range<int32_t>(v, where));
    } else if (type == "INT16") {
      put<int16_t>(t.data, i, integer_in_range<int16_t>(v, where));
    } else if (type == "INT8") {
      put<int8_t>(t.data, i, integer_in_range<int8_t>(v, where));
    } else {  // UINT8
      put<uint8_t>(t.data, i, integer_in_range<uint8_t>(v, where));
    }
  }
}

// BYTES in the binary extension: each element is a 4-byte little-endian length, then the bytes.
std::vector<std::string> split_binary_bytes(std::string_view data, const std::string& name) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < data.size()) {
    if (data.size() - pos < 4) bad("input '" + name + "': truncated BYTES element length in the binary data");
    const auto* p = reinterpret_cast<const unsigned char*>(data.data() + pos);
    const uint32_t len = p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
    pos += 4;
    if (data.size() - pos < len) bad("input '" + name + "': a BYTES element runs past its binary_data_size");
    out.emplace_back(data.substr(pos, len));
    pos += len;
  }
  return out;
}

const json* member(const json& object, const char* key) {
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

bool bool_parameter(const json& owner, const char* key, const std::string& where) {
  const json* params = member(owner, "parameters");
  if (params == nullptr) return false;
  if (!params->is_object()) bad(where + ": 'parameters' must be an object");
  const json* v = member(*params, key);
  if (v == nullptr) return false;
  if (!v->is_boolean()) bad(where + ": parameter '" + key + "' must be true or false");
  return v->get<bool>();
}

v2_input parse_input(const json& in, size_t index, std::string_view binary, size_t& binary_pos) {
  const std::string where = "inputs[" + std::to_string(index) + "]";
  if (!in.is_object()) bad(where + " must be an object with name, shape, datatype and data");
  v2_input out;
  const json* name = member(in, "name");
  if (name == nullptr || !name->is_string()) bad(where + ": 'name' (a string) is required");
  out.name = name->get<std::string>();
  const std::string label = "input '" + out.name + "'";
  const json* datatype = member(in, "datatype");
  if (datatype == nullptr || !datatype->is_string()) bad(label + ": 'datatype' (a string) is required");
  out.datatype = datatype->get<std::string>();
  const bool is_bytes = out.datatype == "BYTES";
  if (!is_bytes && datatype_size(out.datatype) == 0)
    bad(label + ": unknown datatype '" + out.datatype + "' (accepted: FP32, FP64, FP16, BF16, INT64, INT32, INT16, INT8, UINT8, BOOL, BYTES)");
  const json* shape = member(in, "shape");
  if (shape == nullptr || !shape->is_array()) bad(label + ": 'shape' (an array of integers) is required");
  int64_t count = 1;
  for (const auto& d : *shape) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0) bad(label + ": 'shape' must hold non-negative integers, got " + shape->dump());
    const int64_t v = d.get<int64_t>();
    if (v > 0 && count > std::numeric_limits<int32_t>::max() / v) bad(label + ": shape " + shape->dump() + " is too large");
    count *= v;
    out.shape.push_back(v);
  }

  size_t binary_size = 0;
  bool has_binary = false;
  if (const json* params = member(in, "parameters")) {
    if (!params->is_object()) bad(label + ": 'parameters' must be an object");
    if (const json* size = member(*params, "binary_data_size")) {
      if (!size->is_number_unsigned()) bad(label + ": 'binary_data_size' must be a non-negative integer");
      binary_size = size->get<size_t>();
      has_binary = true;
    }
  }
  const json* data = member(in, "data");
  if (has_binary && data != nullptr) bad(label + ": give either 'data' or parameters.binary_data_size, not both");
  if (!has_binary && data == nullptr) bad(label + ": 'data' is required (or binary data with parameters.binary_data_size)");

  if (has_binary) {
    if (binary.size() - binary_pos < binary_size)
      bad(label + ": binary_data_size " + std::to_string(binary_size) + " runs past the end of the request body");
    const std::string_view chunk = binary.substr(binary_pos, binary_size);
    binary_pos += binary_size;
    out.from_binary = true;
    if (is_bytes) {
      out.bytes = split_binary_bytes(chunk, out.name);
    } else {
      const size_t expected = static_cast<size_t>(count) * datatype_size(out.datatype);
      if (chunk.size() != expected)
        bad(label + ": shape " + shape_text(out.shape) + " of " + out.datatype + " needs " + std::to_string(expected) +
            " bytes of binary data, got " + std::to_string(chunk.size()));
      out.tensor.data.assign(chunk.begin(), chunk.end());
    }
  } else {
    std::vector<const json*> values;
    flatten(*data, values);
    if (static_cast<int64_t>(values.size()) != count)
      bad(label + ": shape " + shape_text(out.shape) + " needs " + std::to_string(count) + " values, got " +
          std::to_string(values.size()));
    if (is_bytes) {
      for (const json* v : values) {
        if (!v->is_string()) bad(label + ": BYTES data must be strings (base64 for binary content), got " + v->dump());
        out.bytes.push_back(v->get<std::string>());
      }
    } else {
      out.tensor.name = out.name;
      out.tensor.datatype = out.datatype;
      json_to_tensor(values, out.tensor);
    }
  }
  if (is_bytes && static_cast<int64_t>(out.bytes.size()) != count)
    bad(label + ": shape " + shape_text(out.shape) + " needs " + std::to_string(count) + " BYTES elements, got " +
        std::to_string(out.bytes.size()));
  out.tensor.name = out.name;
  out.tensor.datatype = is_bytes ? "BYTES" : out.datatype;
  out.tensor.shape = out.shape;
  return out;
}

}  // namespace

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

v2_request parse_v2_request(std::string_view body, std::optional<size_t> header_length) {
  std::string_view text = body;
  std::string_view binary;
  if (header_length) {
    if (*header_length > body.size())
      bad("Inference-Header-Content-Length " + std::to_string(*header_length) + " is larger than the body (" +
          std::to_string(body.size()) + " bytes)");
    text = body.substr(0, *header_length);
    binary = body.substr(*header_length);
  }
  check_json_depth(text);
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {  // parse_error, and out_of_range for numbers like 1e999
    bad(std::string("the request is not valid JSON: ") + e.what());
  }
  if (!doc.is_object()) bad("the request must be a JSON object with 'inputs'");

  v2_request out;
  if (const json* id = member(doc, "id")) {
    if (!id->is_string()) bad("'id' must be a string");
    out.id = id->get<std::string>();
  }
  out.binary_outputs = bool_parameter(doc, "binary_data_output", "the request");
  const json* inputs = member(doc, "inputs");
  if (inputs == nullptr || !inputs->is_array() || inputs->empty()) bad("'inputs' must be a non-empty array");
  size_t binary_pos = 0;
  for (size_t i = 0; i < inputs->size(); ++i) {
    out.inputs.push_back(parse_input((*inputs)[i], i, binary, binary_pos));
    for (size_t j = 0; j + 1 < out.inputs.size(); ++j)
      if (out.inputs[j].name == out.inputs.back().name) bad("input '" + out.inputs.back().name + "' is given twice");
  }
  if (binary_pos != binary.size())
    bad("the binary data holds " + std::to_string(binary.size()) + " bytes but the inputs' binary_data_size add up to " +
        std::to_string(binary_pos));
  if (const json* outputs = member(doc, "outputs")) {
    if (!outputs->is_array()) bad("'outputs' must be an array");
    for (size_t i = 0; i < outputs->size(); ++i) {
      const json& o = (*outputs)[i];
      const std::string where = "outputs[" + std::to_string(i) + "]";
      if (!o.is_object() || member(o, "name") == nullptr || !o["name"].is_string())
        bad(where + " must be an object with a 'name'");
      out.outputs.push_back({o["name"].get<std::string>(), out.binary_outputs, 0});
      if (member(o, "parameters") && member(o["parameters"], "binary_data"))
        out.outputs.back().binary = bool_parameter(o, "binary_data", where);
      if (member(o, "parameters") && o["parameters"].is_object() && member(o["parameters"], "classification")) {
        const json& n = o["parameters"]["classification"];
        if (!n.is_number_integer() || n.get<int64_t>() < 1)
          bad(where + ": parameter 'classification' must be a positive integer (how many classes)");
        out.outputs.back().classification = n.get<int64_t>();
      }
    }
  }
  return out;
}

classified classify(const host_tensor& t, int64_t top, const std::vector<std::string>& labels) {
  if (t.shape.size() != 2 || datatype_size(t.datatype) == 0)
    bad("output '" + t.name + "': classification needs a numeric output of shape [batch, classes], this one is " +
        t.datatype + " " + shape_text(t.shape));
  const int64_t rows = t.shape[0], classes = t.shape[1], n = std::min(top, classes);
  classified out;
  out.shape = {rows, n};
  std::vector<double> value(static_cast<size_t>(classes));
  std::vector<int64_t> order(static_cast<size_t>(classes));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < classes; ++c) value[static_cast<size_t>(c)] = t.at(r * classes + c);
    // NaN ranks below every number (and a comparison with NaN would break the sort's order).
    const auto rank = [&](int64_t c) {
      const double v = value[static_cast<size_t>(c)];
      return std::isnan(v) ? -std::numeric_limits<double>::infinity() : v;
    };
    std::iota(order.begin(), order.end(), int64_t{0});
    std::partial_sort(order.begin(), order.begin() + n, order.end(),
                      [&](int64_t a, int64_t b) { return rank(a) > rank(b) || (rank(a) == rank(b) && a < b); });
    for (int64_t k = 0; k < n; ++k) {
      const int64_t c = order[static_cast<size_t>(k)];
      char number[400];  // "%f" of the largest double: 309 digits and 6 decimals
      std::snprintf(number, sizeof number, "%f", value[static_cast<size_t>(c)]);
      std::string element = std::string(number) + ":" + std::to_string(c);
      if (static_cast<size_t>(c) < labels.size()) element += ":" + labels[static_cast<size_t>(c)];
      out.elements.push_back(std::move(element));
    }
  }
  return out;
}

v2_encoded encode_v2_response(const std::string& model_name, const v2_request& request,
                              const std::vector<host_tensor>& outputs, const std::vector<std::string>& labels) {
  struct chosen_output {
    const host_tensor* tensor;
    bool binary;
    int64_t classification;
  };
  std::vector<chosen_output> chosen;
  if (request.outputs.empty()) {
    for (const auto& t : outputs) chosen.push_back({&t, request.binary_outputs, 0});
  } else {
    for (const auto& wanted : request.outputs) {
      const host_tensor* found = nullptr;
      for (const auto& t : outputs)
        if (t.name == wanted.name) found = &t;
      if (found == nullptr) {
        std::string names;
        for (const auto& t : outputs) names += (names.empty() ? "" : ", ") + t.name;
        bad("the model has no output '" + wanted.name + "' (outputs: " + names + ")");
      }
      chosen.push_back({found, wanted.binary, wanted.classification});
    }
  }
  v2_encoded out;
  std::string binary;
  std::string text = "{\"model_name\":" + json_quote(model_name) + ",\"model_version\":" + json_quote(model_version);
  if (!request.id.empty()) text += ",\"id\":" + json_quote(request.id);
  text += ",\"outputs\":[";
  for (size_t i = 0; i < chosen.size(); ++i) {
    const auto& [t, as_binary, top] = chosen[i];
    if (i) text += ",";
    if (top > 0) {
      const classified c = classify(*t, top, labels);
      text += "{\"name\":" + json_quote(t->name) + ",\"datatype\":\"BYTES\",\"shape\":[" +
              std::to_string(c.shape[0]) + "," + std::to_string(c.shape[1]) + "]";
      if (as_binary) {  // each element: its length as 4 bytes, little-endian, then its bytes
        size_t size = 0;
        for (const auto& e : c.elements) {
          const auto n = static_cast<uint32_t>(e.size());
          for (int b = 0; b < 4; ++b) binary += static_cast<char>((n >> (8 * b)) & 0xffu);
          binary += e;
          size += 4 + e.size();
        }
        text += ",\"parameters\":{\"binary_data_size\":" + std::to_string(size) + "}}";
      } else {
        text += ",\"data\":[";
        for (size_t k = 0; k < c.elements.size(); ++k) text += (k ? "," : "") + json_quote(c.elements[k]);
        text += "]}";
      }
    } else if (as_binary) {
      text += "{\"name\":" + json_quote(t->name) + ",\"datatype\":" + json_quote(t->datatype) + ",\"shape\":[";
      for (size_t d = 0; d < t->shape.size(); ++d) text += (d ? "," : "") + std::to_string(t->shape[d]);
      text += "],\"parameters\":{\"binary_data_size\":" + std::to_string(t->data.size()) + "}}";
      binary.append(t->data.begin(), t->data.end());
    } else {
      text += tensor_to_json(*t);
    }
  }
  text += "]}";
  const bool any_binary = std::any_of(chosen.begin(), chosen.end(), [](const chosen_output& c) { return c.binary; });
  if (any_binary) {
    out.header_length = text.size();
    out.content_type = "application/octet-stream";
    out.body = std::move(text) + binary;
  } else {
    out.content_type = "application/json";
    out.body = std::move(text);
  }
  return out;
}

std::string base64_decode(std::string_view text) {
  if (text.rfind("data:", 0) == 0) {
    const auto comma = text.find(',');
    if (comma == std::string_view::npos || text.substr(0, comma).find(";base64") == std::string_view::npos)
      bad("a data: URL must be base64 encoded (data:<type>;base64,<data>)");
    text.remove_prefix(comma + 1);
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  bool padding = false;
  for (const char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+' || c == '-') v = 62;
    else if (c == '/' || c == '_') v = 63;
    else if (c == '=') { padding = true; continue; }
    else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    else bad("invalid base64: unexpected character '" + std::string(1, c) + "'");
    if (padding) bad("invalid base64: data after '=' padding");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xffu);
    }
  }
  if (bits >= 6) bad("invalid base64: truncated");
  return out;
}

json_brackets scan_json_brackets(std::string_view text) {
  json_brackets out;
  out.first_value_end = text.size();
  bool closed = false;
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      out.max_depth = std::max(out.max_depth, ++depth);
    } else if ((c == ']' || c == '}') && --depth == 0 && !closed) {
      out.first_value_end = i + 1;
      closed = true;
    }
  }
  return out;
}

void check_json_depth(std::string_view text, int max_depth) {
  if (scan_json_brackets(text).max_depth > max_depth)
    throw error(error_code::invalid_input, "the request JSON is nested deeper than " + std::to_string(max_depth) + " levels");
}

}  // namespace ptjs
