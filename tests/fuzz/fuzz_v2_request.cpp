// Fuzz target (b): the KServe v2 infer request parser, JSON and the binary-data extension
// (parse_v2_request), then the response encoder and base64 on what it accepted, as
// `POST /v2/models/{m}/infer` runs them on every request body.
//
// Input layout: the first byte chooses the mode; the rest is the body.
//   byte0 % 3 == 0: JSON only (no Inference-Header-Content-Length)
//   byte0 % 3 == 1: binary extension; the header length is where the top-level JSON value ends
//                   (what a well-behaved client sends), the rest is binary data
//   byte0 % 3 == 2: binary extension; the header length is the next 2 bytes (little-endian),
//                   any value, so lengths past the body or inside the JSON are tried too
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "error.h"
#include "v2_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int mode = data[0] % 3;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::optional<size_t> header_length;
  if (mode == 1) {
    header_length = ptjs::scan_json_brackets(body).first_value_end;
  } else if (mode == 2) {
    if (body.size() < 2) return 0;
    header_length = static_cast<size_t>(static_cast<uint8_t>(body[0]) | static_cast<uint8_t>(body[1]) << 8);
    body.remove_prefix(2);
  }
  ptjs::v2_request request;
  try {
    request = ptjs::parse_v2_request(body, header_length);
  } catch (const ptjs::error& e) {
    if (e.code() != ptjs::error_code::invalid_input) __builtin_trap();  // bad requests are 400s
    return 0;
  }
  // What the parser accepted must be self-consistent: the routes rely on it.
  std::vector<ptjs::host_tensor> outputs;
  for (const auto& in : request.inputs) {
    int64_t count = 1;
    for (auto d : in.shape) count *= d;
    if (in.datatype == "BYTES") {
      if (static_cast<int64_t>(in.bytes.size()) != count) __builtin_trap();
      for (const auto& b : in.bytes) {
        if (in.from_binary) continue;
        try {
          ptjs::base64_decode(b);
        } catch (const ptjs::error&) {
        }
      }
    } else {
      const size_t elem = ptjs::datatype_size(in.datatype);
      if (elem == 0 || in.tensor.data.size() != static_cast<size_t>(count) * elem) __builtin_trap();
      for (int64_t i = 0; i < count && i < 64; ++i) in.tensor.at(i);
      ptjs::host_tensor out = in.tensor;
      out.name = "output" + std::to_string(outputs.size());
      outputs.push_back(std::move(out));
    }
  }
  try {
    ptjs::encode_v2_response("fuzz", request, outputs, {"cat", "dog"});
  } catch (const ptjs::error& e) {
    if (e.code() != ptjs::error_code::invalid_input) __builtin_trap();
  }
  return 0;
}
