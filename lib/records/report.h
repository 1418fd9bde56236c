// --report FILE.html for `ptjs eval` and `ptjs compare`: one self-contained page (inline SVG
// charts and CSS, thumbnails as data: URIs, no script, nothing loaded from the network).
// No libtorch here.
#pragma once

#include <string>

#include "comparison.h"
#include "evaluation.h"

namespace ptjs {

// Where one input's time went in `ptjs run` (ms), and when its record was written.
struct input_timing {
  std::string file;
  double decode_ms = 0;
  double preprocess_ms = 0;
  double queue_ms = 0;    // from preprocessed to its forward's start (waiting for its batch and a lane)
  double forward_ms = 0;  // the forward that ran it (shared with its batch)
  double written_s = 0;   // seconds from the start of scoring to its record written
  std::string error;
  bool has_score = false;
  float top1_score = 0;
  double total_ms() const { return decode_ms + preprocess_ms + queue_ms + forward_ms; }
};

struct run_trace {
  std::string model;
  std::vector<input_timing> inputs;  // in input order
  double seconds = 0;                // scoring wall time
  int lanes = 1, batch_size = 1, workers = 1;
};

std::string run_report(const run_trace& trace, const std::string& title);
std::string evaluation_report(const evaluation& e, const std::string& title);
std::string comparison_report(const comparison& c, const std::string& title);

// Writes `html` to `path`. Throws ptjs::error(invalid_config) naming the path when it cannot.
void write_report(const std::string& path, const std::string& html);

}  // namespace ptjs
