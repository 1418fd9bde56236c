// Conversions between libtorch values and ptjs's plain types, shared by the model backends
// (torchscript_backend.cpp, aoti_backend.cpp) and model.cpp. Includes libtorch headers: only
// those files include it.
#pragma once

#include <string>
#include <vector>

#include <ATen/core/ivalue.h>
#include <ATen/Tensor.h>

#include "tensor.h"

namespace ptjs {

// The line of a libtorch message worth showing: the first, or for an error raised inside
// TorchScript code (a fixed header and a traceback) the last, where its reason is.
std::string first_line(const std::string& text);

// KServe v2 datatype of a scalar type; nullptr for one v2 has no name for.
const char* datatype_of(at::ScalarType type);
// Throws ptjs::error(invalid_input) for a datatype libtorch has no type for.
at::ScalarType scalar_type_of(const std::string& datatype);

// Copies a tensor (any device, any layout) to a C-order host tensor named `name`; a type v2
// has no name for is converted to FP32.
host_tensor to_host(const at::Tensor& tensor, const std::string& name);

// Appends every tensor of a model's output (a tensor, or tuples/lists/dicts of them, in order)
// as output0, output1, ...; None inside a container is an optional output left out.
// Throws ptjs::error(internal) for any other value.
void collect_outputs(const c10::IValue& value, std::vector<host_tensor>& out);

}  // namespace ptjs
