#include "tensor.h"

namespace ptjs {
namespace {

float half_to_float(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400u) == 0) {
        mant <<= 1;
        --exp;
      }
      bits = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

template <typename T>
T load(const std::vector<char>& data, int64_t i) {
  T v;
  std::memcpy(&v, data.data() + i * sizeof(T), sizeof(T));
  return v;
}

}  // namespace

size_t datatype_size(const std::string& t) {
  if (t == "FP32" || t == "INT32") return 4;
  if (t == "FP64" || t == "INT64") return 8;
  if (t == "FP16" || t == "BF16" || t == "INT16") return 2;
  if (t == "INT8" || t == "UINT8" || t == "BOOL") return 1;
  return 0;
}

double host_tensor::at(int64_t i) const {
  if (datatype == "FP32") return load<float>(data, i);
  if (datatype == "FP64") return load<double>(data, i);
  if (datatype == "INT64") return static_cast<double>(load<int64_t>(data, i));
  if (datatype == "INT32") return load<int32_t>(data, i);
  if (datatype == "INT16") return load<int16_t>(data, i);
  if (datatype == "INT8") return load<int8_t>(data, i);
  if (datatype == "UINT8") return load<uint8_t>(data, i);
  if (datatype == "BOOL") return load<uint8_t>(data, i) ? 1.0 : 0.0;
  if (datatype == "FP16") return half_to_float(load<uint16_t>(data, i));
  if (datatype == "BF16") {
    const uint32_t bits = static_cast<uint32_t>(load<uint16_t>(data, i)) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }
  return 0.0;
}

}  // namespace ptjs
