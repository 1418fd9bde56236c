#include "torch_values.h"

#include <ATen/ATen.h>

#include "error.h"

namespace ptjs {

std::string first_line(const std::string& raw) {
  // TorchScript's compile errors (torch::jit::ErrorReport) start with a newline.
  const size_t start = raw.find_first_not_of(" \n");
  const std::string text = start == std::string::npos ? raw : raw.substr(start);
  if (text.rfind("The following operation failed in the TorchScript interpreter", 0) == 0) {
    size_t end = text.find_last_not_of(" \n");
    if (end != std::string::npos) {
      const size_t start = text.find_last_of('\n', end);
      return text.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
    }
  }
  const auto end = text.find('\n');
  return end == std::string::npos ? text : text.substr(0, end);
}

const char* datatype_of(at::ScalarType type) {
  switch (type) {
    case at::kFloat: return "FP32";
    case at::kDouble: return "FP64";
    case at::kHalf: return "FP16";
    case at::kBFloat16: return "BF16";
    case at::kLong: return "INT64";
    case at::kInt: return "INT32";
    case at::kShort: return "INT16";
    case at::kChar: return "INT8";
    case at::kByte: return "UINT8";
    case at::kBool: return "BOOL";
    default: return nullptr;
  }
}

at::ScalarType scalar_type_of(const std::string& datatype) {
  if (datatype == "FP32") return at::kFloat;
  if (datatype == "FP64") return at::kDouble;
  if (datatype == "FP16") return at::kHalf;
  if (datatype == "BF16") return at::kBFloat16;
  if (datatype == "INT64") return at::kLong;
  if (datatype == "INT32") return at::kInt;
  if (datatype == "INT16") return at::kShort;
  if (datatype == "INT8") return at::kChar;
  if (datatype == "UINT8") return at::kByte;
  if (datatype == "BOOL") return at::kBool;
  throw error(error_code::invalid_input, "unsupported datatype '" + datatype + "'");
}

host_tensor to_host(const at::Tensor& tensor, const std::string& name) {
  at::Tensor t = tensor.to(at::kCPU).contiguous();
  const char* datatype = datatype_of(t.scalar_type());
  if (datatype == nullptr) {
    t = t.to(at::kFloat);
    datatype = "FP32";
  }
  host_tensor out;
  out.name = name;
  out.datatype = datatype;
  out.shape.assign(t.sizes().begin(), t.sizes().end());
  const auto* bytes = static_cast<const char*>(t.data_ptr());
  out.data.assign(bytes, bytes + t.numel() * t.element_size());
  return out;
}

void collect_outputs(const c10::IValue& value, std::vector<host_tensor>& out) {
  const auto next_name = [&] { return "output" + std::to_string(out.size()); };
  if (value.isTensor()) {
    out.push_back(to_host(value.toTensor(), next_name()));
  } else if (value.isTuple()) {
    // GoogLeNet's scripted outputs in eval mode are (logits, None, None): a None takes no name.
    for (const auto& element : value.toTupleRef().elements())
      if (!element.isNone()) collect_outputs(element, out);
  } else if (value.isList()) {
    for (const auto& element : value.toListRef())
      if (!element.isNone()) collect_outputs(element, out);
  } else if (value.isGenericDict()) {
    for (const auto& entry : value.toGenericDict())
      if (!entry.value().isNone()) collect_outputs(entry.value(), out);
  } else {
    throw error(error_code::internal, "the model returned " + value.tagKind() +
                                          ", expected a tensor or a tuple/list/dict of tensors");
  }
}

}  // namespace ptjs
