// Human-readable summaries shared by `ptjs validate` and `ptjs info`.
#pragma once

#include <ostream>

#include "model_spec.h"
#include "registry.h"

namespace ptjs {

void print_spec_summary(std::ostream& out, const model_spec& spec, const pipeline& preprocess);

}  // namespace ptjs
