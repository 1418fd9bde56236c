// A host tensor without libtorch: what crosses the boundary between the model (which owns all
// libtorch code) and everything else (postprocess, sinks, HTTP codecs).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace ptjs {

// KServe v2 datatype names: FP32 FP64 FP16 BF16 INT64 INT32 INT16 INT8 UINT8 BOOL.
size_t datatype_size(const std::string& datatype);  // 0 when unknown

struct host_tensor {
  std::string name;
  std::string datatype = "FP32";
  std::vector<int64_t> shape;
  std::vector<char> data;  // C order, native (little-endian) elements

  int64_t numel() const {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
  // Element i converted to double (FP16/BF16 included).
  double at(int64_t i) const;
  // Element i as float, for FP32 data only (no conversion).
  const float* fp32() const { return reinterpret_cast<const float*>(data.data()); }
};

}  // namespace ptjs
