// --report FILE.html for `ptjs eval` and `ptjs compare`: one self-contained page (inline SVG
// charts and CSS, thumbnails as data: URIs, no script, nothing loaded from the network).
// No libtorch here.
#pragma once

#include <string>

#include "comparison.h"
#include "evaluation.h"

namespace ptjs {

std::string evaluation_report(const evaluation& e, const std::string& title);
std::string comparison_report(const comparison& c, const std::string& title);

// Writes `html` to `path`. Throws ptjs::error(invalid_config) naming the path when it cannot.
void write_report(const std::string& path, const std::string& html);

}  // namespace ptjs
