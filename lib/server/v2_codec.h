// KServe v2 (Open Inference Protocol) requests and responses: JSON tensors and the binary
// tensor data extension (`Inference-Header-Content-Length`). No libtorch, no httplib.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tensor.h"

namespace ptjs {

// Refuses JSON nested deeper than max_depth (ptjs::error invalid_input) by scanning brackets
// outside strings, before any parser recurses into it: a body of a million '[' must be a 400,
// not a stack overflow.
void check_json_depth(std::string_view text, int max_depth = 64);

// The brackets of `text` outside strings: the deepest nesting, and the index just past the
// bracket that closes the first value (text.size() if it never closes).
struct json_brackets {
  int max_depth = 0;
  size_t first_value_end = 0;
};
json_brackets scan_json_brackets(std::string_view text);

struct v2_input {
  std::string name;
  std::string datatype;  // FP32 ... BOOL, or BYTES
  std::vector<int64_t> shape;
  host_tensor tensor;               // numeric datatypes: name, datatype, shape, little-endian data
  std::vector<std::string> bytes;   // BYTES: one string per element
  bool from_binary = false;         // the data came in the binary part (BYTES: raw, not base64)
};

// Each served model's one version: metadata lists it, responses carry it, versioned paths take it.
inline const std::string model_version = "1";

struct v2_requested_output {
  std::string name;
  bool binary = false;
  // parameters.classification (Triton's classification extension): answer the top N classes of
  // each row as BYTES "value:index[:label]" instead of the tensor; 0: the tensor.
  int64_t classification = 0;
};

struct v2_request {
  std::string id;
  std::vector<v2_input> inputs;
  std::vector<v2_requested_output> outputs;  // empty: every output, each as binary_outputs says
  bool binary_outputs = false;               // request parameters.binary_data_output
};

// Parses a request body. `header_length` is the Inference-Header-Content-Length value when the
// client sent one: the first header_length bytes are JSON, the rest the binary data of the
// inputs that declare parameters.binary_data_size, in input order (BYTES elements each
// prefixed by a 4-byte little-endian length). Throws ptjs::error(invalid_input) naming the
// input and what was expected.
v2_request parse_v2_request(std::string_view body, std::optional<size_t> header_length);

struct v2_encoded {
  std::string body;
  std::string content_type;            // application/json, or application/octet-stream with binary outputs
  std::optional<size_t> header_length; // set when binary outputs follow the JSON
};

// The response for `outputs` (batched model outputs, named output0...). Keeps the outputs the
// request asked for, in its order; throws error(invalid_input) for an output name the model
// does not have, or classification asked of an output that is not [batch, classes]. `labels`
// name the classes of a classification answer (none: "value:index").
v2_encoded encode_v2_response(const std::string& model_name, const v2_request& request,
                              const std::vector<host_tensor>& outputs, const std::vector<std::string>& labels = {});

// Triton's classification answer for a [batch, classes] numeric tensor: a BYTES tensor
// [batch, min(top, classes)], each row's highest values first (ties: lower index first), each
// element "value:index" or "value:index:label" with the value as C's "%f". Throws
// error(invalid_input) for another shape or datatype.
struct classified {
  std::vector<int64_t> shape;
  std::vector<std::string> elements;
};
classified classify(const host_tensor& t, int64_t top, const std::vector<std::string>& labels);

// Standard or URL-safe alphabet, padding optional, whitespace ignored; a `data:...;base64,`
// prefix is skipped. Throws error(invalid_input) for other characters.
std::string base64_decode(std::string_view text);

// "[-1, 4]"
std::string shape_text(const std::vector<int64_t>& shape);

}  // namespace ptjs
